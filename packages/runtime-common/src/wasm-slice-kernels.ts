/**
 * `Slice` and `SplitV` for the wasm backend without a copy of the whole input per call.
 *
 * tfjs-backend-wasm 4.22's Slice starts with `backend.readSync(x.dataId)`, which copies the entire input
 * out of the wasm heap (HEAPU8.slice) before copying the requested part; its SplitV calls that Slice once
 * per output. Splitting an N-value tensor into n pieces therefore copies n x N values: 99 pieces of a
 * 77k-value buffer took 12 ms, and the cost grows with the product. These kernels read the input
 * through a view of the heap (typedArrayFromHeap), taken after the output is allocated (allocation may
 * grow the heap, which detaches older views of non-shared memory), and copy only what is asked for.
 * Outputs are bit-identical to tfjs' kernels. Strings and non-contiguous slices of rank > 4 fall back
 * to tfjs' own Slice.
 */
import { tf } from '@thfr/tensor';
import { replaceKernel } from './replace-kernel.js';

type TensorInfo = { dataId: object; shape: number[]; dtype: string };
type WasmBackendLike = {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
};
type KernelFunc = (args: { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown }) => unknown;

/** tfjs' own kernels, kept the first time they are replaced (per backend name). */
const originals = new Map<string, KernelFunc>();

function sliceInto(x: TensorInfo, begin: number[], size: number[], backend: WasmBackendLike, fallback: KernelFunc): TensorInfo {
  const strides = tf.util.computeStrides(x.shape);
  const rank = x.shape.length;
  const contiguous = tf.slice_util.isSliceContinous(x.shape, begin, size);
  if (x.dtype === 'string' || (!contiguous && rank > 4)) {
    return fallback({ inputs: { x }, attrs: { begin, size }, backend }) as TensorInfo;
  }
  const out = backend.makeOutput(size, x.dtype);
  const xVals = backend.typedArrayFromHeap(x);
  const outVals = backend.typedArrayFromHeap(out);
  if (contiguous) {
    const offset = tf.slice_util.computeFlatOffset(begin, strides);
    outVals.set(xVals.subarray(offset, offset + tf.util.sizeFromShape(size)));
    return out;
  }
  // Rank 2-4 as rank 4 (leading axes of size 1): copy rows along the last, contiguous axis.
  const pad = 4 - rank;
  const shape4 = [...new Array<number>(pad).fill(1), ...size];
  const begin4 = [...new Array<number>(pad).fill(0), ...begin];
  const strides4 = [...new Array<number>(pad).fill(0), ...strides, 1];
  let outOffset = 0;
  for (let i = 0; i < shape4[0]; i++) {
    for (let j = 0; j < shape4[1]; j++) {
      for (let k = 0; k < shape4[2]; k++) {
        const xOffset = (begin4[0] + i) * strides4[0] + (begin4[1] + j) * strides4[1] + (begin4[2] + k) * strides4[2] + begin4[3];
        outVals.set(xVals.subarray(xOffset, xOffset + shape4[3]), outOffset);
        outOffset += shape4[3];
      }
    }
  }
  return out;
}

/**
 * Replaces the wasm backend's `Slice` and `SplitV` with the view-based ones above (idempotent).
 * Returns the kernel names it registered.
 */
export function registerWasmSliceKernels(backendName = 'wasm'): string[] {
  const original = originals.get(backendName) ?? (tf.getKernel('Slice', backendName)?.kernelFunc as KernelFunc | undefined);
  if (!original) throw new Error(`registerWasmSliceKernels: backend '${backendName}' has no Slice kernel to replace; import @tensorflow/tfjs-backend-wasm first`);
  originals.set(backendName, original);
  const slice: KernelFunc = ({ inputs, attrs = {}, backend }) => {
    const x = inputs.x;
    const [begin, size] = tf.slice_util.parseSliceParams(x as never, attrs.begin as number[], attrs.size as number[]);
    return sliceInto(x, begin, size, backend as WasmBackendLike, original);
  };
  const splitV: KernelFunc = ({ inputs, attrs = {}, backend }) => {
    const x = inputs.x;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as never, attrs.numOrSizeSplits as number[], axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const piece = sliceInto(x, [...begin], size, backend as WasmBackendLike, original);
      begin[axis] += s;
      return piece;
    });
  };
  for (const [kernelName, kernelFunc] of [['Slice', slice], ['SplitV', splitV]] as const) {
    replaceKernel(kernelName, backendName, kernelFunc);
  }
  return ['Slice', 'SplitV'];
}
