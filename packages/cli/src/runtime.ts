import { initRuntime } from '@thfr/runtime-node';
import type { Output } from './output.js';

export const BACKEND_CHOICES = ['webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/**
 * Initialises the tensor runtime: the given backend first (if any), then the runtime's default
 * priority. Says on stderr which backend runs and why the preferred ones were skipped.
 */
export async function setupRuntime(backend: string | undefined, output: Output): Promise<string> {
  if (backend && !(BACKEND_CHOICES as readonly string[]).includes(backend)) {
    throw new Error(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got '${backend}'`);
  }
  const prefer = backend ? [backend as BackendChoice] : undefined;
  const choice = await initRuntime(prefer ? { prefer } : {});
  const skipped = choice.skipped.length ? ` (skipped: ${choice.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : '';
  if (backend && choice.backend !== backend) {
    throw new Error(`backend '${backend}' is not available here${skipped}`);
  }
  output.note(`backend: ${choice.backend}${skipped}`);
  return choice.backend;
}
