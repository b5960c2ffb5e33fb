/**
 * onnxruntime-node's native session, called synchronously. A tfjs kernel must return its output before it returns,
 * and onnxruntime-node's public `InferenceSession.run` only wraps the binding's synchronous `run` in a Promise
 * (dist/backend.js: `setImmediate(() => resolve(session.run(...)))`), so the kernels call the binding itself. The
 * binding is onnxruntime-node's own file (`dist/binding.js`), loaded from the installed package; what this file
 * relies on is checked when it loads and named in the error if a future version moves it.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** A float32 tensor as the binding takes and returns it (onnxruntime-common's Tensor). */
export interface NativeTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

interface BindingSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: Record<string, unknown>): void;
  readonly inputMetadata: Array<{ name: string }>;
  readonly outputMetadata: Array<{ name: string }>;
  run(feeds: Record<string, NativeTensor>, fetches: Record<string, NativeTensor | null>, options: Record<string, unknown>): Record<string, NativeTensor>;
  dispose(): void;
}

export interface NativeOrt {
  /** onnxruntime-node's version. */
  readonly version: string;
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => NativeTensor;
  createSession(model: Uint8Array, options: Record<string, unknown>): NativeSession;
}

/** One loaded model; `run` returns when onnxruntime has finished. */
export class NativeSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  private disposed = false;

  constructor(private readonly session: BindingSession) {
    this.inputNames = session.inputMetadata.map((m) => m.name);
    this.outputNames = session.outputMetadata.map((m) => m.name);
  }

  /** Runs the model; `outputs` may hold tensors for onnxruntime to write into (its pre-allocated outputs). */
  run(feeds: Record<string, NativeTensor>, outputs: Record<string, NativeTensor | null> = {}): Record<string, NativeTensor> {
    if (this.disposed) throw new Error('ort-kernels: a session was used after dispose()');
    const fetches: Record<string, NativeTensor | null> = {};
    for (const name of this.outputNames) fetches[name] = outputs[name] ?? null;
    return this.session.run(feeds, fetches, {});
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.session.dispose();
  }
}

let loaded: NativeOrt | undefined;

/**
 * Loads onnxruntime-node's native binding (once). Throws a message saying how to install onnxruntime-node when it is
 * missing, and which file was expected when the installed version lays its files out differently.
 */
export function loadNativeOrt(): NativeOrt {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve('onnxruntime-node');
  } catch (error) {
    throw new Error(`@thfr/ort-kernels: onnxruntime-node is not installed (${(error as Error).message.split('\n')[0]}); install it next to @thfr/ort-kernels: npm install onnxruntime-node --ignore-scripts (an optional peer dependency; the CPU binary ships in the package)`);
  }
  const bindingPath = join(dirname(entry), 'binding.js');
  const ort = require('onnxruntime-node') as { Tensor: NativeOrt['Tensor']; env?: { versions?: { node?: string } } };
  let binding: { binding?: { InferenceSession?: new () => BindingSession }; initOrt?: () => void };
  try {
    binding = require(bindingPath) as typeof binding;
  } catch (error) {
    throw new Error(`@thfr/ort-kernels: cannot load onnxruntime-node's native binding '${bindingPath}': ${(error as Error).message.split('\n')[0]}`);
  }
  const Session = binding.binding?.InferenceSession;
  if (typeof Session !== 'function' || typeof binding.initOrt !== 'function') {
    throw new Error(`@thfr/ort-kernels: '${bindingPath}' does not export { binding: { InferenceSession }, initOrt } as onnxruntime-node 1.20-1.30 do; this version of onnxruntime-node is not supported`);
  }
  const initOrt = binding.initOrt;
  const version = String((require(join(dirname(entry), '..', 'package.json')) as { version?: string }).version ?? 'unknown');
  loaded = {
    version,
    Tensor: ort.Tensor,
    createSession(model, options) {
      initOrt();
      const session = new Session();
      session.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, options);
      return new NativeSession(session);
    },
  };
  return loaded;
}
