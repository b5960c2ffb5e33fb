/**
 * The fused training batch norm's two passes per kernel in WebAssembly SIMD on tfjs-wasm's heap (wasm/batch-norm.wat),
 * ~10x faster than batch-norm-kernel.ts' JavaScript loops ([4, 64, 64, 256]: forward 80 -> 6 ms, backward 115 -> 10
 * ms with the ReLU); the per-channel step between them is that file's, shared. The passes walk rows of `period`
 * values: the layer's channels repeated to a multiple of 4 (lcm(C, 4)), so that vectors never straddle a row; sums
 * over the repeats are folded back per channel.
 */
import { batchNormBackwardChannels, batchNormForwardChannels, type BatchNormTrainAttrs } from '@thfr/tensor';
import { batchNormWasmBase64 } from './wasm/batch-norm-wasm.js';
import { wasmHeapModule, type WasmHeapModule } from './wasm-heap-module.js';

interface BatchNormExports {
  moments(x: number, shift: number, rows: number, ch: number, sum: number, squares: number): void;
  normalize(x: number, y: number, rows: number, ch: number, shift: number, scale: number, offset: number, relu: number): void;
  gradSums(dy: number, x: number, y: number, rows: number, ch: number, mean: number, sumG: number, sumGX: number): void;
  gradInput(dy: number, x: number, y: number, dx: number, rows: number, ch: number, coefficients: number): void;
}

export type BatchNormSimd = WasmHeapModule<BatchNormExports>;

/** The SIMD batch norm on `backend`'s heap, or undefined (not tfjs-wasm, no SIMD, a threaded build). */
export function batchNormSimdFor(backend: unknown): BatchNormSimd | undefined {
  return wasmHeapModule<BatchNormExports>(backend, 'batch-norm.wat', batchNormWasmBase64);
}

/** lcm(channels, 4): a row of whole channels and whole 4-lane vectors. */
function periodOf(channels: number): number {
  return channels % 4 === 0 ? channels : channels % 2 === 0 ? channels * 2 : channels * 4;
}

/** Rows of `period` values over `total` values, or undefined when they do not divide (then the JavaScript loops run). */
export function simdRows(total: number, channels: number): { period: number; rows: number } | undefined {
  const period = periodOf(channels);
  return total > 0 && total % period === 0 ? { period, rows: total / period } : undefined;
}

/** Σ over the repeats of each channel: [period] -> [channels]. */
function fold(values: Float64Array, channels: number): Float64Array {
  const out = new Float64Array(channels);
  for (let k = 0; k < values.length; k++) out[k % channels] += values[k];
  return out;
}

/** per-channel values repeated into `target` ([period] or a row of it). */
function repeat(target: Float32Array, values: ArrayLike<number>, channels: number): void {
  for (let k = 0; k < target.length; k++) target[k] = values[k % channels];
}

export interface SimdForwardViews {
  /** Views of the heap, taken after `malloc` (a growing heap detaches earlier ones). */
  views: () => { x: Float32Array; gamma: Float32Array; beta: Float32Array; runningMean: Float32Array; runningVar: Float32Array; y: Float32Array; stats: Float32Array; newRunningMean: Float32Array; newRunningVar: Float32Array };
}

/** The forward kernel: y, batch statistics and running statistics written into the output views. */
export function batchNormForwardSimd(simd: BatchNormSimd, channels: number, layout: { period: number; rows: number }, attrs: BatchNormTrainAttrs, io: SimdForwardViews): void {
  const { period, rows } = layout;
  // Scratch: sum and squares (float64), then shift, scale and offset (float32), each [period].
  const scratch = simd.malloc(period * (8 + 8 + 4 + 4 + 4));
  try {
    const sum = scratch;
    const squares = sum + period * 8;
    const shift = squares + period * 8;
    const scale = shift + period * 4;
    const offset = scale + period * 4;
    const v = io.views();
    const x = simd.pointer(v.x, 'x');
    // The first row as shift, as the JavaScript reference: sums of (x - x₀) keep a large mean from cancelling.
    repeat(simd.f32(shift, period), v.x.subarray(0, channels), channels);
    simd.exports.moments(x, shift, rows, period, sum, squares);
    const perChannel = batchNormForwardChannels(
      fold(simd.f64(sum, period), channels), fold(simd.f64(squares, period), channels), v.x.subarray(0, channels), (rows * period) / channels,
      v.gamma, v.beta, v.runningMean, v.runningVar, attrs, { stats: v.stats, newRunningMean: v.newRunningMean, newRunningVar: v.newRunningVar },
    );
    // y = (x - x₀) scale + (offset + x₀ scale): float32 x scale + offset would cancel where the mean is large.
    const shifted = perChannel.offset.map((o, c) => o + v.x[c] * perChannel.scale[c]);
    repeat(simd.f32(scale, period), perChannel.scale, channels);
    repeat(simd.f32(offset, period), shifted, channels);
    simd.exports.normalize(x, simd.pointer(v.y, 'y'), rows, period, shift, scale, offset, attrs.relu ? 1 : 0);
  } finally {
    simd.free(scratch);
  }
}

export interface SimdBackwardViews {
  views: () => { dy: Float32Array; x: Float32Array; stats: Float32Array; gamma: Float32Array; y?: Float32Array; dx: Float32Array; dGamma: Float32Array; dBeta: Float32Array };
}

/** The backward kernel: dx, dγ and dβ written into the output views; `y` (the ReLU's mask) only when relu. */
export function batchNormBackwardSimd(simd: BatchNormSimd, channels: number, layout: { period: number; rows: number }, epsilon: number, io: SimdBackwardViews): void {
  const { period, rows } = layout;
  // Scratch: Σ g and Σ g (x - μ) (float64), then mean, k, a, b (float32), each [period].
  const scratch = simd.malloc(period * (8 + 8 + 4 * 4));
  try {
    const sumG = scratch;
    const sumGX = sumG + period * 8;
    const coefficients = sumGX + period * 8;
    const v = io.views();
    const dy = simd.pointer(v.dy, 'dy');
    const x = simd.pointer(v.x, 'x');
    const mask = v.y ? simd.pointer(v.y, 'y') : 0;
    const rowsOf = (i: number) => simd.f32(coefficients + i * period * 4, period);
    repeat(rowsOf(0), v.stats.subarray(0, channels), channels);
    simd.exports.gradSums(dy, x, mask, rows, period, coefficients, sumG, sumGX);
    const { k, a, b } = batchNormBackwardChannels(
      fold(simd.f64(sumG, period), channels), fold(simd.f64(sumGX, period), channels), v.stats, v.gamma, (rows * period) / channels, epsilon,
      { dGamma: v.dGamma, dBeta: v.dBeta },
    );
    repeat(rowsOf(1), k, channels);
    repeat(rowsOf(2), a, channels);
    repeat(rowsOf(3), b, channels);
    simd.exports.gradInput(dy, x, mask, simd.pointer(v.dx, 'dx'), rows, period, coefficients);
  } finally {
    simd.free(scratch);
  }
}
