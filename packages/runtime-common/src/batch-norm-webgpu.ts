/**
 * The fused training batch norm (@thfr/tensor's THFR_BATCH_NORM_TRAIN and its gradient) for tfjs-backend-webgpu, as
 * WGSL programs run by the backend's `runWebGPUProgram` (typed structurally: this package imports no backend). A
 * tfjs WebGPU program writes one output, so the forward kernel dispatches 4 shaders (batch statistics, y, the two
 * running statistics) and the backward 3 (dβ, dγ, dx): 7 per layer and step where the composed ops took ~26
 * (batch norm ~23, its ReLU ~3). The per-channel sums run one thread per channel over the batch's rows.
 */
import { tf, THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD } from '@thfr/tensor';

import type { KernelArgs, TensorInfo } from './composed-kernel.js';
import { flatProgram as genericFlatProgram, type Uniform, type WebGpuBackendLike, type WebGpuProgramLike } from './webgpu-program.js';
import { replaceKernel } from './replace-kernel.js';

/** Every batch-norm program reads the same uniforms. */
const BN_UNIFORMS = 'rows : i32, channels : i32, epsilon : f32, momentum : f32,';
const flatProgram = (outputShape: number[], shaderKey: string, variableNames: string[], body: string) => genericFlatProgram(outputShape, shaderKey, variableNames, BN_UNIFORMS, body);

/** Channels per workgroup of the per-channel sums, and row lanes per channel: REDUCE_CHANNELS x REDUCE_LANES threads. */
const REDUCE_CHANNELS = 8;
const REDUCE_LANES = 32;

/**
 * A program whose workgroups each sum `term` (an expression of the row `r`, the channel `c` and the element index
 * `o`; it may use lines of `prelude`) over every row for 8 channels, then run `finish` with the sums in
 * `partial[localIndex]` for the threads localIndex < 8 (their channel is `c`). `passes` > 1 runs the sum again with
 * the previous pass's result for the channel in `previous` (the variance after the mean).
 */
function channelReduceProgram(outputShape: number[], channels: number, shaderKey: string, variableNames: string[], passes: Array<{ prelude?: string; term: string }>, finish: string): WebGpuProgramLike {
  const threads = REDUCE_CHANNELS * REDUCE_LANES;
  const sum = (pass: { prelude?: string; term: string }, k: number) => `
        var acc${k} = 0.0;
        if (c < uniforms.channels) {
          for (var r = lane; r < uniforms.rows; r += ${REDUCE_LANES}) {
            let o = r * uniforms.channels + c;
            ${pass.prelude ?? ''}
            acc${k} += ${pass.term};
          }
        }
        partial[localIndex] = acc${k};
        workgroupBarrier();
        for (var s = ${threads / 2}u; s >= ${REDUCE_CHANNELS}u; s = s / 2u) {
          if (localIndex < s) { partial[localIndex] += partial[localIndex + s]; }
          workgroupBarrier();
        }`;
  const body = passes.map((pass, k) => {
    const share = k + 1 < passes.length ? `
        if (localIndex < ${REDUCE_CHANNELS}u) { firstPass[localIndex] = partial[localIndex]; }
        workgroupBarrier();
        let previous${k + 1} = firstPass[localIndex % ${REDUCE_CHANNELS}u];
        workgroupBarrier();` : '';
    return sum(pass, k) + share;
  }).join('\n');
  return {
    outputShape,
    shaderKey,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(channels / REDUCE_CHANNELS), 1, 1],
    variableNames,
    workgroupSize: [threads, 1, 1],
    size: true,
    uniforms: BN_UNIFORMS,
    getUserCode: () => `
      var<workgroup> partial : array<f32, ${threads}>;
      var<workgroup> firstPass : array<f32, ${REDUCE_CHANNELS}>;
      fn main(index : i32) {
        let lane = i32(localIndex / ${REDUCE_CHANNELS}u);
        let c = i32(workgroupId.x) * ${REDUCE_CHANNELS} + i32(localIndex % ${REDUCE_CHANNELS}u);
        ${body}
        if (localIndex < ${REDUCE_CHANNELS}u && c < uniforms.channels) {
          ${finish}
        }
      }`,
  };
}

// x̂ of element `o` in channel `c`, from the batch statistics [mean..., variance...].
const X_HAT = 'let xHat = (x[o] - stats[c]) * inverseSqrt(stats[uniforms.channels + c] + uniforms.epsilon);';
// The upstream gradient of element `o`, masked where the fused ReLU was closed.
const gradient = (relu: boolean) => (relu ? 'let g = select(0.0, dy[o], y[o] > 0.0);' : 'let g = dy[o];');

/** stats [2, C]: row 0 the batch mean, row 1 the biased variance (a second pass over the rows, around the mean). */
const statsProgram = (channels: number) => channelReduceProgram([2, channels], channels, 'thfrBnStats', ['x'], [
  { term: 'x[o]' },
  { prelude: 'let d = x[o] - previous1 / f32(uniforms.rows);', term: 'd * d' },
], `let n = f32(uniforms.rows);
          setOutputAtIndex(c, firstPass[localIndex] / n);
          setOutputAtIndex(uniforms.channels + c, partial[localIndex] / n);`);

const normaliseProgram = (shape: number[], relu: boolean) => flatProgram(shape, `thfrBnY${relu ? 'Relu' : ''}`, ['x', 'stats', 'gamma', 'beta'], `
        let o = index;
        let c = index % uniforms.channels;
        ${X_HAT}
        let v = xHat * gamma[c] + beta[c];
        setOutputAtIndex(index, ${relu ? 'max(v, 0.0)' : 'v'});`);

/** PyTorch's running update; the variance is the unbiased n / (n - 1) σ². */
const runningProgram = (channels: number, which: 'mean' | 'var') => flatProgram([channels], `thfrBnRunning${which}`, ['stats', 'running'], which === 'mean'
  ? 'setOutputAtIndex(index, (1.0 - uniforms.momentum) * running[index] + uniforms.momentum * stats[index]);'
  : `let n = f32(uniforms.rows);
        setOutputAtIndex(index, (1.0 - uniforms.momentum) * running[index] + uniforms.momentum * stats[uniforms.channels + index] * n / max(n - 1.0, 1.0));`);

/** dβ = Σ g, or dγ = Σ g x̂, per channel. */
const gradientSumProgram = (channels: number, which: 'beta' | 'gamma', relu: boolean) => channelReduceProgram(
  [channels], channels, `thfrBnSum${which}${relu ? 'Relu' : ''}`, which === 'beta' ? ['dy', ...(relu ? ['y'] : [])] : ['dy', 'x', 'stats', ...(relu ? ['y'] : [])],
  [which === 'beta'
    ? { prelude: gradient(relu), term: 'g' }
    : { prelude: `${gradient(relu)}
            ${X_HAT}`, term: 'g * xHat' }],
  'setOutputAtIndex(c, partial[localIndex]);');

/** dx = γ / sqrt(σ² + ε) · (g - dβ / n - x̂ dγ / n). */
const inputGradientProgram = (shape: number[], relu: boolean) => flatProgram(shape, `thfrBnDx${relu ? 'Relu' : ''}`, ['dy', 'x', 'stats', 'gamma', 'dBeta', 'dGamma', ...(relu ? ['y'] : [])], `
        let o = index;
        let c = index % uniforms.channels;
        ${gradient(relu)}
        ${X_HAT}
        let n = f32(uniforms.rows);
        let k = gamma[c] * inverseSqrt(stats[uniforms.channels + c] + uniforms.epsilon);
        setOutputAtIndex(index, k * (g - dBeta[c] / n - xHat * dGamma[c] / n));`);

function uniforms(x: TensorInfo, attrs: Record<string, unknown>): Uniform[] {
  const channels = x.shape[x.shape.length - 1];
  const rows = x.shape.reduce((a, b) => a * b, 1) / channels;
  return [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [channels] },
    { type: 'float32', data: [attrs.epsilon as number] },
    { type: 'float32', data: [(attrs.momentum as number | undefined) ?? 0] },
  ];
}

function checkFloat(inputs: Record<string, TensorInfo>, kernel: string): void {
  for (const [name, info] of Object.entries(inputs)) {
    if (info && info.dtype !== 'float32') throw new Error(`${kernel}: '${name}' must be float32, got ${info.dtype}`);
  }
}

function forward({ inputs, attrs = {}, backend }: KernelArgs): TensorInfo[] {
  checkFloat(inputs, THFR_BATCH_NORM_TRAIN);
  const gpu = backend as WebGpuBackendLike;
  const { x, gamma, beta, runningMean, runningVar } = inputs;
  const channels = x.shape[x.shape.length - 1];
  const u = uniforms(x, attrs);
  const stats = gpu.runWebGPUProgram(statsProgram(channels), [x], 'float32', u);
  const y = gpu.runWebGPUProgram(normaliseProgram(x.shape, Boolean(attrs.relu)), [x, stats, gamma, beta], 'float32', u);
  const newRunningMean = gpu.runWebGPUProgram(runningProgram(channels, 'mean'), [stats, runningMean], 'float32', u);
  const newRunningVar = gpu.runWebGPUProgram(runningProgram(channels, 'var'), [stats, runningVar], 'float32', u);
  return [y, stats, newRunningMean, newRunningVar];
}

function backward({ inputs, attrs = {}, backend }: KernelArgs): TensorInfo[] {
  checkFloat(inputs, THFR_BATCH_NORM_TRAIN_GRAD);
  const gpu = backend as WebGpuBackendLike;
  const { dy, x, stats, gamma, y } = inputs;
  const relu = Boolean(attrs.relu);
  const channels = x.shape[x.shape.length - 1];
  const u = uniforms(x, attrs);
  const masked = relu ? [y] : [];
  const dBeta = gpu.runWebGPUProgram(gradientSumProgram(channels, 'beta', relu), [dy, ...masked], 'float32', u);
  const dGamma = gpu.runWebGPUProgram(gradientSumProgram(channels, 'gamma', relu), [dy, x, stats, ...masked], 'float32', u);
  const dx = gpu.runWebGPUProgram(inputGradientProgram(x.shape, relu), [dy, x, stats, gamma, dBeta, dGamma, ...masked], 'float32', u);
  return [dx, dGamma, dBeta];
}

/** Registers the fused training batch norm for tfjs-backend-webgpu (idempotent); returns the kernel names. */
export function registerWebGpuBatchNormKernels(backendName = 'webgpu'): string[] {
  for (const [kernelName, kernelFunc] of [[THFR_BATCH_NORM_TRAIN, forward], [THFR_BATCH_NORM_TRAIN_GRAD, backward]] as const) {
    replaceKernel(kernelName, backendName, kernelFunc);
  }
  return [THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD];
}
