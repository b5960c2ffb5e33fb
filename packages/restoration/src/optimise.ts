import { tf, tunePendingKernels } from '@thfr/tensor';
import { FusedAdam, type Module, type NetworkGraph } from '@thfr/nn';
import { SeededRandom } from '@thfr/detector';
import type { RestorationConfig } from './config.js';
import type { FeatureCache } from './feature-cache.js';
import { restorationLoss } from './loss.js';

/**
 * Phases of a restoration detector's training; THFR adds 'layout' (its layout check, config.templateMinAlignment)
 * and 'bank' (its template bank).
 */
export type TrainPhase = 'features' | 'layout' | 'bank' | 'train' | 'calibrate';

export interface TrainProgress {
  phase: TrainPhase;
  /** Items done / total within the phase (images for features/calibrate, steps for train). */
  done: number;
  total: number;
  epoch?: number;
  epochs?: number;
  loss?: number;
  imagesPerSecond?: number;
  /** A short status for phases without epochs (e.g. the layout check's outcome). */
  detail?: string;
  etaSeconds?: number;
}

/** Everything needed to continue a training run exactly where it stopped. */
export interface TrainingCheckpoint<C extends RestorationConfig = RestorationConfig> {
  /** Epochs completed. */
  epoch: number;
  config: C;
  weights: Map<string, tf.Tensor>;
  optimizer: Array<{ name: string; tensor: tf.Tensor }>;
  randomState: number;
  lossHistory: number[];
}

/** A network that restores backbone features: [I_1..I_K] (+ THFR's template reference) -> [Î_1..Î_K]. */
export interface RestorationNetwork extends Module {
  forward(features: tf.Tensor4D[], template?: tf.Tensor4D): tf.Tensor4D[];
  /**
   * The inference-mode forward as a NetworkGraph (@thfr/nn), for other engines (ONNX export, the PyTorch peer).
   * Inputs: one per backbone level, named as the level, and 'template' when the network takes one; outputs: the
   * restored levels, shallowest first.
   */
  toGraph?(): NetworkGraph;
}

/** The per-run options every restoration trainer takes (checkpoints, resume, abort). */
export interface OptimiseRunOptions<C extends RestorationConfig = RestorationConfig> {
  onProgress?: (progress: TrainProgress) => void;
  /** Called after every `checkpointEvery` epochs with the state to save; the tensors are valid during the call only. */
  onCheckpoint?: (checkpoint: TrainingCheckpoint<C>) => Promise<void> | void;
  checkpointEvery?: number;
  /** Continue from a checkpoint of the same config (weights, Adam moments, RNG, epoch). */
  resumeFrom?: TrainingCheckpoint<C>;
  /** Stop after this many epochs in this call (e.g. to test resuming); the config's epochs stays the target. */
  stopAfterEpochs?: number;
  signal?: AbortSignal;
  /**
   * Read the loss back every this many steps (and at each epoch's end), as one stacked read: each read-back waits for
   * the device, which costs far more on WebGPU through Dawn than a step's dispatches. Progress, the divergence check
   * and the epoch losses are the same, reported up to k - 1 steps later. Default: 8 on webgpu and webgl, else 1.
   */
  lossReadEvery?: number;
}

/** `lossReadEvery`'s default: batch the read-backs where each one is a GPU round trip. */
export function defaultLossReadEvery(backend = tf.getBackend()): number {
  return backend === 'webgpu' || backend === 'webgl' ? 8 : 1;
}

export interface OptimiseOptions<C extends RestorationConfig> extends OptimiseRunOptions<C> {
  network: RestorationNetwork;
  cache: FeatureCache;
  config: C;
  /**
   * The template reference of a batch (THFR), drawn with the run's random stream so that a resumed run
   * draws what the uninterrupted one would have; absent for networks without templates.
   */
  templatesFor?: (batchIndices: Int32Array, random: SeededRandom) => tf.Tensor4D;
}

export interface OptimiseResult {
  lossHistory: number[];
  /** Epochs completed (the config's epochs, or fewer with stopAfterEpochs). */
  epochs: number;
}

/**
 * The optimisation phase shared by restoration detectors: Adam (config.learningRate, config.betas) on the
 * restoration loss over the cached features, shuffled per epoch by a seeded stream (config.seed + 1),
 * with progress, checkpoints, resume, abort and a divergence check. Leaves the network in eval mode.
 */
export async function optimiseRestoration<C extends RestorationConfig>(options: OptimiseOptions<C>): Promise<OptimiseResult> {
  const { network, cache, config } = options;
  const progress = options.onProgress ?? (() => {});
  // Adam over flat buckets: the same update as tf.train.adam (within 1e-6, @thfr/nn's test) with 7-12x fewer
  // kernels per step; its checkpoints are interchangeable with tf.train.adam's.
  const optimizer = new FusedAdam(network.trainableVariables(), { learningRate: config.learningRate, beta1: config.betas[0], beta2: config.betas[1] });
  try {
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
    const n = cache.count;
    // A batch of one would make batch norm after a global pool see a single value: merge it.
    const batchStarts: number[] = [];
    for (let s = 0; s < n; s += config.batchSize) if (n - s > 1 || s === 0) batchStarts.push(s);
    const stepsPerEpoch = batchStarts.length;
    const lastEpoch = Math.min(config.epochs, startEpoch + (options.stopAfterEpochs ?? Infinity));
    const totalSteps = (lastEpoch - startEpoch) * stepsPerEpoch;
    const trainStart = performance.now();
    const readEvery = options.lossReadEvery ?? defaultLossReadEvery();
    if (!(Number.isInteger(readEvery) && readEvery >= 1)) throw new Error(`lossReadEvery must be a positive integer, got ${readEvery}`);
    let stepsDone = 0;
    let epochLoss = 0;
    // Losses not read yet, with what their progress report needs.
    let pending: Array<{ loss: tf.Tensor; images: number; epoch: number; step: number }> = [];
    const readPending = async () => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      let values: Float32Array;
      if (batch.length === 1) {
        values = (await batch[0].loss.data()) as Float32Array;
      } else {
        const stacked = tf.stack(batch.map((p) => p.loss));
        values = (await stacked.data()) as Float32Array;
        stacked.dispose();
      }
      tf.dispose(batch.map((p) => p.loss));
      batch.forEach((p, i) => {
        const value = values[i];
        if (!Number.isFinite(value)) throw new Error(`training diverged: loss is ${value} at epoch ${p.epoch + 1}, step ${p.step + 1}; lower the learning rate`);
        epochLoss += value * p.images;
        stepsDone += 1;
        const elapsed = (performance.now() - trainStart) / 1000;
        progress({
          phase: 'train', done: stepsDone, total: totalSteps, epoch: p.epoch + 1, epochs: config.epochs, loss: value,
          imagesPerSecond: (stepsDone * n) / stepsPerEpoch / elapsed, etaSeconds: (elapsed / stepsDone) * (totalSteps - stepsDone),
        });
      });
    };
    network.train();
    try {
      for (let epoch = startEpoch; epoch < lastEpoch; epoch++) {
        const order = random.permutation(n);
        epochLoss = 0;
        for (let b = 0; b < stepsPerEpoch; b++) {
          if (options.signal?.aborted) throw new Error('training aborted');
          const start = batchStarts[b];
          const end = b + 1 < stepsPerEpoch ? batchStarts[b + 1] : n;
          const batchIndices = order.slice(start, end);
          const features = cache.gather(batchIndices);
          const template = options.templatesFor?.(batchIndices, random);
          const loss = optimizer.minimize(() => restorationLoss(features, network.forward(features, template), config.lossForm));
          tf.dispose([...features, template]);
          pending.push({ loss, images: end - start, epoch, step: b });
          // After the run's first step, kernels chosen by timing (a runtime's 'auto' kernels) time the shapes it met.
          const firstStep = epoch === startEpoch && b === 0;
          if (pending.length >= readEvery || firstStep) await readPending();
          if (firstStep) await tunePendingKernels();
        }
        await readPending();
        // And at each epoch's end, the shapes of a last, smaller batch.
        await tunePendingKernels();
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
    } finally {
      // Losses a throw left unread.
      tf.dispose(pending.map((p) => p.loss));
    }
    network.eval();
    return { lossHistory, epochs: lastEpoch };
  } finally {
    optimizer.dispose();
  }
}
