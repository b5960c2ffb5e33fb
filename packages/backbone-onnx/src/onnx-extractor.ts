/**
 * A `FeatureExtractor` that runs an exported ONNX backbone on onnxruntime. The runtime module is passed in
 * (onnxruntime-node from '@thfr/backbone-onnx/node', or onnxruntime-web in a browser), so this file stays
 * browser-safe. Features come back as tfjs tensors on the current tfjs backend, equal to the tfjs backbone's.
 */
import { tf, ShapeError } from '@thfr/tensor';
import { imagesToUnitRange, type BackboneIdentity, type FeatureExtractor, type FeatureLevel } from '@thfr/backbone';
import { readOnnxBackboneInfo, type OnnxBackboneInfo } from './onnx-metadata.js';
import type { ExecutionProviderLike, OnnxRuntimeLike, OrtSessionLike, OrtTensorLike } from './ort-types.js';
import { ortSessionOptions } from './session-options.js';

export interface OnnxExtractorOptions {
  /** onnxruntime's intra-op threads (default: onnxruntime's choice, one per physical core). */
  threads?: number;
  /** Execution providers in order of preference (default ['cpu']). */
  executionProviders?: ExecutionProviderLike[];
  /**
   * Let onnxruntime's intra-op threads spin between runs (default false). Spinning shaves a few ms off back-to-back
   * runs of one session, but thfr alternates two sessions (backbone, network) and tfjs on the same cores: the idle
   * session's spinning threads took the cores from the busy one. Measured at 256 px, batch 1, on 2 cores: full THFR
   * inference 153 ms spinning, 108-116 ms not (docs/benchmarks.md, fifth session).
   */
  allowSpinning?: boolean;
  /** How errors name the model (default: 'ONNX backbone <architecture>'). */
  where?: string;
  /**
   * More onnxruntime session options, underneath thfr's (e.g. `{ enableProfiling: true, profileFilePrefix }`); the
   * options above win, and `extra`'s config entries are merged with the spinning setting (see ortSessionOptions).
   */
  sessionOptions?: Record<string, unknown>;
}

export class OnnxFeatureExtractor implements FeatureExtractor {
  readonly identity: BackboneIdentity;
  readonly levels: FeatureLevel[];
  private disposed = false;
  private inFlight = new Set<Promise<unknown>>();
  /** Resolves once onnxruntime has released the session (after `dispose()`). */
  released?: Promise<void>;

  private constructor(
    private readonly ort: OnnxRuntimeLike,
    private readonly session: OrtSessionLike,
    readonly info: OnnxBackboneInfo,
    readonly where: string,
  ) {
    this.identity = info.identity;
    this.levels = info.levels;
  }

  /**
   * Opens an exported backbone (the bytes of its `.onnx` file) in onnxruntime. Identity and levels come from the
   * file's metadata, so they equal those of the tfjs backbone it was exported from.
   */
  static async create(ort: OnnxRuntimeLike, model: Uint8Array, options: OnnxExtractorOptions = {}): Promise<OnnxFeatureExtractor> {
    const info = readOnnxBackboneInfo(model, options.where ?? 'model.onnx');
    const where = options.where ?? `ONNX backbone ${info.identity.architecture}`;
    const session = await ort.InferenceSession.create(model, ortSessionOptions(options, where));
    const missing = [info.input.name, ...info.levels.map((l) => l.name)].filter((n) => !session.inputNames.includes(n) && !session.outputNames.includes(n));
    if (missing.length > 0) {
      await session.release();
      throw new Error(`${where}: onnxruntime's session lacks [${missing.join(', ')}] (inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}])`);
    }
    return new OnnxFeatureExtractor(ort, session, info, where);
  }

  /** Always throws: onnxruntime's `run` is asynchronous. */
  extract(_images: tf.Tensor4D): tf.Tensor4D[] {
    throw new Error(`${this.where} runs on onnxruntime, whose run() is asynchronous: call extractFeatures(backbone, images) from @thfr/backbone, or backbone.extractAsync(images), instead of extract()`);
  }

  /** One new NHWC tensor per level (the caller disposes them), for `[B, H, W, 3]` RGB images (float32 in [0, 1] or int32 0..255). */
  async extractAsync(images: tf.Tensor4D): Promise<tf.Tensor4D[]> {
    if (this.disposed) throw new Error(`${this.where}: extractAsync() called after dispose()`);
    this.checkInput(images);
    const run = this.runOnce(images);
    this.inFlight.add(run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(run);
    }
  }

  private checkInput(images: tf.Tensor4D): void {
    const { name, batch, height, width } = this.info.input;
    const got = `[${images.shape.join(', ')}] ${images.dtype}`;
    const expected = `[${batch ?? 'B'}, ${height ?? 'H'}, ${width ?? 'W'}, 3] RGB images (float32 in [0, 1] or int32 0..255)`;
    const fits = images.rank === 4 && images.shape[3] === 3 && (images.dtype === 'float32' || images.dtype === 'int32')
      && (batch === null || images.shape[0] === batch) && (height === null || images.shape[1] === height) && (width === null || images.shape[2] === width);
    if (!fits) {
      const fixed = height !== null || batch !== null ? ' (this graph was exported for a fixed size; export without imageSize/batchSize for any size)' : '';
      throw new ShapeError(`${this.where}: input '${name}': expected ${expected}${fixed}, got ${got}`);
    }
  }

  private async runOnce(images: tf.Tensor4D): Promise<tf.Tensor4D[]> {
    const unit = tf.tidy(() => imagesToUnitRange(images, `${this.where}: input '${this.info.input.name}'`));
    let values: Float32Array;
    try {
      values = (await unit.data()) as Float32Array;
    } finally {
      if (unit !== images) unit.dispose();
    }
    const feed = new this.ort.Tensor('float32', values, images.shape);
    let results: Record<string, OrtTensorLike>;
    try {
      results = await this.session.run({ [this.info.input.name]: feed });
    } finally {
      feed.dispose?.();
    }
    const features: tf.Tensor4D[] = [];
    try {
      for (const level of this.levels) features.push(this.toTensor(results[level.name], level, images.shape[0]));
      return features;
    } catch (error) {
      tf.dispose(features);
      throw error;
    } finally {
      for (const result of Object.values(results)) result.dispose?.();
    }
  }

  private toTensor(result: OrtTensorLike | undefined, level: FeatureLevel, batch: number): tf.Tensor4D {
    const dims = result ? [...result.dims] : [];
    if (!result || result.type !== 'float32' || !(result.data instanceof Float32Array) || dims.length !== 4 || dims[0] !== batch || dims[3] !== level.channels) {
      throw new Error(`${this.where}: output '${level.name}': expected float32 [${batch}, h, w, ${level.channels}], got ${result ? `${result.type} [${dims.join(', ')}]` : 'nothing'}`);
    }
    return tf.tensor4d(result.data, dims as [number, number, number, number]);
  }

  /** Releases the onnxruntime session once the extractions in flight have finished; `released` says when. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.released = Promise.allSettled([...this.inFlight]).then(() => this.session.release());
    // Marked as handled: dispose() cannot throw later; whoever awaits `released` still sees a failure.
    this.released.catch(() => undefined);
  }
}
