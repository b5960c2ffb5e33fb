/**
 * The fused training batch norm (@thfr/tensor's THFR_BATCH_NORM_TRAIN and its gradient) for the cpu and wasm
 * backends: the reference arithmetic of batch-norm-kernel.ts on the backend's own buffers (wasm: views of its heap,
 * read in place). Two kernels per layer and step where tfjs ops took ~25. On wasm the two passes of each run in
 * WebAssembly SIMD where the engine has it (batch-norm-simd.ts). WebGPU's are in batch-norm-webgpu.ts.
 */
import {
  tf,
  THFR_BATCH_NORM_TRAIN,
  THFR_BATCH_NORM_TRAIN_GRAD,
  batchNormTrainBackwardValues,
  batchNormTrainForwardValues,
  type BatchNormTrainAttrs,
} from '@thfr/tensor';
import { replaceKernel } from './replace-kernel.js';
import { allocate, channelsOf, read, type KernelArgs, type TensorInfo } from './array-kernel-io.js';
import { batchNormBackwardSimd, batchNormForwardSimd, batchNormSimdFor, simdRows } from './batch-norm-simd.js';

function forward({ inputs, attrs = {}, backend }: KernelArgs, simd: boolean): TensorInfo[] {
  const k = THFR_BATCH_NORM_TRAIN;
  const { x, gamma, beta, runningMean, runningVar } = inputs;
  const channels = channelsOf(x, k, 'x');
  const outputs = allocate(backend, [x.shape, [2, channels], [channels], [channels]]);
  const heap = simd ? batchNormSimdFor(backend) : undefined;
  const layout = heap && simdRows(tf.util.sizeFromShape(x.shape), channels);
  if (heap && layout) {
    batchNormForwardSimd(heap, channels, layout, attrs as unknown as BatchNormTrainAttrs, {
      views: () => {
        const [y, stats, newRunningMean, newRunningVar] = outputs.arrays();
        return {
          x: read(backend, x, k, 'x'), gamma: read(backend, gamma, k, 'gamma'), beta: read(backend, beta, k, 'beta'),
          runningMean: read(backend, runningMean, k, 'runningMean'), runningVar: read(backend, runningVar, k, 'runningVar'), y, stats, newRunningMean, newRunningVar,
        };
      },
    });
    return outputs.infos();
  }
  const [y, stats, newRunningMean, newRunningVar] = outputs.arrays();
  batchNormTrainForwardValues(
    read(backend, x, k, 'x'), channels, read(backend, gamma, k, 'gamma'), read(backend, beta, k, 'beta'),
    read(backend, runningMean, k, 'runningMean'), read(backend, runningVar, k, 'runningVar'), attrs as unknown as BatchNormTrainAttrs,
    { y, stats, newRunningMean, newRunningVar },
  );
  return outputs.infos();
}

function backward({ inputs, attrs = {}, backend }: KernelArgs, simd: boolean): TensorInfo[] {
  const k = THFR_BATCH_NORM_TRAIN_GRAD;
  const { dy, x, stats, gamma, y } = inputs;
  const channels = channelsOf(x, k, 'x');
  const relu = Boolean(attrs.relu);
  const outputs = allocate(backend, [x.shape, [channels], [channels]]);
  const heap = simd ? batchNormSimdFor(backend) : undefined;
  const layout = heap && simdRows(tf.util.sizeFromShape(x.shape), channels);
  if (heap && layout) {
    batchNormBackwardSimd(heap, channels, layout, attrs.epsilon as number, {
      views: () => {
        const [dx, dGamma, dBeta] = outputs.arrays();
        return {
          dy: read(backend, dy, k, 'dy'), x: read(backend, x, k, 'x'), stats: read(backend, stats, k, 'stats'), gamma: read(backend, gamma, k, 'gamma'),
          ...(relu ? { y: read(backend, y, k, 'y') } : {}), dx, dGamma, dBeta,
        };
      },
    });
    return outputs.infos();
  }
  const [dx, dGamma, dBeta] = outputs.arrays();
  batchNormTrainBackwardValues(
    read(backend, dy, k, 'dy'), read(backend, x, k, 'x'), read(backend, stats, k, 'stats'), read(backend, gamma, k, 'gamma'),
    relu ? read(backend, y, k, 'y') : undefined, channels, { epsilon: attrs.epsilon as number, relu }, { dx, dGamma, dBeta },
  );
  return outputs.infos();
}

/** Backends whose buffers these kernels read in place. */
export const ARRAY_BATCH_NORM_BACKENDS = ['cpu', 'wasm'] as const;

export interface BatchNormKernelOptions {
  /**
   * wasm: run the passes in WebAssembly SIMD on the heap (batch-norm-simd.ts) where the engine allows it; false keeps
   * the JavaScript loops (the reference the tests compare with). Default true.
   */
  wasmSimd?: boolean;
}

/**
 * Registers the fused training batch norm for `backendName` ('cpu' or 'wasm'; idempotent: a second call replaces the
 * first's). @thfr/nn's BatchNorm2d uses it whenever the active backend has it. Returns the kernel names.
 */
export function registerBatchNormKernels(backendName: (typeof ARRAY_BATCH_NORM_BACKENDS)[number], options: BatchNormKernelOptions = {}): string[] {
  if (!(ARRAY_BATCH_NORM_BACKENDS as readonly string[]).includes(backendName)) {
    throw new Error(`registerBatchNormKernels: '${backendName}' is not one of ${ARRAY_BATCH_NORM_BACKENDS.join(', ')} (webgpu: registerWebGpuBatchNormKernels)`);
  }
  const simd = backendName === 'wasm' && (options.wasmSimd ?? true);
  for (const [kernelName, kernelFunc] of [[THFR_BATCH_NORM_TRAIN, forward], [THFR_BATCH_NORM_TRAIN_GRAD, backward]] as const) {
    replaceKernel(kernelName, backendName, (args: KernelArgs) => kernelFunc(args, simd));
  }
  return [THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD];
}
