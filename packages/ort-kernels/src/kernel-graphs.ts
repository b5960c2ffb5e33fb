/**
 * The ONNX graphs behind the kernels: one small model per operation and geometry, in tfjs' NHWC layout so that the
 * kernels feed the wasm heap as it is. Convolutions are written as patches + one Gemm (onnxruntime's MLAS GEMM is
 * where the speed is): the patches of a k x k filter are k x k strided slices of the padded input concatenated along
 * channels, in the (row, column, channel) order of tfjs' [kh, kw, in, out] filter, so the filter is read as a
 * [kh * kw * in, out] matrix without a copy. Where @thfr/runtime-common's wasm patches bind (the default), the patch
 * matrix is written on the heap instead and the graph is only the product (patchProductModel). The batch is symbolic:
 * one model serves every batch size.
 */
import { OnnxGraphBuilder, encodeOnnxModel, float32ValueInfo, onnxAttribute as attr, type OnnxValueInfo } from '@thfr/backbone-onnx';
import { patchCount, tapsTileInput, type PatchGeometry } from '@thfr/runtime-common';

/** opset 13: Slice with steps and Pad with tensor inputs (opset 11+), Gemm, ConvTranspose. */
const OPSET = 13;
const IR_VERSION = 7;

/** A convolution's geometry (NHWC; tfjs' Conv2DInfo without the batch). */
export interface ConvGeometry extends PatchGeometry {
  outChannels: number;
  padBottom: number;
  padRight: number;
}

/**
 * How a kernel feeds a tensor: with its own shape, as a matrix [product of the other dims, last dim] (the same
 * bytes: NHWC rows of pixels, or a [kh, kw, in, out] filter as [kh x kw x in, out]), or as a batch of matrices
 * [product of the outer dims, rows, columns].
 */
export type FeedLayout = 'tensor' | 'matrix' | 'batched-matrix';

/** A built kernel model and how each of its inputs is fed. */
export interface KernelModel {
  bytes: Uint8Array;
  inputLayout: Record<string, FeedLayout>;
}

function finish(name: string, graph: OnnxGraphBuilder, inputs: OnnxValueInfo[], output: OnnxValueInfo): Uint8Array {
  return encodeOnnxModel({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: '@thfr/ort-kernels',
    metadataProps: [],
    graph: { name, node: graph.nodes, initializer: graph.initializers, input: inputs, output: [output] },
  });
}

/** A 1 x 1 filter with stride 1 and no padding reads each pixel once: the input itself is the patch matrix. */
export function isPointwise(g: ConvGeometry): boolean {
  return g.filterHeight === 1 && g.filterWidth === 1 && g.strideHeight === 1 && g.strideWidth === 1 &&
    g.padTop + g.padBottom + g.padLeft + g.padRight === 0 && g.outHeight === g.inHeight && g.outWidth === g.inWidth;
}

/** Appends the patch matrix [batch x outH x outW, kh x kw x in] of NHWC input `x`; returns its name. */
function patches(graph: OnnxGraphBuilder, x: string, g: ConvGeometry): string {
  let padded = x;
  if (g.padTop + g.padBottom + g.padLeft + g.padRight > 0) {
    const pads = graph.int64('pads', [8], [0, g.padTop, g.padLeft, 0, 0, g.padBottom, g.padRight, 0]);
    padded = graph.node('Pad', 'pad', [x, pads]);
  }
  const axes = graph.int64('tap_axes', [2], [1, 2]);
  const steps = graph.int64('tap_steps', [2], [g.strideHeight, g.strideWidth]);
  const taps: string[] = [];
  for (let i = 0; i < g.filterHeight; i++) {
    for (let j = 0; j < g.filterWidth; j++) {
      const top = i * g.dilationHeight;
      const left = j * g.dilationWidth;
      const starts = graph.int64(`tap_${i}_${j}_starts`, [2], [top, left]);
      const ends = graph.int64(`tap_${i}_${j}_ends`, [2], [top + (g.outHeight - 1) * g.strideHeight + 1, left + (g.outWidth - 1) * g.strideWidth + 1]);
      taps.push(graph.node('Slice', `tap_${i}_${j}`, [padded, starts, ends, axes, steps]));
    }
  }
  const joined = taps.length === 1 ? taps[0] : graph.node('Concat', 'taps', taps, [attr.int('axis', 3)]);
  const rows = graph.int64('patch_rows', [2], [-1, g.filterHeight * g.filterWidth * g.inChannels]);
  return graph.node('Reshape', 'patches', [joined, rows]);
}

/** y = conv(x, filter): x NHWC (or rows when pointwise), filter as [kh x kw x in, out]; y as rows [batch x outH x outW, out]. */
export function convForwardModel(g: ConvGeometry): KernelModel {
  const pointwise = isPointwise(g);
  const graph = new OnnxGraphBuilder(['x', 'filter']);
  const cols = pointwise ? 'x' : patches(graph, 'x', g);
  graph.node('Gemm', 'y', [cols, 'filter']);
  const x = pointwise ? float32ValueInfo('x', ['rows', g.inChannels]) : float32ValueInfo('x', ['batch', g.inHeight, g.inWidth, g.inChannels]);
  return {
    bytes: finish('conv2d', graph, [x, float32ValueInfo('filter', [patchCount(g), g.outChannels])], float32ValueInfo('y', ['rows', g.outChannels])),
    inputLayout: { x: pointwise ? 'matrix' : 'tensor', filter: 'matrix' },
  };
}

/** dFilter = patches(x)^T dy: x NHWC (or rows), dy as rows [batch x outH x outW, out]; dFilter [kh x kw x in, out]. */
export function convFilterGradientModel(g: ConvGeometry): KernelModel {
  const pointwise = isPointwise(g);
  const graph = new OnnxGraphBuilder(['x', 'dy']);
  const cols = pointwise ? 'x' : patches(graph, 'x', g);
  graph.node('Gemm', 'dfilter', [cols, 'dy'], [attr.int('transA', 1)]);
  const x = pointwise ? float32ValueInfo('x', ['rows', g.inChannels]) : float32ValueInfo('x', ['batch', g.inHeight, g.inWidth, g.inChannels]);
  return {
    bytes: finish('conv2d_filter_gradient', graph, [x, float32ValueInfo('dy', ['rows', g.outChannels])], float32ValueInfo('dfilter', [patchCount(g), g.outChannels])),
    inputLayout: { x: pointwise ? 'matrix' : 'tensor', dy: 'matrix' },
  };
}

/**
 * Products with a patch matrix that lives outside the graph (@thfr/runtime-common's wasm patches, on the heap); K =
 * kh·kw·in, and one session serves every geometry with the same K and out:
 * - 'forward': `patches · filter`, [rows, K] x [K, out];
 * - 'filter-gradient': `patchesᵀ · dy`, [rows, K]ᵀ x [rows, out];
 * - 'patch-gradient': `dy · filterᵀ`, [rows, out] x [K, out]ᵀ, each output pixel's patch gradient (for filters whose
 *   taps tile the input, the wasm patches scatter it back to the input's layout).
 */
export function patchProductModel(kind: 'forward' | 'filter-gradient' | 'patch-gradient', k: number, outChannels: number): KernelModel {
  const graph = new OnnxGraphBuilder(['patches', 'other']);
  const shapes = {
    forward: { patches: ['rows', k], other: [k, outChannels], product: ['rows', outChannels], attrs: [] },
    'filter-gradient': { patches: ['rows', k], other: ['rows', outChannels], product: [k, outChannels], attrs: [attr.int('transA', 1)] },
    // 'patches' is dy here, 'other' the filter.
    'patch-gradient': { patches: ['rows', outChannels], other: [k, outChannels], product: ['rows', k], attrs: [attr.int('transB', 1)] },
  }[kind];
  graph.node('Gemm', 'product', ['patches', 'other'], shapes.attrs);
  return {
    bytes: finish(`conv2d_${kind.replace('-', '_')}_on_patches`, graph,
      [float32ValueInfo('patches', shapes.patches), float32ValueInfo('other', shapes.other)], float32ValueInfo('product', shapes.product)),
    inputLayout: { patches: 'matrix', other: 'matrix' },
  };
}

/**
 * Filters whose taps tile the input exactly (stride = filter size, no padding or dilation, e.g. the 2 x 2 / stride 2
 * up- and down-sampling convs): each input pixel belongs to one output pixel's patch, so the input gradient is one
 * Gemm and a depth-to-space rearrangement.
 */
export function tilesInput(g: ConvGeometry): boolean {
  return tapsTileInput(g) && g.padBottom === 0 && g.padRight === 0;
}

/**
 * The ConvTranspose output padding that gives back the input's size, per axis; undefined when ONNX cannot express it
 * (it must be below the stride or the dilation).
 */
export function transposeOutputPadding(g: ConvGeometry): [number, number] | undefined {
  const height = g.inHeight - ((g.outHeight - 1) * g.strideHeight + (g.filterHeight - 1) * g.dilationHeight + 1 - g.padTop - g.padBottom);
  const width = g.inWidth - ((g.outWidth - 1) * g.strideWidth + (g.filterWidth - 1) * g.dilationWidth + 1 - g.padLeft - g.padRight);
  const fits = (p: number, stride: number, dilation: number) => p >= 0 && p < Math.max(stride, dilation);
  return fits(height, g.strideHeight, g.dilationHeight) && fits(width, g.strideWidth, g.dilationWidth) ? [height, width] : undefined;
}

/** dx = the input gradient of conv(x, filter): dy as rows or NHWC, filter [kh, kw, in, out] (or as a matrix); dx NHWC. */
export function convInputGradientModel(g: ConvGeometry): KernelModel {
  const graph = new OnnxGraphBuilder(['dy', 'filter']);
  const outputInfo = float32ValueInfo('dx', ['batch', g.inHeight, g.inWidth, g.inChannels]);
  if (isPointwise(g) || tilesInput(g)) {
    // [rows, out] x [kh x kw x in, out]^T = each output pixel's patch gradient, [rows, kh x kw x in].
    const patchGradients = graph.node('Gemm', 'patch_gradients', ['dy', 'filter'], [attr.int('transB', 1)]);
    const split = graph.int64('patch_split', [6], [-1, g.outHeight, g.outWidth, g.filterHeight, g.filterWidth, g.inChannels]);
    const blocks = graph.node('Reshape', 'blocks', [patchGradients, split]);
    const interleaved = graph.node('Transpose', 'interleaved', [blocks], [attr.ints('perm', [0, 1, 3, 2, 4, 5])]);
    const nhwc = graph.int64('nhwc', [4], [-1, g.inHeight, g.inWidth, g.inChannels]);
    graph.node('Reshape', 'dx', [interleaved, nhwc]);
    return {
      bytes: finish('conv2d_input_gradient', graph, [float32ValueInfo('dy', ['rows', g.outChannels]), float32ValueInfo('filter', [patchCount(g), g.outChannels])], outputInfo),
      inputLayout: { dy: 'matrix', filter: 'matrix' },
    };
  }
  const outputPadding = transposeOutputPadding(g);
  if (!outputPadding) throw new Error(`ort-kernels: no ConvTranspose gives back a ${g.inHeight}x${g.inWidth} input for this geometry`);
  const dyNchw = graph.node('Transpose', 'dy_nchw', ['dy'], [attr.ints('perm', [0, 3, 1, 2])]);
  // ConvTranspose's weight is [its input channels (the conv's out), its output channels (the conv's in), kh, kw].
  const weight = graph.node('Transpose', 'weight', ['filter'], [attr.ints('perm', [3, 2, 0, 1])]);
  const dxNchw = graph.node('ConvTranspose', 'dx_nchw', [dyNchw, weight], [
    attr.ints('kernel_shape', [g.filterHeight, g.filterWidth]),
    attr.ints('strides', [g.strideHeight, g.strideWidth]),
    attr.ints('dilations', [g.dilationHeight, g.dilationWidth]),
    attr.ints('pads', [g.padTop, g.padLeft, g.padBottom, g.padRight]),
    attr.ints('output_padding', outputPadding),
  ]);
  graph.node('Transpose', 'dx', [dxNchw], [attr.ints('perm', [0, 2, 3, 1])]);
  return {
    bytes: finish('conv2d_input_gradient', graph, [
      float32ValueInfo('dy', ['batch', g.outHeight, g.outWidth, g.outChannels]),
      float32ValueInfo('filter', [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels]),
    ], outputInfo),
    inputLayout: { dy: 'tensor', filter: 'tensor' },
  };
}

/** tfjs' BatchMatMul: a [batch, m, k] (or [batch, k, m]) times b [batch, k, n] (or [batch, n, k]); one batch is one Gemm. */
export function matMulModel(m: number, k: number, n: number, batchA: number, batchB: number, transposeA: boolean, transposeB: boolean): KernelModel {
  const aDims = transposeA ? [k, m] : [m, k];
  const bDims = transposeB ? [n, k] : [k, n];
  const graph = new OnnxGraphBuilder(['a', 'b']);
  if (batchA === 1 && batchB === 1) {
    graph.node('Gemm', 'c', ['a', 'b'], [attr.int('transA', transposeA ? 1 : 0), attr.int('transB', transposeB ? 1 : 0)]);
    return {
      bytes: finish('matmul', graph, [float32ValueInfo('a', aDims), float32ValueInfo('b', bDims)], float32ValueInfo('c', [m, n])),
      inputLayout: { a: 'matrix', b: 'matrix' },
    };
  }
  const swap = [attr.ints('perm', [0, 2, 1])];
  const a = transposeA ? graph.node('Transpose', 'a_t', ['a'], swap) : 'a';
  const b = transposeB ? graph.node('Transpose', 'b_t', ['b'], swap) : 'b';
  graph.node('MatMul', 'c', [a, b]);
  return {
    bytes: finish('batch_matmul', graph, [float32ValueInfo('a', [batchA, ...aDims]), float32ValueInfo('b', [batchB, ...bDims])], float32ValueInfo('c', [Math.max(batchA, batchB), m, n])),
    inputLayout: { a: 'batched-matrix', b: 'batched-matrix' },
  };
}
