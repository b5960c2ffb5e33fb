import { tf, missingKernels, MissingKernelError } from '@thfr/tensor';

/**
 * Forward and backward kernels that training a THFR model needs, grouped by the op that needs them
 * (so an error can name the op): conv/deconv layers, batch norm, pooling, resize, the cosine loss and Adam.
 */
export const TRAINING_KERNELS_BY_OP: Readonly<Record<string, readonly string[]>> = {
  conv2d: ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'],
  conv2dTranspose: ['Conv2DBackpropInput', 'Conv2D', 'Conv2DBackpropFilter'],
  matMul: ['BatchMatMul'],
  batchNorm: ['Mean', 'Sub', 'Multiply', 'Rsqrt', 'Sum', 'Add', 'SquaredDifference'],
  relu: ['Relu', 'Step'],
  maxPool: ['MaxPool', 'MaxPoolGrad'],
  avgPool: ['AvgPool', 'AvgPoolGrad'],
  globalMaxPool: ['Max', 'Equal', 'Cast'],
  resizeBilinear: ['ResizeBilinear', 'ResizeBilinearGrad'],
  concat: ['Concat', 'Slice'],
  cosineSimilarity: ['Sum', 'Multiply', 'Sqrt', 'RealDiv', 'Maximum'],
  adam: ['Sqrt', 'Square', 'RealDiv', 'Add', 'Multiply', 'Sub'],
};

export interface TrainingSupport {
  backend: string;
  /** Missing kernels, each with the ops that need it. */
  missing: { kernel: string; neededBy: string[] }[];
}

/** Which training kernels the backend (default: the active one) lacks; empty `missing` means it can train. */
export function checkTrainingSupport(backend: string = tf.getBackend()): TrainingSupport {
  const neededBy = new Map<string, string[]>();
  for (const [op, kernels] of Object.entries(TRAINING_KERNELS_BY_OP)) {
    for (const kernel of missingKernels(kernels, backend)) neededBy.set(kernel, [...(neededBy.get(kernel) ?? []), op]);
  }
  return { backend, missing: [...neededBy].map(([kernel, ops]) => ({ kernel, neededBy: ops })) };
}

/** Throws MissingKernelError (naming the kernels, the ops and the backend) unless the backend can train. */
export function assertTrainingSupport(backend: string = tf.getBackend()): void {
  const { missing } = checkTrainingSupport(backend);
  if (missing.length > 0) {
    const ops = [...new Set(missing.flatMap((m) => m.neededBy))];
    throw new MissingKernelError(backend, missing.map((m) => m.kernel), `training (ops: ${ops.join(', ')})`);
  }
}
