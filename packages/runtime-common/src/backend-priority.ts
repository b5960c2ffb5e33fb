/**
 * Backend names thfr knows and their default order of preference, fastest first. A runtime tries them
 * in order (like onnxruntime's execution-provider list) and keeps the first that initialises.
 */
export type NodeBackendName = 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
export type WebBackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Node: WebGPU through Dawn, tfjs-node(-gpu) when installed, wasm (XNNPACK), then the JS cpu backend. */
export const NODE_BACKEND_PRIORITY: readonly NodeBackendName[] = ['webgpu', 'tensorflow', 'wasm', 'cpu'];
/** Browser: WebGPU, WebGL2, wasm (XNNPACK), then the JS cpu backend. */
export const WEB_BACKEND_PRIORITY: readonly WebBackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/**
 * The backends to try, in order: `forced` alone if given (e.g. from THFR_BACKEND), else `prefer`, else
 * `defaults`. Unknown names are an error that lists the known ones.
 */
export function backendOrder<T extends string>(known: readonly T[], prefer?: readonly string[], forced?: string): T[] {
  const wanted = forced != null && forced !== '' ? [forced] : prefer != null && prefer.length > 0 ? [...prefer] : [...known];
  const unknown = wanted.filter((name) => !known.includes(name as T));
  if (unknown.length > 0) {
    const source = forced ? `THFR_BACKEND=${forced}` : `prefer: [${wanted.join(', ')}]`;
    throw new Error(`Unknown backend ${unknown.map((n) => `'${n}'`).join(', ')} in ${source}; known backends: ${known.join(', ')}`);
  }
  return [...new Set(wanted)] as T[];
}
