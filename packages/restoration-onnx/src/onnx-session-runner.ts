/**
 * What the network runner and the pipeline runner share: one onnxruntime session opened with thfr's settings
 * (sequential, threads not spinning between runs by default), runs tracked so that `dispose()` releases the session
 * only once the runs in flight have finished.
 */
import { ortSpinningConfig, type OnnxRuntimeLike, type OrtSessionLike } from '@thfr/backbone-onnx';
import type { OnnxNetworkRunnerOptions } from './onnx-network-runner.js';

/** Opens `model` on onnxruntime with the runners' options; `where` names the model in errors. */
export async function openRunnerSession(ort: OnnxRuntimeLike, model: Uint8Array, options: OnnxNetworkRunnerOptions, where: string): Promise<OrtSessionLike> {
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) throw new Error(`${where}: threads must be a positive integer, got ${options.threads}`);
  return ort.InferenceSession.create(model, {
    executionProviders: options.executionProviders ?? ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(options.threads !== undefined ? { intraOpNumThreads: options.threads } : {}),
    extra: ortSpinningConfig(options.allowSpinning ?? false),
  });
}

export abstract class OnnxSessionRunner {
  private disposed = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Resolves once onnxruntime has released the session (after `dispose()`). */
  released?: Promise<void>;

  protected constructor(protected readonly ort: OnnxRuntimeLike, protected readonly session: OrtSessionLike, readonly where: string) {}

  /** Runs `work` as one of this runner's runs: refused after dispose(), waited for by it. */
  protected async tracked<T>(work: () => Promise<T>): Promise<T> {
    if (this.disposed) throw new Error(`${this.where}: run() called after dispose()`);
    const run = work();
    this.inFlight.add(run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(run);
    }
  }

  /** Releases the session once the runs in flight have finished; `released` says when. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.released = Promise.allSettled([...this.inFlight]).then(() => this.session.release());
    this.released.catch(() => undefined);
  }
}
