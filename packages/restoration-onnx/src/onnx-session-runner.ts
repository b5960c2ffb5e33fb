/**
 * What the network runner and the pipeline runner share: one onnxruntime session opened with thfr's settings
 * (sequential, threads not spinning between runs by default), runs tracked so that `dispose()` releases the session
 * only once the runs in flight have finished.
 */
import { tf } from '@thfr/tensor';
import { ortSessionOptions, type ExecutionProviderLike, type OnnxRuntimeLike, type OrtSessionLike, type OrtTensorLike } from '@thfr/backbone-onnx';

/** How the runners open their session (OnnxNetworkRunnerOptions, OnnxPipelineRunnerOptions). */
export interface OnnxRunnerOptions {
  /** onnxruntime's intra-op threads (default: onnxruntime's choice, one per physical core). */
  threads?: number;
  /** Execution providers in order of preference (default ['cpu']: onnxruntime-node's CPU, onnxruntime-web's wasm). */
  executionProviders?: ExecutionProviderLike[];
  /** Let onnxruntime's threads spin between runs (default false): see OnnxExtractorOptions.allowSpinning. */
  allowSpinning?: boolean;
  /** How errors name the model (default: the runner's). */
  where?: string;
  /**
   * More onnxruntime session options, passed as they are after thfr's (e.g. `{ enableProfiling: true,
   * profileFilePrefix: '/tmp/thfr' }`: onnxruntime writes the per-kernel profile when the runner is disposed, naming
   * the execution provider that ran each node; `extra: { session: { disable_cpu_ep_fallback: '1' } }` to refuse a
   * graph the chosen provider cannot run whole; or `logSeverityLevel`). The options above take precedence, and
   * `extra` is merged with thfr's spinning setting.
   */
  sessionOptions?: Record<string, unknown>;
}

/** What a runner's `read` gets: the session's outputs, checked by name, and `keep` for the tensors it makes. */
export interface SessionResults {
  /** The output `name`, which must be of `type` and `rank` (`expected` says so in the error). */
  output(name: string, type: 'float32' | 'int64', rank: number, expected: string): OrtTensorLike;
  /** Registers a tensor made from the outputs: disposed if `read` throws afterwards. */
  keep<T extends tf.Tensor>(tensor: T): T;
}

/** Opens `model` on onnxruntime with the runners' options; `where` names the model in errors. */
export async function openRunnerSession(ort: OnnxRuntimeLike, model: Uint8Array, options: OnnxRunnerOptions, where: string): Promise<OrtSessionLike> {
  return ort.InferenceSession.create(model, ortSessionOptions(options, where));
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

  /**
   * Runs the session on `feeds` and turns its outputs into what `read` returns; the feeds and the outputs are
   * disposed afterwards, and the tensors `read` kept are disposed if it throws.
   */
  protected async runSession<T>(feeds: Record<string, OrtTensorLike>, read: (results: SessionResults) => T): Promise<T> {
    let results: Record<string, OrtTensorLike>;
    try {
      results = await this.session.run(feeds);
    } finally {
      for (const feed of Object.values(feeds)) feed.dispose?.();
    }
    const kept: tf.Tensor[] = [];
    const output = (name: string, type: 'float32' | 'int64', rank: number, expected: string): OrtTensorLike => {
      const r = results[name];
      const fits = r && r.type === type && r.dims.length === rank && (type !== 'float32' || r.data instanceof Float32Array);
      if (!fits) throw new Error(`${this.where}: output '${name}': expected ${expected}, got ${r ? `${r.type} [${r.dims.join(', ')}]` : 'nothing'}`);
      return r;
    };
    try {
      return read({ output, keep: (tensor) => (kept.push(tensor), tensor) });
    } catch (error) {
      tf.dispose(kept);
      throw error;
    } finally {
      for (const r of Object.values(results)) r.dispose?.();
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
