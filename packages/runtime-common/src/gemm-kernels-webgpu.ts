/**
 * Conv2D, FusedConv2D (bias, ReLU), Conv2DBackpropInput and BatchMatMul for tfjs-backend-webgpu on thfr's
 * register-tiled GEMM (tiled-gemm-webgpu.ts): one shader per call, the convolutions as an implicit im2col (no patch
 * matrix in memory), the input gradient gathering dy and reading the filter in place (where thfr's composed kernel
 * took a flip, a transpose and a conv: 3 shaders; tfjs' own, one thread per input element).
 * Calls the GEMM does not cover go to the kernel registered before: other data formats and activations, a PReLU,
 * batch dimensions that broadcast other than one-to-all, products under `minMultiplyAdds` (tfjs' kernels keep the
 * small ones; each shape of ours compiles a pipeline of its own), and grids over WebGPU's 65,535 workgroups a side. The convolution gradients that thfr registers
 * (conv-gradients) are built on tf.conv2d and tf.matMul, so they run on this GEMM too.
 */
import { tf } from '@thfr/tensor';
import type { KernelArgs, TensorInfo } from './composed-kernel.js';
import { filterTilesInput } from './conv-input-gradient-webgpu.js';
import type { KernelTuner } from './kernel-tuner.js';
import { replaceKernel } from './replace-kernel.js';
import { chooseGemmTile, gemmConvGeometry, tiledGemmProgram, type TiledGemmSpec } from './tiled-gemm-webgpu.js';
import { MAX_WORKGROUPS_PER_DIMENSION, type WebGpuBackendLike } from './webgpu-program.js';

type KernelFunc = (args: KernelArgs) => unknown;

export interface WebGpuTiledGemmOptions {
  /** Products with fewer multiply-adds (m x n x k x batch) stay on tfjs' kernels. Default 2^22. */
  minMultiplyAdds?: number;
  /** Workgroups of 128 x 128 outputs below which the 64 x 64 tile is used. Default 128 (about one per SM of a large GPU). */
  minWorkgroups?: number;
  /** Backend to register for. Default 'webgpu'. */
  backendName?: string;
  /**
   * Choose between the GEMM and the kernel registered before per call shape by timing both (kernel-tuner.ts): a shape
   * runs the kernel registered before until the tuner has timed it, then whichever was faster and agreed. Without a
   * tuner, every call the GEMM covers runs on it.
   */
  tuner?: KernelTuner;
}

/** The variants a tuner chooses between: the kernel registered before (the baseline) and the GEMM. */
export const GEMM_VARIANTS = ['fallback', 'gemm'] as const;

type GemmSettings = Required<Omit<WebGpuTiledGemmOptions, 'backendName' | 'tuner'>> & { tuner?: KernelTuner };

/** Whether a call the GEMM covers runs on it: always without a tuner, else as the tuner chose. */
const gemmChosen = (settings: GemmSettings, kernelName: string, args: KernelArgs) => settings.tuner == null
  || settings.tuner.variantFor(kernelName, args, GEMM_VARIANTS) === 'gemm';

const DEFAULT_MIN_MULTIPLY_ADDS = 2 ** 22;

/** Our kernel functions and the kernel each falls back on: registering twice chains to tfjs' kernel, not to ours. */
const fallbackOf = new Map<unknown, KernelFunc>();

const isFloat = (...infos: Array<TensorInfo | undefined>) => infos.every((info) => info == null || info.dtype === 'float32');

/** Whether the GEMM takes a product of this size (workgroups counted at the 64 tile, the larger grid; larger grids go to the fallback). */
const gemmTakes = (batch: number, m: number, n: number, k: number, minMultiplyAdds: number) => batch * m * n * k >= minMultiplyAdds
  && Math.max(batch, Math.ceil(m / 64), Math.ceil(n / 64)) <= MAX_WORKGROUPS_PER_DIMENSION;

function runGemm(backend: unknown, spec: Omit<TiledGemmSpec, 'tile'>, inputs: TensorInfo[], minWorkgroups: number): TensorInfo {
  // A convolution gather decodes one tap per 4 columns when its source has channels in fours; otherwise each column
  // decodes its own, and that code 4 times over (the 128 tile) did not finish on SwiftShader: such convs (an RGB stem)
  // keep the 64 tile.
  const gatherChannels = spec.a.kind === 'im2col' ? spec.a.inChannels : spec.a.kind === 'col2im' ? spec.a.outChannels : 4;
  const tile = gatherChannels % 4 === 0 ? chooseGemmTile(spec.batch, spec.m, spec.n, minWorkgroups) : 64;
  return (backend as WebGpuBackendLike).runWebGPUProgram(tiledGemmProgram({ ...spec, tile }), inputs, 'float32', [{ type: 'int32', data: [spec.m] }]);
}

function convolution(args: KernelArgs, fallback: KernelFunc, options: GemmSettings, fused: boolean): unknown {
  const { inputs, attrs = {}, backend } = args;
  const { x, filter, bias, preluActivationWeights } = inputs;
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC' || !isFloat(x, filter, bias) || preluActivationWeights != null) return fallback(args);
  if (fused && activation !== 'linear' && activation !== 'relu') return fallback(args);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    attrs.strides as [number, number], (attrs.dilations as [number, number] | undefined) ?? 1, attrs.pad as 'same',
    attrs.dimRoundingMode as undefined,
  );
  const m = info.batchSize * info.outHeight * info.outWidth;
  const n = info.outChannels;
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  if (bias != null && tf.util.sizeFromShape(bias.shape) !== n) return fallback(args);
  if (!gemmTakes(1, m, n, k, options.minMultiplyAdds) || !gemmChosen(options, fused ? 'FusedConv2D' : 'Conv2D', args)) return fallback(args);
  return runGemm(backend, {
    batch: 1, m, n, k,
    a: { kind: 'im2col', ...gemmConvGeometry(info) },
    b: { kind: 'matrix', transposed: false, broadcast: true },
    bias: bias != null,
    activation: fused ? (activation as 'linear' | 'relu') : 'linear',
    outputShape: info.outShape,
  }, bias != null ? [x, filter, bias] : [x, filter], options.minWorkgroups);
}

/**
 * dx = Conv2DBackpropInput(dy, w) as one GEMM: rows the input pixels, columns (kh, kw, co) gathered from dy, the
 * filter read in place as B(k, ci). Where the filter tiles the input (kernel = stride, no padding: the 2x2 stride-2
 * transposed convolutions) every input pixel has exactly one tap, and the kernel registered before (thfr's matMul
 * path, see conv-input-gradient-webgpu.ts) does a quarter of the multiply-adds, so it keeps those.
 */
function inputGradient(args: KernelArgs, fallback: KernelFunc, options: GemmSettings): unknown {
  const { inputs, attrs = {}, backend } = args;
  const { dy, filter } = inputs;
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC' || !isFloat(dy, filter)) return fallback(args);
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], attrs.strides as [number, number], 1, attrs.pad as 'same', attrs.dimRoundingMode as undefined);
  const m = info.batchSize * info.inHeight * info.inWidth;
  const n = info.inChannels;
  const k = info.filterHeight * info.filterWidth * info.outChannels;
  if ((filterTilesInput(info) && info.filterHeight * info.filterWidth > 1) || !gemmTakes(1, m, n, k, options.minMultiplyAdds)
    || !gemmChosen(options, 'Conv2DBackpropInput', args)) return fallback(args);
  return runGemm(backend, {
    batch: 1, m, n, k,
    a: { kind: 'col2im', ...gemmConvGeometry(info) },
    b: { kind: 'filterTransposed', inChannels: info.inChannels, outChannels: info.outChannels },
    bias: false,
    activation: 'linear',
    outputShape: inputShape,
  }, [dy, filter], options.minWorkgroups);
}

function batchMatMul(args: KernelArgs, fallback: KernelFunc, options: GemmSettings): unknown {
  const { inputs, attrs = {}, backend } = args;
  const { a, b } = inputs;
  if (!isFloat(a, b) || a.shape.length < 2 || b.shape.length < 2) return fallback(args);
  const transposeA = Boolean(attrs.transposeA);
  const transposeB = Boolean(attrs.transposeB);
  const [aRows, aColumns] = a.shape.slice(-2);
  const [bRows, bColumns] = b.shape.slice(-2);
  const m = transposeA ? aColumns : aRows;
  const k = transposeA ? aRows : aColumns;
  const n = transposeB ? bRows : bColumns;
  if ((transposeB ? bColumns : bRows) !== k) return fallback(args); // tfjs' kernel words the error
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  // One-to-all broadcast only (or equal batches with equal outer shapes): the shader indexes the shared matrix at 0.
  const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if (!sameOuter && batchA !== 1 && batchB !== 1) return fallback(args);
  const batch = Math.max(batchA, batchB);
  if (!gemmTakes(batch, m, n, k, options.minMultiplyAdds) || !gemmChosen(options, 'BatchMatMul', args)) return fallback(args);
  const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  return runGemm(backend, {
    batch, m, n, k,
    a: { kind: 'matrix', transposed: transposeA, broadcast: batchA === 1 && batch > 1 },
    b: { kind: 'matrix', transposed: transposeB, broadcast: batchB === 1 && batch > 1 },
    bias: false,
    activation: 'linear',
    outputShape: [...outer, m, n],
  }, [a, b], options.minWorkgroups);
}

/**
 * Registers the tiled GEMM as Conv2D, FusedConv2D, Conv2DBackpropInput and BatchMatMul for `backendName` (default webgpu); what it does not
 * cover goes to the kernels registered before (tfjs' own, also when this is called again: the new options replace the
 * old). Returns a function that puts the kernels found at the call back.
 */
export function registerWebGpuTiledGemm(options: WebGpuTiledGemmOptions = {}): () => void {
  const backendName = options.backendName ?? 'webgpu';
  const settings: GemmSettings = {
    minMultiplyAdds: options.minMultiplyAdds ?? DEFAULT_MIN_MULTIPLY_ADDS,
    minWorkgroups: options.minWorkgroups ?? 128,
    tuner: options.tuner,
  };
  const previous = (name: string): KernelFunc => {
    const kernel = tf.getKernel(name, backendName);
    if (kernel == null) throw new Error(`registerWebGpuTiledGemm: backend '${backendName}' has no ${name} to fall back on (is tfjs-backend-webgpu loaded?)`);
    return fallbackOf.get(kernel.kernelFunc) ?? (kernel.kernelFunc as unknown as KernelFunc);
  };
  const ours = (fallback: KernelFunc, run: (args: KernelArgs, fallback: KernelFunc) => unknown): KernelFunc => {
    const kernelFunc = (args: KernelArgs) => run(args, fallback);
    fallbackOf.set(kernelFunc, fallback);
    return kernelFunc;
  };
  const restores = [
    replaceKernel('Conv2D', backendName, ours(previous('Conv2D'), (args, fallback) => convolution(args, fallback, settings, false))),
    replaceKernel('FusedConv2D', backendName, ours(previous('FusedConv2D'), (args, fallback) => convolution(args, fallback, settings, true))),
    replaceKernel('BatchMatMul', backendName, ours(previous('BatchMatMul'), (args, fallback) => batchMatMul(args, fallback, settings))),
    replaceKernel('Conv2DBackpropInput', backendName, ours(previous('Conv2DBackpropInput'), (args, fallback) => inputGradient(args, fallback, settings))),
  ];
  return () => restores.reverse().forEach((restore) => restore());
}
