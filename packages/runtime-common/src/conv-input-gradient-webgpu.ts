/**
 * Conv2DBackpropInput for tfjs-backend-webgpu from fast kernels, where they beat tfjs' own (one thread per input
 * element looping over the filter window and every output channel). Measured on an H200 per geometry of a THFR
 * paper training step, kernel time (docs/benchmarks.md):
 *   - the filter tiles the input (1x1 stride-1 convs; the 2x2 stride-2 transposed convs of the decoder and the global
 *     bottleneck, whose forward pass is this kernel): one matMul dy [rows, co] x filter^T, plus a transpose that puts
 *     the kh x kw taps in place when there are several: 1.1-3x faster;
 *   - stride 1, any filter: tfjs' forward conv of dy with the flipped, in/out-swapped filter: 2-3.7x faster for 3x3;
 *   - strided filters that do not tile the input: tfjs' kernel (the zero-dilated dy would cost as much as it saves).
 * Every extra dispatch costs ~0.4 ms of CPU time in Dawn, so each path uses as few kernels as it can: matMul's
 * transpose flag instead of a transposed copy, tf.reverse for the flip.
 */
import { tf } from '@thfr/tensor';
import type { Tensor4D } from '@thfr/tensor';
import { borrow, type KernelArgs } from './composed-kernel.js';
import { replaceKernel } from './replace-kernel.js';

type KernelFunc = (args: KernelArgs) => unknown;

/** Whether the filter tiles the input (kernel = stride, no padding): each input position is read by exactly one tap. */
export function filterTilesInput(info: ReturnType<typeof tf.backend_util.computeConv2DInfo>): boolean {
  return info.filterHeight === info.strideHeight && info.filterWidth === info.strideWidth && info.padInfo.top === 0 && info.padInfo.left === 0
    && info.outHeight * info.strideHeight === info.inHeight && info.outWidth * info.strideWidth === info.inWidth;
}

function inputGradient(args: KernelArgs, fallback: KernelFunc): unknown {
  const { inputs, attrs = {}, backend } = args;
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  const inputShape = attrs.inputShape as [number, number, number, number];
  const filterShape = inputs.filter.shape as [number, number, number, number];
  if (dataFormat !== 'NHWC' || inputs.dy.dtype !== 'float32' || inputs.filter.dtype !== 'float32') return fallback(args);
  const info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, attrs.strides as [number, number], 1, attrs.pad as 'same', attrs.dimRoundingMode as undefined);
  const [kh, kw, ci, co] = filterShape;
  const { strideHeight: sh, strideWidth: sw } = info;
  const tiles = filterTilesInput(info);
  if (!tiles && (sh !== 1 || sw !== 1)) return fallback(args);
  const { batchSize: b, outHeight: oh, outWidth: ow } = info;
  // Stride 1: dx = conv(dy, flipped filter with in/out swapped), padded so that dx has the input's size.
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = info.inHeight + kh - 1 - oh - top;
  const right = info.inWidth + kw - 1 - ow - left;
  if (!tiles && (top < 0 || left < 0 || bottom < 0 || right < 0)) return fallback(args);
  return tf.tidy(() => {
    const dy = borrow<Tensor4D>(inputs.dy, backend);
    const filter = borrow<Tensor4D>(inputs.filter, backend);
    if (tiles) {
      // Each input position is read by exactly one tap of one output position.
      const perTap = tf.matMul(tf.reshape(dy, [b * oh * ow, co]), tf.reshape(filter, [kh * kw * ci, co]), false, true);
      if (kh * kw === 1) return tf.reshape(perTap, inputShape);
      const placed = tf.transpose(tf.reshape(perTap, [b, oh, ow, kh, kw, ci]), [0, 1, 3, 2, 4, 5]);
      return tf.reshape(placed, inputShape);
    }
    const kernel = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as Tensor4D;
    return tf.conv2d(dy, kernel, 1, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  });
}

/**
 * Registers thfr's Conv2DBackpropInput for `backendName` (default webgpu); geometries it does not speed up go to
 * the kernel registered before. Returns a function that puts that kernel back.
 */
export function registerWebGpuConvInputGradient(backendName = 'webgpu'): () => void {
  const previous = tf.getKernel('Conv2DBackpropInput', backendName);
  if (previous == null) throw new Error(`registerWebGpuConvInputGradient: backend '${backendName}' has no Conv2DBackpropInput to fall back on (is tfjs-backend-webgpu loaded?)`);
  const fallback = previous.kernelFunc as unknown as KernelFunc;
  return replaceKernel('Conv2DBackpropInput', backendName, (args: KernelArgs) => inputGradient(args, fallback));
}
