/**
 * Registers training kernels for the wasm backend: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter,
 * DepthwiseConv2dNativeBackpropInput/Filter or UnsortedSegmentSum (so no conv net trains on it), its
 * Conv2DBackpropInput is a naive loop, and its MaxPoolGrad drops gradients when channels > 1. Each kernel here returns a tensor built from wasm's fast kernels
 * (see conv-gradients.ts). The engine accepts a Tensor as a kernel's output and does not record the
 * nested ops on the gradient tape (kernelDepth > 0), so these behave like native kernels.
 */
import { tf } from '@thfr/tensor';
import type { Tensor, Tensor4D } from '@thfr/tensor';
import {
  conv2dFilterGradient,
  conv2dInputGradient,
  depthwiseFilterGradient,
  depthwiseInputGradient,
  unsortedSegmentSumByMatMul,
  maxPoolInputGradient,
} from './conv-gradients.js';
import { registerWasmSliceKernels } from './wasm-slice-kernels.js';
import { registerWasmBroadcastKernels } from './wasm-broadcast-kernels.js';
import { borrow, composed, type KernelArgs, type TensorInfo } from './composed-kernel.js';
import { replaceKernel } from './replace-kernel.js';


/** Names of the kernels that `registerWasmTrainingKernels` provides. */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  'MaxPoolGrad',
] as const;

export interface WasmTrainingKernelOptions {
  /** Backend name to register for (default 'wasm'). */
  backendName?: string;
  /** Replace wasm's own (naive, ~10x slower) Conv2DBackpropInput. Default true. */
  replaceBackpropInput?: boolean;
  /**
   * Replace wasm's Slice and SplitV, which copy the whole input out of the heap on every call, with
   * ones that copy only the slice (wasm-slice-kernels.ts). Default true.
   */
  replaceSlice?: boolean;
  /**
   * Replace wasm's comparison, min/max and other binary kernels that broadcast ~20x slower than their same-shape form
   * (the gradient of every max over axes is one) with ones that expand the operands first
   * (wasm-broadcast-kernels.ts). Default true.
   */
  replaceBroadcast?: boolean;
}

/**
 * Registers the composed training kernels for the wasm backend (idempotent). Returns the kernel names
 * it registered or replaced. Call before training on wasm; `initRuntime` does it for you.
 */
export function registerWasmTrainingKernels(options: WasmTrainingKernelOptions = {}): string[] {
  const backendName = options.backendName ?? 'wasm';
  const replaceInput = options.replaceBackpropInput ?? true;
  const registered: string[] = [];
  const register = (kernelName: string, run: (args: KernelArgs) => Tensor) => {
    // Unregistering first keeps tfjs from warning about a duplicate registration.
    replaceKernel(kernelName, backendName, composed(run));
    registered.push(kernelName);
  };

  register('Conv2DBackpropFilter', ({ inputs, attrs = {}, backend }) =>
    conv2dFilterGradient(
      borrow<Tensor4D>(inputs.x, backend),
      borrow<Tensor4D>(inputs.dy, backend),
      attrs.filterShape as [number, number, number, number],
      attrs.strides as [number, number],
      attrs.pad as 'same',
      attrs.dimRoundingMode as undefined,
      attrs.dataFormat as string,
    ),
  );
  if (replaceInput) {
    register('Conv2DBackpropInput', ({ inputs, attrs = {}, backend }) =>
      conv2dInputGradient(
        borrow<Tensor4D>(inputs.dy, backend),
        borrow<Tensor4D>(inputs.filter, backend),
        attrs.inputShape as [number, number, number, number],
        attrs.strides as [number, number],
        attrs.pad as 'same',
        attrs.dimRoundingMode as undefined,
        attrs.dataFormat as string,
      ),
    );
  }
  register('DepthwiseConv2dNativeBackpropFilter', ({ inputs, attrs = {}, backend }) =>
    depthwiseFilterGradient(
      borrow<Tensor4D>(inputs.x, backend),
      borrow<Tensor4D>(inputs.dy, backend),
      attrs.filterShape as [number, number, number, number],
      attrs.strides as [number, number],
      attrs.pad as 'same',
      attrs.dimRoundingMode as undefined,
      attrs.dilations as [number, number],
    ),
  );
  register('DepthwiseConv2dNativeBackpropInput', ({ inputs, attrs = {}, backend }) =>
    depthwiseInputGradient(
      borrow<Tensor4D>(inputs.dy, backend),
      borrow<Tensor4D>(inputs.filter, backend),
      attrs.inputShape as [number, number, number, number],
      attrs.strides as [number, number],
      attrs.pad as 'same',
      attrs.dimRoundingMode as undefined,
      attrs.dilations as [number, number],
    ),
  );
  register('UnsortedSegmentSum', ({ inputs, attrs = {}, backend }) =>
    unsortedSegmentSumByMatMul(borrow(inputs.x, backend), borrow(inputs.segmentIds, backend), attrs.numSegments as number),
  );
  register('MaxPoolGrad', ({ inputs, attrs = {}, backend }) =>
    maxPoolInputGradient(
      borrow<Tensor4D>(inputs.dy, backend),
      borrow<Tensor4D>(inputs.input, backend),
      borrow<Tensor4D>(inputs.output, backend),
      attrs.filterSize as [number, number],
      attrs.strides as [number, number],
      attrs.pad as 'same',
      attrs.dimRoundingMode as undefined,
    ),
  );
  if (options.replaceSlice ?? true) registered.push(...registerWasmSliceKernels(backendName));
  if (options.replaceBroadcast ?? true) registered.push(...registerWasmBroadcastKernels(backendName));
  registered.push(registerSharedIdentity(backendName));
  return registered;
}

/**
 * Identity (what tf.clone and every gradient's saved tensors run) sharing the input's data, as cpu and webgpu do
 * and as wasm's own Reshape does (incRef), instead of wasm's copy: a training step clones ~1,400 tensors, several
 * of them activations. Outputs of every kernel are fresh buffers, so no kernel writes into a shared one.
 */
function registerSharedIdentity(backendName: string): string {
  replaceKernel('Identity', backendName, ({ inputs, backend }: { inputs: { x: TensorInfo }; backend: { incRef(dataId: object): void } }) => {
    const { x } = inputs;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  return 'Identity';
}
