import { tf } from '@thfr/tensor';
import type { FeatureExtractor } from '@thfr/backbone';
import type { TemplateBank } from '@thfr/template-bank';
import type { DetectorInput, DetectorPrediction } from '@thfr/detector';
import type { MapPositionStatistics } from '@thfr/postprocess';
import { RestorationModel, type InferenceTemplateSearch, type LevelGeometry, type NormalStatistics, type RestorationBatchOptions, type RestorationPredictOptions, type RestorationPredictionTensors, type TemplateChoice, type TrainingSummary } from '@thfr/restoration';
import type { ThfrConfig } from './config.js';
import type { ThfrNetwork } from './network.js';

export type { TrainingSummary };

/**
 * Anomaly maps and image scores of a batch, read back to plain arrays (image score = max of the smoothed
 * map, paper eq. 5 + Gaussian). extras[i].template is the bank index of image i's template (-1 without).
 */
export interface Prediction extends DetectorPrediction {
  /** Index (in the bank) of the template used for each image; -1 without templates. */
  templateIndices: Int32Array;
}

/** The same, as tensors (for callers that keep working on the device, e.g. to draw in a browser). */
export interface PredictionTensors extends RestorationPredictionTensors {
  templateIndices: Int32Array;
}

export type PredictOptions = RestorationPredictOptions;

/** What a ThfrModel is made of; it owns `network` and `bank` from then on (disposes them), not `backbone`. */
export interface ThfrModelParts {
  config: ThfrConfig;
  backbone: FeatureExtractor;
  levels: LevelGeometry[];
  network: ThfrNetwork;
  /** The template bank (required when config.template). */
  bank?: TemplateBank;
  normalStatistics?: NormalStatistics;
  /** Per-position statistics of normal maps (config.mapNormalization 'per-position' or 'texture'). */
  mapStatistics?: MapPositionStatistics;
  training?: TrainingSummary;
}

/**
 * A trained THFR detector: frozen backbone + template bank + restoration network. `predict` finds each
 * image's nearest template in the bank (image level, paper eq. 1), restores the features with it and
 * returns anomaly maps at the configured size and image scores; `dispose` releases everything but the
 * backbone, which the caller passed in and may share.
 */
export class ThfrModel extends RestorationModel<ThfrConfig> {
  declare readonly network: ThfrNetwork;

  readonly bank: TemplateBank | undefined;

  constructor(parts: ThfrModelParts) {
    super(parts.config, parts.backbone, parts.levels, parts.network, 'ThfrModel');
    this.bank = parts.bank;
    this.normalStatistics = parts.normalStatistics;
    this.mapStatistics = parts.mapStatistics;
    this.training = parts.training;
  }

  /** The template search is read back asynchronously, so it runs on every backend (WebGPU in Node included). */
  protected override async chooseTemplates(features: tf.Tensor4D[], options: RestorationBatchOptions): Promise<TemplateChoice> {
    const batch = features[0].shape[0];
    if (!this.config.template) return { extras: Array.from({ length: batch }, () => ({ template: -1 })) };
    const bank = this.bankOrThrow();
    const found = (await bank.search(features[features.length - 1], { topN: 1, exclude: options.excludeTemplates })).indices;
    const indices = Int32Array.from(found, (candidates) => candidates[0]);
    const [template] = bank.gather(indices);
    return { template, extras: Array.from(indices, (index) => ({ template: index })) };
  }

  /** The bank's search on the deepest level and its first value level (the template reference the network reads), as data. */
  protected override async templateSearch(): Promise<InferenceTemplateSearch | undefined> {
    if (!this.config.template) return undefined;
    const { levels, ...search } = await this.bankOrThrow().searchTables();
    return { ...search, queryLevel: this.levels[this.levels.length - 1].name, values: levels[0] };
  }

  protected override extraMemoryBytes(): Record<string, number> {
    return { bank: this.bank?.memoryBytes() ?? 0 };
  }

  override async predictTensors(images: tf.Tensor4D, options: RestorationBatchOptions = {}): Promise<PredictionTensors> {
    const out = await super.predictTensors(images, options);
    const templateIndices = templateIndicesOf(out.extras);
    // A pipeline runner without templates names none: -1, as chooseTemplates says.
    return { ...out, extras: out.extras.map((e, i) => ({ ...e, template: templateIndices[i] })), templateIndices };
  }

  /** Anomaly maps and scores for images (RGB images of any size, or a [B, size, size, 3] tensor in [0, 1]). */
  override async predict(images: DetectorInput, options: PredictOptions = {}): Promise<Prediction> {
    const prediction = await super.predict(images, options);
    return { ...prediction, templateIndices: templateIndicesOf(prediction.extras) };
  }

  /**
   * For training image i (in the order the model was trained on), its index in the bank, to pass as
   * `excludeTemplates` so that no training image is its own template (leave-one-out, as training calibrates).
   * All undefined without a bank.
   */
  ownTemplateIndices(count: number): Array<number | undefined> {
    const sources = this.bank ? Array.from(this.bank.sourceIndices) : [];
    return Array.from({ length: count }, (_, i) => {
      const at = sources.indexOf(i);
      return at >= 0 ? at : undefined;
    });
  }

  override memoryBytes(): { network: number; bank: number } {
    return super.memoryBytes() as { network: number; bank: number };
  }

  override dispose(): void {
    super.dispose();
    this.bank?.dispose();
  }

  private bankOrThrow(): TemplateBank {
    if (!this.bank) throw new Error('ThfrModel: this model uses templates but has no template bank');
    return this.bank;
  }
}

function templateIndicesOf(extras: ReadonlyArray<Record<string, unknown>>): Int32Array {
  return Int32Array.from(extras, (e) => (typeof e.template === 'number' ? e.template : -1));
}
