import { tf } from '@thfr/tensor';
import type { Disposable } from '@thfr/tensor';
import type { TemplateSearchTables } from '@thfr/template-bank';
import { extractFeatures, type FeatureExtractor } from '@thfr/backbone';
import { anomalyMap, standardizeMaps, type MapPositionStatistics } from '@thfr/postprocess';
import { predictInBatches, type DetectorInput, type DetectorPrediction, type ImageExtras } from '@thfr/detector';
import type { NormalStatistics } from './calibration.js';
import type { RestorationConfig } from './config.js';
import type { LevelGeometry } from './geometry.js';
import type { RestorationNetwork } from './optimise.js';

/** The same as DetectorPrediction, as tensors (for callers that keep working on the device, e.g. to draw in a browser). */
export interface RestorationPredictionTensors {
  map: tf.Tensor3D;
  scores: tf.Tensor1D;
  levelMaps: tf.Tensor3D[];
  /** Per image, what the method adds to the prediction (THFR: the template's bank index). */
  extras: ImageExtras[];
}

export interface RestorationPredictOptions {
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Per image, a bank index that must not be used as its template (THFR's leave-one-out on training images). */
  excludeTemplates?: Array<number | undefined>;
  /**
   * true: the papers' map (config.mapNormalization 'none') whatever the config says; what the position statistics
   * are measured on, and the ablation row of `thfr compare`.
   */
  rawMap?: boolean;
}

/** The options predictTensors takes (predict's, less batching and progress). */
export type RestorationBatchOptions = Pick<RestorationPredictOptions, 'excludeTemplates' | 'rawMap'>;

/** How a model was trained, kept in its manifest for reports. */
export interface TrainingSummary {
  epochs: number;
  images: number;
  finalLoss: number;
  seconds: number;
  backend: string;
}

/**
 * Another engine running a model's network for inference, with the same weights (e.g. @thfr/restoration-onnx's
 * OnnxNetworkRunner on onnxruntime). Set with `RestorationModel.useNetworkRunner`.
 */
export interface NetworkRunner extends Disposable {
  /** e.g. 'onnxruntime'. */
  readonly engine: string;
  /** features: the backbone levels; template: when the network takes one. Returns the restored levels (the caller disposes them). */
  run(features: tf.Tensor4D[], template?: tf.Tensor4D): Promise<tf.Tensor4D[]>;
}

/**
 * A method's template search as data (THFR's bank: TemplateBank.searchTables): the query is the flattened
 * `queryLevel` features, reduced as the tables say; the network's template input is the chosen template's `values`.
 */
export type InferenceTemplateSearch = Omit<TemplateSearchTables, 'levels'> & {
  queryLevel: string;
  /** The network's template input per template: [size, ...shape] float32. */
  values: TemplateSearchTables['levels'][number];
};

/**
 * Everything a model's inference computes after the backbone, as data and a recorded network: what an engine needs
 * to run the whole inference in one graph (@thfr/restoration-onnx's pipeline export).
 */
export interface RestorationInferenceSpec {
  /** 'ThfrModel', 'Rd4adModel'. */
  method: string;
  imageSize: number;
  /** The anomaly map's Gaussian sigma (0: none). */
  sigma: number;
  levels: LevelGeometry[];
  network: RestorationNetwork;
  /** The per-position statistics the map is standardized by, when config.mapNormalization is not 'none'. */
  mapStatistics?: MapPositionStatistics;
  /** THFR's template search, when the model uses templates. */
  templates?: InferenceTemplateSearch;
}

/**
 * Another engine running a model's whole inference (backbone, template search, network and map) as one call, with
 * the same weights, templates and statistics (e.g. @thfr/restoration-onnx's OnnxPipelineRunner). Set with
 * `RestorationModel.usePipelineRunner`.
 */
export interface PipelineRunner extends Disposable {
  /** e.g. 'onnxruntime (one graph)'. */
  readonly engine: string;
  /** Images [B, size, size, 3] in [0, 1]; the caller owns the tensors returned. */
  run(images: tf.Tensor4D, options: RestorationBatchOptions): Promise<RestorationPredictionTensors>;
}

/** What a method adds between the backbone and its network: THFR finds and gathers templates. */
export interface TemplateChoice {
  template?: tf.Tensor4D;
  extras: ImageExtras[];
}

/**
 * A trained feature-restoration detector: frozen backbone -> restoration network -> per-level 1 - cosine
 * between features and their restoration, upsampled, summed and smoothed (THFR eq. 4-5, RD4AD's map), image
 * score = max of the map. Methods subclass it for what they add (THFR: the template bank). `dispose`
 * releases everything but the backbone, which the caller passed in and may share.
 */
export abstract class RestorationModel<C extends RestorationConfig = RestorationConfig> implements Disposable {
  public normalStatistics?: NormalStatistics;
  /** Per-position statistics of normal maps (config.mapNormalization 'per-position' or 'texture'), measured at the end of training. */
  public mapStatistics?: MapPositionStatistics;
  public training?: TrainingSummary;
  private runner?: NetworkRunner;
  private pipeline?: PipelineRunner;

  protected constructor(
    readonly config: C,
    readonly backbone: FeatureExtractor,
    readonly levels: LevelGeometry[],
    readonly network: RestorationNetwork,
    /** The class name used in messages ('ThfrModel', 'Rd4adModel'). */
    protected readonly who: string,
  ) {
    network.eval();
  }

  /** The template reference for a batch, if the method uses one (default: none). */
  protected async chooseTemplates(features: tf.Tensor4D[], options: RestorationBatchOptions): Promise<TemplateChoice> {
    void options;
    return { extras: features[0] ? Array.from({ length: features[0].shape[0] }, () => ({})) : [] };
  }

  /** The method's template search as data, if it uses one (default: none). */
  protected async templateSearch(): Promise<InferenceTemplateSearch | undefined> {
    return undefined;
  }

  /**
   * This model's inference after the backbone as data (the network, its geometry, the map's settings and
   * statistics, the template search): what `usePipelineRunner`'s engines are built from. Reads back asynchronously.
   */
  async inferenceSpec(): Promise<RestorationInferenceSpec> {
    const mapStatistics = this.positionStatisticsFor({});
    const templates = await this.templateSearch();
    return {
      method: this.who,
      imageSize: this.config.imageSize,
      sigma: this.config.sigma,
      levels: this.levels.map((l) => ({ ...l })),
      network: this.network,
      ...(mapStatistics ? { mapStatistics } : {}),
      ...(templates ? { templates } : {}),
    };
  }

  /** Bytes held besides the network's weights (THFR: its bank). */
  protected extraMemoryBytes(): Record<string, number> {
    return {};
  }

  /**
   * Runs one batch and returns tensors (the caller owns `map`, `scores` and `levelMaps`). Reads back
   * asynchronously only, so it runs on every backend (WebGPU in Node included).
   */
  async predictTensors(images: tf.Tensor4D, options: RestorationBatchOptions = {}): Promise<RestorationPredictionTensors> {
    this.checkSize(images);
    const statistics = this.positionStatisticsFor(options);
    if (this.pipeline) return this.pipeline.run(images, options);
    const features = await extractFeatures(this.backbone, images);
    let choice: TemplateChoice | undefined;
    try {
      choice = await this.chooseTemplates(features, options);
      const restored = this.runner ? await this.runner.run(features, choice.template) : this.network.forward(features, choice.template);
      try {
        const result = anomalyMap(features, restored, { outputSize: this.config.imageSize, sigma: this.config.sigma });
        if (!statistics) return { map: result.map, scores: result.scores, levelMaps: result.levelMaps, extras: choice.extras };
        const map = standardizeMaps(result.map, statistics);
        tf.dispose([result.map, result.scores]);
        return { map, scores: tf.max(map, [1, 2]) as tf.Tensor1D, levelMaps: result.levelMaps, extras: choice.extras };
      } finally {
        tf.dispose(restored);
      }
    } finally {
      tf.dispose(features);
      choice?.template?.dispose();
    }
  }

  /** Anomaly maps and scores for images (RGB images of any size, or a [B, size, size, 3] tensor in [0, 1]). */
  async predict(images: DetectorInput, options: RestorationPredictOptions = {}): Promise<DetectorPrediction> {
    if (!Array.isArray(images)) this.checkSize(images as tf.Tensor4D);
    return predictInBatches(images, async (batch, start, end) => {
      const out = await this.predictTensors(batch, { excludeTemplates: options.excludeTemplates?.slice(start, end), rawMap: options.rawMap });
      return { map: out.map, scores: out.scores, dispose: out.levelMaps, extras: out.extras };
    }, { batchSize: options.batchSize ?? this.config.batchSize, size: this.config.imageSize, who: `${this.who}.predict images`, onProgress: options.onProgress, signal: options.signal });
  }

  /**
   * Runs the network's inference on another engine from now on (it must hold this network's current weights:
   * set it after training); `undefined` goes back to the tfjs network. The model disposes the runner it holds.
   */
  useNetworkRunner(runner: NetworkRunner | undefined): void {
    if (this.runner && this.runner !== runner) this.runner.dispose();
    this.runner = runner;
  }

  /**
   * Runs the whole inference (backbone, templates, network, map) on another engine from now on: build it from
   * `inferenceSpec()` after training and calibration (it holds the weights, templates and statistics of then);
   * `undefined` goes back to the model's own steps. The model disposes the runner it holds.
   */
  usePipelineRunner(runner: PipelineRunner | undefined): void {
    if (this.pipeline && this.pipeline !== runner) this.pipeline.dispose();
    this.pipeline = runner;
  }

  /** The engine running the network's inference: 'tfjs', the network runner's, or the pipeline runner's. */
  get networkEngine(): string {
    return this.pipeline?.engine ?? this.runner?.engine ?? 'tfjs';
  }

  /** Score relative to normal images: 0 at their mean, 1 at the calibrated threshold. */
  normalizeScore(score: number): number {
    const stats = this.normalStatistics;
    if (!stats) throw new Error(`${this.who}: no normal statistics (train with calibration or load a calibrated model)`);
    const span = stats.threshold - stats.imageScore.mean;
    return span > 0 ? (score - stats.imageScore.mean) / span : score - stats.imageScore.mean;
  }

  /** Bytes held by the network's weights (and the method's extras, e.g. THFR's bank). */
  memoryBytes(): { network: number } & Record<string, number> {
    return { network: this.network.parameterCount() * 4 + this.network.namedBuffers().reduce((s, [, v]) => s + v.size * 4, 0), ...this.extraMemoryBytes() };
  }

  dispose(): void {
    this.pipeline?.dispose();
    this.pipeline = undefined;
    this.runner?.dispose();
    this.runner = undefined;
    this.network.dispose();
  }

  /** The statistics to standardize this call's maps with, or undefined for the papers' map; throws before any work when they are missing. */
  private positionStatisticsFor(options: RestorationBatchOptions): MapPositionStatistics | undefined {
    if (options.rawMap || this.config.mapNormalization === 'none') return undefined;
    if (!this.mapStatistics) {
      throw new Error(`${this.who}: config.mapNormalization is '${this.config.mapNormalization}' but the model has no map statistics (training measures them on the normal images; a saved model holds them in map-statistics.bin)`);
    }
    return this.mapStatistics;
  }

  private checkSize(images: tf.Tensor4D): void {
    const size = this.config.imageSize;
    if (images.shape[1] !== size || images.shape[2] !== size) {
      throw new Error(`${this.who}.predict: images must be ${size}x${size} (the model's imageSize), got ${images.shape[1]}x${images.shape[2]}; use imagesToTensor() to resize`);
    }
  }
}
