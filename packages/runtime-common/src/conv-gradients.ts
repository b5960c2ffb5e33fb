/**
 * Convolution gradients composed from plain, fast kernels (slice, pad, concat, reshape, transpose,
 * matMul, conv2d, depthwiseConv2d). They are backend-neutral tensor code: the wasm backend uses them as
 * its missing (or slow) backprop kernels, and tests check them on any backend against tfjs' own.
 *
 * Why these shapes of code (measured on tfjs-backend-wasm 4.22, one thread):
 * - stridedSlice is slow on wasm; plain 4-D slices are row copies. Stride-s taps are picked by a
 *   reshape that moves the row/column parity into their own axes, then plain 4-D slices.
 * - matMul's transposeA/transposeB flags take a slow path (~3 GFLOP/s); an explicit transpose of the
 *   small operand followed by a plain matMul runs at XNNPACK speed.
 * - wasm's own Conv2DBackpropInput is a naive loop (~10x slower than its forward conv); the input
 *   gradient is a forward conv of the zero-dilated dy with the flipped, in/out-swapped filter.
 */
import { tf } from '@thfr/tensor';
import type { Tensor4D } from '@thfr/tensor';
import type { PatchGeometry } from './wasm-patches.js';

export type Conv2DPad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
export type DimRoundingMode = 'floor' | 'round' | 'ceil';

interface Geometry extends Omit<PatchGeometry, 'dilationHeight' | 'dilationWidth'> {
  batch: number;
}

function geometry(
  what: string,
  xShape: number[],
  filterShape: number[],
  strides: number | [number, number],
  pad: Conv2DPad,
  dimRoundingMode: DimRoundingMode | undefined,
  depthwise: boolean,
  dilations: number | [number, number] = 1,
  dataFormat: string = 'NHWC',
): Geometry {
  if (dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${what}: only NHWC data is supported, got dataFormat '${dataFormat}'`);
  }
  const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (dh !== 1 || dw !== 1) throw new Error(`${what}: dilations > 1 are not supported, got [${dh}, ${dw}]`);
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad as 'same',
    dimRoundingMode,
    depthwise,
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * Zero-pads (or crops, for negative amounts) the spatial axes of an NHWC tensor. Padding that is
 * entirely zero returns the input itself.
 */
function padOrCropSpatial(x: Tensor4D, top: number, bottom: number, left: number, right: number, padValue = 0): Tensor4D {
  let out = x;
  const cropTop = Math.max(0, -top);
  const cropBottom = Math.max(0, -bottom);
  const cropLeft = Math.max(0, -left);
  const cropRight = Math.max(0, -right);
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    const [b, h, w, c] = out.shape;
    out = tf.slice(out, [0, cropTop, cropLeft, 0], [b, h - cropTop - cropBottom, w - cropLeft - cropRight, c]);
  }
  const pt = Math.max(0, top);
  const pb = Math.max(0, bottom);
  const pl = Math.max(0, left);
  const pr = Math.max(0, right);
  if (pt + pb + pl + pr > 0) {
    out = tf.pad(out, [[0, 0], [pt, pb], [pl, pr], [0, 0]], padValue);
  }
  return out;
}

/**
 * The (filterHeight * filterWidth) shifted views of the padded input that a strided conv multiplies
 * with its taps, each [batch, outHeight, outWidth, inChannels], in (row, column) tap order.
 */
function convTaps(x: Tensor4D, g: Geometry, padValue = 0): Tensor4D[] {
  const { batch, inHeight, inWidth, inChannels: c, outHeight: oh, outWidth: ow } = g;
  const sh = g.strideHeight;
  const sw = g.strideWidth;
  // Padded extent: a multiple of the stride and large enough for every tap's window.
  const paddedHeight = sh * (oh + Math.ceil(g.filterHeight / sh));
  const paddedWidth = sw * (ow + Math.ceil(g.filterWidth / sw));
  const xPadded = padOrCropSpatial(x, g.padTop, paddedHeight - inHeight - g.padTop, g.padLeft, paddedWidth - inWidth - g.padLeft, padValue);
  // phases[p][q] holds rows p, p+sh, ... and columns q, q+sw, ... of the padded input.
  const phases: Tensor4D[][] = [];
  if (sh === 1 && sw === 1) {
    phases.push([xPadded]);
  } else {
    const folded = tf.reshape(xPadded, [batch * (paddedHeight / sh), sh, paddedWidth / sw, sw * c]);
    for (let p = 0; p < sh; p++) {
      const row: Tensor4D[] = [];
      for (let q = 0; q < sw; q++) {
        const phase = tf.slice(folded, [0, p, 0, q * c], [batch * (paddedHeight / sh), 1, paddedWidth / sw, c]);
        row.push(tf.reshape(phase, [batch, paddedHeight / sh, paddedWidth / sw, c]));
      }
      phases.push(row);
    }
  }
  const taps: Tensor4D[] = [];
  for (let kh = 0; kh < g.filterHeight; kh++) {
    for (let kw = 0; kw < g.filterWidth; kw++) {
      const phase = phases[kh % sh][kw % sw];
      taps.push(tf.slice(phase, [0, Math.floor(kh / sh), Math.floor(kw / sw), 0], [batch, oh, ow, c]));
    }
  }
  return taps;
}

/** Gradient of conv2d(x, filter) with respect to the filter, given the output gradient dy. */
export function conv2dFilterGradient(
  x: Tensor4D,
  dy: Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Conv2DPad,
  dimRoundingMode?: DimRoundingMode,
  dataFormat?: string,
): Tensor4D {
  return tf.tidy(() => {
    const g = geometry('Conv2DBackpropFilter', x.shape, filterShape, strides, pad, dimRoundingMode, false, 1, dataFormat);
    const [kh, kw, ci, co] = filterShape;
    const rows = g.batch * g.outHeight * g.outWidth;
    // dyT [co, rows] is the smaller operand to transpose (the im2col matrix is kh*kw times larger).
    // One matMul per tap instead of one on the concatenated im2col matrix saves copying that matrix
    // (measured: 245 ms for the 9 products versus 280 ms + 120 ms for concat and one product).
    const dyT = tf.transpose(tf.reshape(dy, [rows, co]));
    const perTap = convTaps(x, g).map((tap) => tf.matMul(dyT, tf.reshape(tap, [rows, ci])));
    const product = perTap.length === 1 ? perTap[0] : tf.concat(perTap, 1); // [co, kh*kw*ci]
    return tf.reshape(tf.transpose(product), [kh, kw, ci, co]);
  });
}

/**
 * Inserts (stride - 1) zeros between the rows and columns of dy: [b, h, w, c] ->
 * [b, (h-1)*sh+1, (w-1)*sw+1, c], using one 4-D pad on a reshaped view.
 */
function zeroDilate(dy: Tensor4D, sh: number, sw: number): Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [b, h, w, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [b * h, 1, w, c]), [[0, 0], [0, sh - 1], [0, 0], [0, (sw - 1) * c]]);
  const full = tf.reshape(spread, [b, h * sh, w * sw, c]) as Tensor4D;
  return tf.slice(full, [0, 0, 0, 0], [b, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

/**
 * The filter spatially flipped: its kh * kw taps in reverse order. wasm's Reverse kernel is an
 * element-wise loop (18.8 ms for a 3x3x256x256 filter); one slice per tap and a concat are row copies
 * (0.8 ms).
 */
function flipSpatially(filter: Tensor4D): Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  if (kh * kw === 1) return filter;
  const taps = tf.reshape(filter, [kh * kw, ci * co]);
  const reversed: tf.Tensor[] = [];
  for (let t = kh * kw - 1; t >= 0; t--) reversed.push(tf.slice(taps, [t, 0], [1, ci * co]));
  return tf.reshape(tf.concat(reversed, 0), [kh, kw, ci, co]);
}

/** The filter of the transposed convolution: spatially flipped, in/out channels swapped. */
function flippedSwapped(filter: Tensor4D): Tensor4D {
  return tf.transpose(flipSpatially(filter), [0, 1, 3, 2]);
}

/**
 * True when every input position is read by exactly one tap of exactly one output position: the
 * filter equals the stride, there is no padding and the outputs tile the input (1x1 stride-1 convs,
 * and the 2x2 stride-2 transposed convs of decoders and bottlenecks).
 */
function tilesInput(g: Geometry): boolean {
  return g.filterHeight === g.strideHeight && g.filterWidth === g.strideWidth && g.padTop === 0 && g.padLeft === 0
    && g.outHeight * g.strideHeight === g.inHeight && g.outWidth * g.strideWidth === g.inWidth;
}

/**
 * Input gradient of a conv whose taps tile the input: one matMul dy [rows, co] x filter^T [co, kh*kw*ci]
 * gives every input position once, and a 6-D transpose puts the kh x kw taps back in place. The
 * general path would convolve a zero-dilated dy, (kh*kw)x more multiply-adds over zeros (measured for
 * [8,8,8,1024] -> [8,16,16,512], 2x2 stride 2: 470 ms versus ~100 ms this way).
 */
function tiledInputGradient(dy: Tensor4D, filter: Tensor4D, g: Geometry): Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const { batch, outHeight: oh, outWidth: ow } = g;
  const filterT = tf.transpose(tf.reshape(filter, [kh * kw * ci, co]));
  const perTap = tf.matMul(tf.reshape(dy, [batch * oh * ow, co]), filterT); // [rows, kh*kw*ci]
  if (kh * kw === 1) return tf.reshape(perTap, [batch, oh, ow, ci]);
  const placed = tf.transpose(tf.reshape(perTap, [batch, oh, ow, kh, kw, ci]), [0, 1, 3, 2, 4, 5]);
  return tf.reshape(placed, [batch, oh * kh, ow * kw, ci]);
}

/** Spatial padding that turns a 'valid' conv of the dilated dy into the input gradient. */
function transposedPadding(g: Geometry, dilatedHeight: number, dilatedWidth: number) {
  const top = g.filterHeight - 1 - g.padTop;
  const left = g.filterWidth - 1 - g.padLeft;
  const bottom = g.inHeight + g.filterHeight - 1 - dilatedHeight - top;
  const right = g.inWidth + g.filterWidth - 1 - dilatedWidth - left;
  return { top, bottom, left, right };
}

/** Gradient of conv2d(x, filter) with respect to x (of shape inputShape), given dy. */
export function conv2dInputGradient(
  dy: Tensor4D,
  filter: Tensor4D,
  inputShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Conv2DPad,
  dimRoundingMode?: DimRoundingMode,
  dataFormat?: string,
): Tensor4D {
  return tf.tidy(() => {
    const g = geometry('Conv2DBackpropInput', inputShape, filter.shape, strides, pad, dimRoundingMode, false, 1, dataFormat);
    if (tilesInput(g)) return tiledInputGradient(dy, filter, g);
    const dilated = zeroDilate(dy, g.strideHeight, g.strideWidth);
    const p = transposedPadding(g, dilated.shape[1], dilated.shape[2]);
    const kernel = flippedSwapped(filter);
    if (p.top >= 0 && p.bottom >= 0 && p.left >= 0 && p.right >= 0) {
      // Explicit padding inside the conv avoids materialising a padded copy of dy.
      return tf.conv2d(dilated, kernel, 1, [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]]);
    }
    return tf.conv2d(padOrCropSpatial(dilated, p.top, p.bottom, p.left, p.right), kernel, 1, 'valid');
  });
}

/** Gradient of depthwiseConv2d(x, filter [kh, kw, c, m]) with respect to the filter. */
export function depthwiseFilterGradient(
  x: Tensor4D,
  dy: Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Conv2DPad,
  dimRoundingMode?: DimRoundingMode,
  dilations?: number | [number, number],
): Tensor4D {
  return tf.tidy(() => {
    const g = geometry('DepthwiseConv2dNativeBackpropFilter', x.shape, filterShape, strides, pad, dimRoundingMode, true, dilations);
    const [kh, kw, c, m] = filterShape;
    const rows = g.batch * g.outHeight * g.outWidth;
    const dyByChannel = tf.reshape(dy, [rows, c, m]);
    const perTap = convTaps(x, g).map((tap) => tf.sum(tf.mul(tf.reshape(tap, [rows, c, 1]), dyByChannel), 0));
    return tf.reshape(tf.stack(perTap), [kh, kw, c, m]);
  });
}

/** Gradient of depthwiseConv2d(x, filter [kh, kw, c, m]) with respect to x. */
export function depthwiseInputGradient(
  dy: Tensor4D,
  filter: Tensor4D,
  inputShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Conv2DPad,
  dimRoundingMode?: DimRoundingMode,
  dilations?: number | [number, number],
): Tensor4D {
  return tf.tidy(() => {
    const g = geometry('DepthwiseConv2dNativeBackpropInput', inputShape, filter.shape, strides, pad, dimRoundingMode, true, dilations);
    const [kh, kw, c, m] = filter.shape;
    const dilated = zeroDilate(dy, g.strideHeight, g.strideWidth);
    const p = transposedPadding(g, dilated.shape[1], dilated.shape[2]);
    // Each of the c*m dy channels is convolved with its own flipped tap, then the m outputs of one
    // input channel are summed.
    const kernel = tf.reshape(flipSpatially(filter), [kh, kw, c * m, 1]) as Tensor4D;
    const perOutput = tf.depthwiseConv2d(padOrCropSpatial(dilated, p.top, p.bottom, p.left, p.right), kernel, 1, 'valid');
    if (m === 1) return perOutput;
    const [b, h, w] = perOutput.shape;
    return tf.sum(tf.reshape(perOutput, [b, h, w, c, m]), 4) as Tensor4D;
  });
}

/** unsortedSegmentSum(x, segmentIds, numSegments) as a one-hot matrix product (sums along axis 0). */
export function unsortedSegmentSumByMatMul(x: tf.Tensor, segmentIds: tf.Tensor, numSegments: number): tf.Tensor {
  return tf.tidy(() => {
    const rows = segmentIds.size;
    const rest = x.shape.slice(segmentIds.rank);
    const columns = rest.reduce((a, b) => a * b, 1);
    // oneHot gives an all-zero row for ids outside [0, numSegments), which drops them as TF does.
    const selectorT = tf.transpose(tf.oneHot(tf.cast(tf.reshape(segmentIds, [rows]), 'int32'), numSegments));
    const sums = tf.matMul(tf.cast(selectorT, x.dtype === 'int32' ? 'float32' : x.dtype), tf.cast(tf.reshape(x, [rows, columns]), 'float32'));
    return tf.cast(tf.reshape(sums, [numSegments, ...rest]), x.dtype);
  });
}

/**
 * Gradient of maxPool(x) given dy and the forward output y: each output's gradient goes to the first
 * (row-major) position of its window that holds the maximum, as tfjs' cpu backend does. Replaces
 * tfjs-backend-wasm 4.22's MaxPoolGrad, which loses gradients when channels > 1 (found by the op suite).
 */
export function maxPoolInputGradient(
  dy: Tensor4D,
  x: Tensor4D,
  y: Tensor4D,
  filterSize: number | [number, number],
  strides: number | [number, number],
  pad: Conv2DPad,
  dimRoundingMode?: DimRoundingMode,
): Tensor4D {
  return tf.tidy(() => {
    const [fh, fw] = typeof filterSize === 'number' ? [filterSize, filterSize] : filterSize;
    const c = x.shape[3];
    const g = geometry('MaxPoolGrad', x.shape, [fh, fw, c, 1], strides, pad, dimRoundingMode, true);
    // Padding is -Infinity so that a padded cell never equals a window's maximum.
    const taps = convTaps(x, g, -Infinity);
    let unclaimed: tf.Tensor = tf.onesLike(dy);
    let dx: Tensor4D | null = null;
    const dilatedHeight = (g.outHeight - 1) * g.strideHeight + 1;
    const dilatedWidth = (g.outWidth - 1) * g.strideWidth + 1;
    taps.forEach((tap, i) => {
      const kh = Math.floor(i / fw);
      const kw = i % fw;
      const hit = tf.mul(tf.cast(tf.equal(tap, y), 'float32'), unclaimed);
      unclaimed = tf.sub(unclaimed, hit);
      // Output (oy, ox) of this tap reads input row oy*sh + kh - padTop: scatter back by dilating
      // and shifting.
      const spread = zeroDilate(tf.mul(dy, hit) as Tensor4D, g.strideHeight, g.strideWidth);
      const top = kh - g.padTop;
      const left = kw - g.padLeft;
      const contribution = padOrCropSpatial(spread, top, g.inHeight - dilatedHeight - top, left, g.inWidth - dilatedWidth - left);
      dx = dx == null ? contribution : (tf.add(dx, contribution) as Tensor4D);
    });
    return dx!;
  });
}
