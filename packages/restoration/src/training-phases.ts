/**
 * The phases a restoration trainer runs around its optimisation (optimise.ts): prepare (levels, network,
 * memory check, feature cache) and calibrate. THFR puts its template bank between them; RD4AD does not.
 */
import { tf } from '@thfr/tensor';
import type { FeatureExtractor } from '@thfr/backbone';
import { imagesToTensor, type RgbImageLike } from '@thfr/detector';
import { positionStatistics, standardizeLeaveOneOut, type MapPositionStatistics, type PositionStatisticsOptions } from '@thfr/postprocess';
import { calibrateOnNormals } from './calibration.js';
import { codeCellPixels, type RestorationConfig } from './config.js';
import { FeatureCache } from './feature-cache.js';
import { measureLevelsAsync, type LevelGeometry } from './geometry.js';
import { assertTrainingFits, estimateTrainingMemory, type TrainingMemoryEstimate } from './memory-estimate.js';
import type { OptimiseRunOptions, RestorationNetwork, TrainProgress } from './optimise.js';
import type { RestorationBatchOptions, RestorationModel } from './restoration-model.js';
import { checkCalibrationScores, checkResumable } from './training-checks.js';

/** Options of every restoration trainer (trainThfr, trainRd4ad). */
export interface RestorationTrainOptions<C extends RestorationConfig> extends OptimiseRunOptions<C> {
  /** Overrides of the method's default config. */
  config?: Partial<C>;
  /** The config the overrides apply to (the method's default preset when absent). */
  baseConfig?: C;
  /** Normal images held out for calibration; without them, training images are scored leave-one-out. */
  validationImages?: readonly RgbImageLike[];
  /** Called once before any work with the estimated training memory (checked against the wasm heap). */
  onMemoryEstimate?: (estimate: TrainingMemoryEstimate) => void;
}

/** A trained model and its training losses per epoch. */
export interface TrainResult<M> {
  model: M;
  lossHistory: number[];
}

export interface PreparedTraining<N extends RestorationNetwork> {
  levels: LevelGeometry[];
  network: N;
  cache: FeatureCache;
}

/**
 * Checks the inputs, measures the backbone's levels, builds the network, refuses a run that cannot fit the
 * backend's memory (before any feature is computed: the wasm heap stops at 4 GiB and crashes past it; a method
 * that keeps state per training image on the backend says how much with `backendBytesPerImage`), then
 * caches every image's features once (the backbone is frozen). The caller owns network and cache.
 */
export async function prepareTraining<C extends RestorationConfig, N extends RestorationNetwork>(
  who: string,
  backbone: FeatureExtractor,
  images: readonly RgbImageLike[],
  config: C,
  buildNetwork: (levels: LevelGeometry[], config: C) => N,
  options: Pick<RestorationTrainOptions<C>, 'resumeFrom' | 'onMemoryEstimate' | 'onProgress'>,
  backendBytesPerImage: (levels: LevelGeometry[], network: N) => number = () => 0,
): Promise<PreparedTraining<N>> {
  if (images.length < 2) throw new Error(`${who}: need at least 2 normal training images, got ${images.length}`);
  if (options.resumeFrom) checkResumable(config, options.resumeFrom);
  const levels = await measureLevelsAsync(backbone, config.imageSize);
  const network = buildNetwork(levels, config);
  try {
    const memory = estimateTrainingMemory(levels, config, images.length, network.parameterCount(), backendBytesPerImage(levels, network));
    assertTrainingFits(memory, tf.getBackend());
    options.onMemoryEstimate?.(memory);
    const cache = await FeatureCache.build(backbone, images.length, config.batchSize,
      (start, end) => imagesToTensor(images.slice(start, end), config.imageSize),
      (done, total) => options.onProgress?.({ phase: 'features', done, total }));
    return { levels, network, cache };
  } catch (error) {
    network.dispose();
    throw error;
  }
}

/**
 * Records the training summary and calibrates the model on normal images (validation images, else the
 * training images leave-one-out); refuses a collapsed model, disposing it (the caller then has nothing to free). `predictLeaveOneOut` lets a method keep an
 * image from being its own template (THFR); by default calibration predicts plainly. With config.mapNormalization
 * 'per-position' or 'texture' it first measures the position statistics on the training images' maps (leave-one-out: the same
 * maps a held-out normal image of the training distribution would get, as near as the training set allows), so
 * the calibration that follows sees standardized maps.
 */
export async function finishTraining<C extends RestorationConfig>(
  model: RestorationModel<C>,
  images: readonly RgbImageLike[],
  options: Pick<RestorationTrainOptions<C>, 'validationImages' | 'onProgress'>,
  summary: { epochs: number; lossHistory: number[]; started: number },
  predictLeaveOneOut: (images: readonly RgbImageLike[], options: RestorationBatchOptions) => Promise<{ scores: Float32Array; maps: Float32Array[] }> = (list, extra) => model.predict(list, extra),
): Promise<void> {
  const { lossHistory } = summary;
  model.training = { epochs: summary.epochs, images: images.length, finalLoss: lossHistory[lossHistory.length - 1] ?? NaN, seconds: (performance.now() - summary.started) / 1000, backend: tf.getBackend() };
  const onProgress = (done: number, total: number) => options.onProgress?.({ phase: 'calibrate', done, total } satisfies TrainProgress);
  try {
    let standardizedTraining: { scores: Float32Array; maps: Float32Array[] } | undefined;
    if (model.config.mapNormalization !== 'none') {
      onProgress(0, images.length);
      const size = model.config.imageSize;
      const statisticsOptions = mapStatisticsOptions(model.config, model.levels);
      const measured = await measureMapStatistics((list) => predictLeaveOneOut(list, { rawMap: true }), images, size, statisticsOptions);
      model.mapStatistics = measured.statistics;
      // The same training maps serve the calibration below when it runs on the training images, each standardized by
      // the others' statistics: a map standardized by statistics it helped measure scores low, and a threshold set on
      // it would flag normal images (with two images, by both: nothing else is left).
      const maps = measured.maps.length >= 3 ? await standardizeLeaveOneOut(measured.maps, size, size, statisticsOptions) : standardizeMapArrays(measured.maps, measured.statistics);
      standardizedTraining = { maps, scores: Float32Array.from(maps, (map) => map.reduce((max, value) => (value > max ? value : max), -Infinity)) };
    }
    model.normalStatistics = await calibrateOnNormals(
      (list, leaveOneOut) => (leaveOneOut ? (standardizedTraining ? Promise.resolve(standardizedTraining) : predictLeaveOneOut(list, {})) : model.predict(list)),
      images, options.validationImages ?? [],
      onProgress,
    );
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** (map - mean) / std per pixel: standardizeMaps on arrays already read back. */
function standardizeMapArrays(maps: readonly Float32Array[], statistics: MapPositionStatistics): Float32Array[] {
  return maps.map((map) => Float32Array.from(map, (value, k) => (value - statistics.mean[k]) / statistics.std[k]));
}

/** How config.mapNormalization measures its statistics: 'texture' pools the mean over the code grid's phases. */
export function mapStatisticsOptions(config: Pick<RestorationConfig, 'mapNormalization' | 'imageSize'>, levels: ReadonlyArray<{ size: number }>): PositionStatisticsOptions {
  return config.mapNormalization === 'texture' ? { meanPeriod: codeCellPixels(levels, config.imageSize) } : {};
}

/**
 * Per-position statistics of a model's maps on normal images (config.mapNormalization 'per-position' or 'texture',
 * whose options mapStatisticsOptions gives), and the maps they were measured on: `predictRaw` must return the
 * papers' map (predict with rawMap; leave-one-out on training images). Refuses a collapsed model's maps
 * (checkCalibrationScores).
 */
export async function measureMapStatistics(
  predictRaw: (images: readonly RgbImageLike[]) => Promise<{ scores: Float32Array; maps: Float32Array[] }>,
  images: readonly RgbImageLike[],
  imageSize: number,
  options: PositionStatisticsOptions = {},
): Promise<{ statistics: MapPositionStatistics; maps: Float32Array[] }> {
  const raw = await predictRaw(images);
  checkCalibrationScores(raw.scores);
  return { statistics: await positionStatistics(raw.maps, imageSize, imageSize, options), maps: raw.maps };
}
