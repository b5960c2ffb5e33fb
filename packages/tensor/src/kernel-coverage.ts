import * as tf from '@tensorflow/tfjs-core';

/** Thrown before running work that needs kernels a backend does not have. */
export class MissingKernelError extends Error {
  override readonly name = 'MissingKernelError';
  constructor(readonly backend: string, readonly kernels: string[], purpose: string) {
    super(`The '${backend}' backend has no kernel for ${kernels.map((k) => `'${k}'`).join(', ')}, needed for ${purpose}. ` +
      `Choose another backend (initRuntime({ prefer: [...] })) or register the kernels first.`);
  }
}

/** The kernels among `kernelNames` that `backend` (default: the active one) does not implement. */
export function missingKernels(kernelNames: readonly string[], backend = tf.getBackend()): string[] {
  return kernelNames.filter((name) => tf.getKernel(name, backend) == null);
}

export function assertKernels(kernelNames: readonly string[], purpose: string, backend = tf.getBackend()): void {
  const missing = missingKernels(kernelNames, backend);
  if (missing.length > 0) throw new MissingKernelError(backend, missing, purpose);
}

/** Kernels that the backward pass of common training ops needs (beyond the forward kernels). */
export function gradientKernelsOf(op: 'conv2d' | 'conv2dTranspose' | 'depthwiseConv2d' | 'maxPool' | 'avgPool' | 'batchNorm' | 'resizeBilinear'): string[] {
  switch (op) {
    case 'conv2d':
      return ['Conv2DBackpropInput', 'Conv2DBackpropFilter'];
    case 'conv2dTranspose':
      return ['Conv2D', 'Conv2DBackpropFilter'];
    case 'depthwiseConv2d':
      return ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'];
    case 'maxPool':
      return ['MaxPoolGrad'];
    case 'avgPool':
      return ['AvgPoolGrad'];
    case 'batchNorm':
      return ['Rsqrt', 'Sum', 'Mul'];
    case 'resizeBilinear':
      return ['ResizeBilinearGrad'];
  }
}
