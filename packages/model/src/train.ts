import { tf } from '@thfr/tensor';
import { FusedAdam } from '@thfr/nn';
import type { FeatureExtractor } from '@thfr/backbone';
import { TemplateBank } from '@thfr/template-bank';
import { resolveConfig, type ThfrConfig } from './config.js';
import { FeatureCache } from './feature-cache.js';
import { measureLevels } from './geometry.js';
import { imagesToTensor, type RgbImageLike } from './images.js';
import { restorationLoss } from './loss.js';
import { ThfrNetwork } from './network.js';
import { assertTrainingFits, estimateTrainingMemory, type TrainingMemoryEstimate } from './memory-estimate.js';
import { SeededRandom } from './random.js';
import { templateReference } from './template-reference.js';
import { ThfrModel } from './thfr-model.js';
import { normalStatistics } from './calibration.js';
import { checkCalibrationScores, checkResumable } from './training-checks.js';

export type TrainPhase = 'features' | 'bank' | 'train' | 'calibrate';

export interface TrainProgress {
  phase: TrainPhase;
  /** Items done / total within the phase (images for features/calibrate, steps for train). */
  done: number;
  total: number;
  epoch?: number;
  epochs?: number;
  loss?: number;
  imagesPerSecond?: number;
  etaSeconds?: number;
}

/** Everything needed to continue a training run exactly where it stopped. */
export interface TrainingCheckpoint {
  /** Epochs completed. */
  epoch: number;
  config: ThfrConfig;
  weights: Map<string, tf.Tensor>;
  optimizer: Array<{ name: string; tensor: tf.Tensor }>;
  randomState: number;
  lossHistory: number[];
}

export interface TrainOptions {
  /** Overrides of the default config (see DEFAULT_CONFIG / PAPER_CONFIG). */
  config?: Partial<ThfrConfig>;
  /** The config the overrides apply to (default DEFAULT_CONFIG). */
  baseConfig?: ThfrConfig;
  /** Normal images held out for calibration; without them, training images are scored leave-one-out. */
  validationImages?: readonly RgbImageLike[];
  onProgress?: (progress: TrainProgress) => void;
  /** Called after every `checkpointEvery` epochs with the state to save; the tensors are valid during the call only. */
  onCheckpoint?: (checkpoint: TrainingCheckpoint) => Promise<void> | void;
  checkpointEvery?: number;
  /** Continue from a checkpoint of the same config (weights, Adam moments, RNG, epoch). */
  resumeFrom?: TrainingCheckpoint;
  /** Stop after this many epochs in this call (e.g. to test resuming); the config's epochs stays the target. */
  stopAfterEpochs?: number;
  signal?: AbortSignal;
  /** Called once before any work with the estimated training memory (checked against the wasm heap). */
  onMemoryEstimate?: (estimate: TrainingMemoryEstimate) => void;
}

/** Training losses per epoch, kept on the model for reports. */
export interface TrainResult {
  model: ThfrModel;
  lossHistory: number[];
}

/**
 * Trains THFR on normal images: features are computed once (frozen backbone), the bank is built from
 * them, each training image gets its template among its top-n nearest OTHER images, and the network
 * learns to restore the features (Adam, paper settings by default). Returns the calibrated model.
 */
export async function trainThfr(backbone: FeatureExtractor, images: readonly RgbImageLike[], options: TrainOptions = {}): Promise<TrainResult> {
  const config = resolveConfig(options.config, options.baseConfig);
  if (images.length < 2) throw new Error(`trainThfr: need at least 2 normal training images, got ${images.length}`);
  if (options.resumeFrom) checkResumable(config, options.resumeFrom);
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const levels = measureLevels(backbone, config.imageSize);
  let network: ThfrNetwork | undefined = new ThfrNetwork(levels, config);
  let cache: FeatureCache;
  try {
    // Fail before any feature is computed when the run cannot fit (the wasm heap stops at 4 GiB and crashes past it).
    const memory = estimateTrainingMemory(levels, config, images.length, network.parameterCount());
    assertTrainingFits(memory, tf.getBackend());
    options.onMemoryEstimate?.(memory);
    cache = await FeatureCache.build(backbone, images.length, config.batchSize,
      (start, end) => imagesToTensor(images.slice(start, end), config.imageSize),
      (done, total) => progress({ phase: 'features', done, total }));
  } catch (error) {
    network.dispose();
    throw error;
  }
  let fullBank: TemplateBank | undefined;
  let optimizer: FusedAdam | undefined;
  try {
    const codeSize = network.codeSize;
    // Candidates per training image: its top-n nearest other images (never itself), searched once
    // since the features do not change during training.
    let candidates: Int32Array[] = [];
    if (config.template) {
      progress({ phase: 'bank', done: 0, total: images.length });
      const reference = templateReference(cache.levels(), codeSize);
      // Async reads: WebGPU in Node has no synchronous readback.
      fullBank = await TemplateBank.fromFeatures(cache.level(levels.length - 1), [reference], { storage: config.bankStorage });
      reference.dispose();
      const exclude = Array.from({ length: images.length }, (_, i) => i);
      candidates = (await fullBank.search(cache.level(levels.length - 1), { topN: Math.min(config.topN, images.length - 1), exclude })).indices;
      progress({ phase: 'bank', done: images.length, total: images.length });
    }

    // Adam over flat buckets: the same update as tf.train.adam (within 1e-6, @thfr/nn's test) with 7-12x fewer
    // kernels per step; its checkpoints are interchangeable with tf.train.adam's.
    optimizer = new FusedAdam(network.trainableVariables(), { learningRate: config.learningRate, beta1: config.betas[0], beta2: config.betas[1] });
    const random = new SeededRandom(config.seed + 1);
    const lossHistory: number[] = [];
    let startEpoch = 0;
    if (options.resumeFrom) {
      network.loadStateDict(options.resumeFrom.weights, 'checkpoint weights');
      await optimizer.setWeights(options.resumeFrom.optimizer);
      random.setState(options.resumeFrom.randomState);
      startEpoch = options.resumeFrom.epoch;
      lossHistory.push(...options.resumeFrom.lossHistory);
    }
    const n = images.length;
    // A batch of one would make batch norm after the global max pool see a single value: merge it.
    const batchStarts: number[] = [];
    for (let s = 0; s < n; s += config.batchSize) if (n - s > 1 || s === 0) batchStarts.push(s);
    const stepsPerEpoch = batchStarts.length;
    const lastEpoch = Math.min(config.epochs, startEpoch + (options.stopAfterEpochs ?? Infinity));
    const trainStart = performance.now();
    let stepsDone = 0;
    network.train();
    for (let epoch = startEpoch; epoch < lastEpoch; epoch++) {
      const order = random.permutation(n);
      let epochLoss = 0;
      for (let b = 0; b < stepsPerEpoch; b++) {
        if (options.signal?.aborted) throw new Error('training aborted');
        const start = batchStarts[b];
        const end = b + 1 < stepsPerEpoch ? batchStarts[b + 1] : n;
        const batchIndices = order.slice(start, end);
        const features = cache.gather(batchIndices);
        let template: tf.Tensor4D | undefined;
        if (fullBank) {
          const picks = Array.from(batchIndices, (i) => candidates[i][Math.floor(random.next() * candidates[i].length)]);
          [template] = fullBank.gather(picks);
        }
        const loss = optimizer.minimize(() => restorationLoss(features, network!.forward(features, template), config.lossForm));
        const value = (await loss.data())[0];
        tf.dispose([loss, ...features, template]);
        if (!Number.isFinite(value)) throw new Error(`training diverged: loss is ${value} at epoch ${epoch + 1}, step ${b + 1}; lower the learning rate`);
        epochLoss += value * (end - start);
        stepsDone += 1;
        const elapsed = (performance.now() - trainStart) / 1000;
        const totalSteps = (lastEpoch - startEpoch) * stepsPerEpoch;
        progress({
          phase: 'train', done: stepsDone, total: totalSteps, epoch: epoch + 1, epochs: config.epochs, loss: value,
          imagesPerSecond: (stepsDone * n) / stepsPerEpoch / elapsed, etaSeconds: (elapsed / stepsDone) * (totalSteps - stepsDone),
        });
      }
      lossHistory.push(epochLoss / n);
      const every = options.checkpointEvery ?? 0;
      if (options.onCheckpoint && every > 0 && ((epoch + 1) % every === 0 || epoch + 1 === lastEpoch)) {
        const optimizerWeights = await optimizer.getWeights();
        try {
          await options.onCheckpoint({
            epoch: epoch + 1, config, weights: network.stateDict(), optimizer: optimizerWeights,
            randomState: random.getState(), lossHistory: [...lossHistory],
          });
        } finally {
          tf.dispose(optimizerWeights.map((w) => w.tensor));
        }
      }
    }
    network.eval();

    let bank = fullBank;
    if (fullBank && config.bankRatio < 1) {
      bank = await fullBank.subsample(config.bankRatio, { seed: config.seed, signal: options.signal });
      fullBank.dispose();
    }
    fullBank = undefined;
    const model = new ThfrModel(config, backbone, levels, network, bank);
    network = undefined;
    model.training = { epochs: lastEpoch, images: n, finalLoss: lossHistory[lossHistory.length - 1] ?? NaN, seconds: (performance.now() - started) / 1000, backend: tf.getBackend() };
    try {
      await calibrate(model, images, options.validationImages ?? [], progress);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return { model, lossHistory };
  } finally {
    cache.dispose();
    fullBank?.dispose();
    network?.dispose();
    optimizer?.dispose();
  }
}

/** Calibrates on normal images the network did not see as its own template; refuses a collapsed model. */
async function calibrate(model: ThfrModel, images: readonly RgbImageLike[], validation: readonly RgbImageLike[], progress: (p: TrainProgress) => void): Promise<void> {
  const bank = model.bank;
  const calibrationImages = validation.length > 0 ? validation : images;
  const exclude = validation.length > 0 ? undefined : Array.from(calibrationImages, (_, i) => {
    // The bank may have been subsampled: map training index -> bank index.
    if (!bank) return undefined;
    const at = Array.from(bank.sourceIndices).indexOf(i);
    return at >= 0 ? at : undefined;
  });
  progress({ phase: 'calibrate', done: 0, total: calibrationImages.length });
  const prediction = await model.predict(calibrationImages, { excludeTemplates: exclude });
  checkCalibrationScores(prediction.scores);
  let pixelMax = 0;
  for (const map of prediction.maps) for (let i = 0; i < map.length; i++) if (map[i] > pixelMax) pixelMax = map[i];
  model.normalStatistics = normalStatistics(prediction.scores, pixelMax, validation.length > 0 ? 'validation' : 'train-leave-one-out');
  progress({ phase: 'calibrate', done: calibrationImages.length, total: calibrationImages.length });
}
