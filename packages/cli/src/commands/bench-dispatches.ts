import { tf } from '@thfr/tensor';
import { FusedAdam, partitionIntoBuckets } from '@thfr/nn';
import { ThfrNetwork, restorationLoss, type LevelGeometry, type ThfrConfig } from '@thfr/model';
import { activeOrtKernels, withOrtKernels } from '@thfr/ort-kernels';

/** Kernels that launch no work on any backend: shared-data reshapes and clones, and tf.customGrad's wrapper entry. */
const NO_DISPATCH_KERNELS = new Set(['Reshape', 'Identity', 'unnamed scope']);

/**
 * Kernels one call launches (tf.profile), without those of NO_DISPATCH_KERNELS; on webgpu also the compute shaders
 * dispatched (`shaders`: a kernel may run several, e.g. the fused batch norm's 2 and 2), counted where every shader
 * goes through, GPUComputePassEncoder.dispatchWorkgroups: tfjs' programs and thfr's multi-output kernels alike.
 */
export async function countDispatches(fn: () => tf.Tensor): Promise<{ dispatches: number; byKernel: Record<string, number>; shaders?: number }> {
  const pass = tf.getBackend() === 'webgpu'
    ? (globalThis as { GPUComputePassEncoder?: { prototype: { dispatchWorkgroups(...args: unknown[]): void } } }).GPUComputePassEncoder?.prototype
    : undefined;
  const original = pass?.dispatchWorkgroups;
  let shaders = 0;
  if (pass && original) {
    pass.dispatchWorkgroups = function (this: unknown, ...args: unknown[]) {
      shaders++;
      return original.apply(this, args);
    };
  }
  let info: Awaited<ReturnType<typeof tf.profile>>;
  try {
    info = await tf.profile(async () => {
      const out = fn();
      await out.data();
      out.dispose();
    });
  } finally {
    if (pass && original) pass.dispatchWorkgroups = original;
  }
  const byKernel: Record<string, number> = {};
  let dispatches = 0;
  for (const k of info.kernels) {
    if (NO_DISPATCH_KERNELS.has(k.name)) continue;
    dispatches++;
    byKernel[k.name] = (byKernel[k.name] ?? 0) + 1;
  }
  return { dispatches, byKernel, ...(original ? { shaders } : {}) };
}

/** FusedAdam's default bucket size (what training uses). */
const FUSED_ADAM_BUCKET_SIZE = 2 ** 24;

/** How much narrower the twin network is. */
export const DISPATCH_TWIN_WIDTH_DIVISOR = 8;

/**
 * Kernel dispatches of one training step (forward, backward, FusedAdam) of `config`'s network, counted on a twin with
 * the same layers at 1/8 of the channels and batch 1: the count depends on the layers, not on their width or the batch
 * (checked: the default network counts the same at full and at 1/2 and 1/8 width), and the twin fits where the paper
 * network does not (the wasm heap). Two things do depend on the width and are carried over from the full network:
 * FusedAdam's buckets (the full network's partition: the paper network's 132 M parameters take 10 buckets where the
 * twin's would fit one), and, with @thfr/ort-kernels active, which convolutions go to onnxruntime (all of the full
 * network's: minFlops 0 for the twin).
 */
export async function countTrainingStepDispatches(config: ThfrConfig, levels: LevelGeometry[]): Promise<{ dispatches: number; byKernel: Record<string, number>; shaders?: number; optimizerBuckets: number }> {
  // The full network's optimizer buckets, from its variables' sizes (built and freed at once: it fits where its
  // training step does not).
  const full = new ThfrNetwork(levels, config);
  const fullSizes = full.trainableVariables().map((v) => v.size);
  full.dispose();
  const narrow = levels.map((l) => ({ ...l, channels: Math.max(8, Math.round(l.channels / DISPATCH_TWIN_WIDTH_DIVISOR)) }));
  const ortKernels = activeOrtKernels();
  const buckets = partitionIntoBuckets(fullSizes, FUSED_ADAM_BUCKET_SIZE);
  const count = () => countTwinStep(config, narrow, fullSizes.length, buckets);
  const counted = await (ortKernels ? withOrtKernels({ ...ortKernels.options, minFlops: 0 }, count) : count());
  return { ...counted, optimizerBuckets: buckets.length };
}

/** One training step's dispatches of the narrow twin, with the full network's optimizer buckets. */
async function countTwinStep(config: ThfrConfig, narrow: LevelGeometry[], variableCount: number, buckets: number[][]): Promise<{ dispatches: number; byKernel: Record<string, number>; shaders?: number }> {
  const network = new ThfrNetwork(narrow, config);
  const variables = network.trainableVariables();
  if (variables.length !== variableCount) {
    network.dispose();
    throw new Error(`dispatch count: the narrow twin has ${variables.length} variables, the network ${variableCount}`);
  }
  const features = narrow.map((l, i) => tf.randomUniform([1, l.size, l.size, l.channels], 0, 1, 'float32', i) as tf.Tensor4D);
  const template = config.template ? tf.randomUniform([1, network.codeSize, network.codeSize, network.templateChannels], 0, 1, 'float32', 7) as tf.Tensor4D : undefined;
  const optimizer = new FusedAdam(variables, { learningRate: config.learningRate, beta1: config.betas[0], beta2: config.betas[1], buckets });
  try {
    network.train();
    const step = () => optimizer.minimize(() => restorationLoss(features, network.forward(features, template), config.lossForm));
    step().dispose(); // warm-up: the first step creates Adam's state
    return await countDispatches(step);
  } finally {
    optimizer.dispose();
    network.dispose();
    tf.dispose([...features, ...(template ? [template] : [])]);
  }
}
