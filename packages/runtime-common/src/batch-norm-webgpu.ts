/**
 * The fused training batch norm (@thfr/tensor's THFR_BATCH_NORM_TRAIN and its gradient) for tfjs-backend-webgpu, as
 * WGSL programs (typed structurally: this package imports no backend). The forward kernel dispatches 2 shaders (the
 * batch statistics with both running updates, then y) and the backward 2 (dβ with dγ, then dx): 4 per layer and step
 * where the composed ops took ~26 (batch norm ~23, its ReLU ~3). A tfjs WebGPU program writes one output, so the
 * shaders with several are recorded through webgpu-internals.ts; where that is not possible (option
 * `multiOutputShaders: false`, or a tfjs without the fields it uses) each output gets a tfjs program of its own: 7
 * shaders, the same floats. The per-channel sums run 32 row lanes per channel over the batch's rows; with option
 * `splitRows` they split over chunks of rows (one more shader forward and one backward, many more workgroups).
 */
import { tf, THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD } from '@thfr/tensor';

import type { KernelArgs, TensorInfo } from './composed-kernel.js';
import type { KernelTuner } from './kernel-tuner.js';
import { flatProgram as genericFlatProgram, type Uniform, type WebGpuBackendLike, type WebGpuProgramLike } from './webgpu-program.js';
import { replaceKernel } from './replace-kernel.js';
import { packUniforms, runMultiOutputProgram, webGpuInternals, type MultiOutputProgram } from './webgpu-internals.js';

/** Every batch-norm program reads the same uniforms. */
const BN_UNIFORMS = 'rows : i32, channels : i32, epsilon : f32, momentum : f32, chunkRows : i32,';
const flatProgram = (outputShape: number[], shaderKey: string, variableNames: string[], body: string) => genericFlatProgram(outputShape, shaderKey, variableNames, BN_UNIFORMS, body);

/** Channels per workgroup of the per-channel sums, and row lanes per channel: REDUCE_CHANNELS x REDUCE_LANES threads. */
const REDUCE_CHANNELS = 8;
const REDUCE_LANES = 32;
/** Fewer chunks than this are not worth a second shader: the reduction keeps one workgroup per 8 channels. */
const MIN_CHUNKS = 4;

/** One pass over the rows: `terms` summed per channel (each with its own accumulator), after the lines of `prelude`. */
interface ReducePass {
  prelude?: string;
  terms: string[];
}

const REDUCE_THREADS = REDUCE_CHANNELS * REDUCE_LANES;
/** One workgroup per REDUCE_CHANNELS channels and chunk of rows. */
const reduceWorkgroups = (channels: number, chunks = 1): [number, number, number] => [Math.ceil(channels / REDUCE_CHANNELS), chunks, 1];

/**
 * The WGSL of a per-channel reduction: each workgroup sums every pass's terms (expressions of the row `r`, the channel
 * `c` and the element index `o`) over every row for 8 channels, term j into `partial<j>[localIndex]` for the threads
 * localIndex < 8 (their channel is `c`), where `finish` reads them. A pass after the first sees the first term of the
 * pass before, for its channel, in `previous<k>` (the variance after the mean); `firstPass[localIndex]` keeps the first
 * pass's first sum. Each term is summed in the same order whatever else the shader sums, so a term gives the same
 * float in a shader of its own and in a shader with others.
 */
function channelReduceCode(passes: ReducePass[], finish: string): { declarations: string; body: string } {
  const termCount = Math.max(...passes.map((p) => p.terms.length));
  const sum = (pass: ReducePass, k: number) => {
    const accumulators = pass.terms.map((_, j) => `acc${k}_${j}`);
    return `
        ${accumulators.map((a) => `var ${a} = 0.0;`).join(' ')}
        if (c < uniforms.channels) {
          for (var r = rowStart + lane; r < rowEnd; r += ${REDUCE_LANES}) {
            let o = r * uniforms.channels + c;
            ${pass.prelude ?? ''}
            ${pass.terms.map((term, j) => `${accumulators[j]} += ${term};`).join('\n            ')}
          }
        }
        ${accumulators.map((a, j) => `partial${j}[localIndex] = ${a};`).join(' ')}
        workgroupBarrier();
        for (var s = ${REDUCE_THREADS / 2}u; s >= ${REDUCE_CHANNELS}u; s = s / 2u) {
          if (localIndex < s) { ${accumulators.map((_, j) => `partial${j}[localIndex] += partial${j}[localIndex + s];`).join(' ')} }
          workgroupBarrier();
        }`;
  };
  const passesCode = passes.map((pass, k) => {
    const share = k + 1 < passes.length ? `
        if (localIndex < ${REDUCE_CHANNELS}u) { firstPass[localIndex] = partial0[localIndex]; }
        workgroupBarrier();
        let previous${k + 1} = firstPass[localIndex % ${REDUCE_CHANNELS}u];
        workgroupBarrier();` : '';
    return sum(pass, k) + share;
  }).join('\n');
  return {
    declarations: `${Array.from({ length: termCount }, (_, j) => `var<workgroup> partial${j} : array<f32, ${REDUCE_THREADS}>;`).join('\n')}
      var<workgroup> firstPass : array<f32, ${REDUCE_CHANNELS}>;`,
    body: `
        let lane = i32(localIndex / ${REDUCE_CHANNELS}u);
        // This workgroup's rows: all of them, or chunk workgroupId.y of uniforms.chunkRows (split statistics).
        let rowStart = i32(workgroupId.y) * uniforms.chunkRows;
        let rowEnd = min(rowStart + uniforms.chunkRows, uniforms.rows);
        let rowCount = rowEnd - rowStart;
        let c = i32(workgroupId.x) * ${REDUCE_CHANNELS} + i32(localIndex % ${REDUCE_CHANNELS}u);
        ${passesCode}
        if (localIndex < ${REDUCE_CHANNELS}u && c < uniforms.channels) {
          ${finish}
        }`,
  };
}

/** A tfjs program of `channelReduceCode` with one output (written by `finish` through setOutputAtIndex). */
function channelReduceProgram(outputShape: number[], channels: number, shaderKey: string, variableNames: string[], passes: ReducePass[], finish: string, chunks = 1): WebGpuProgramLike {
  const { declarations, body } = channelReduceCode(passes, finish);
  return {
    outputShape,
    shaderKey,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: reduceWorkgroups(channels, chunks),
    variableNames,
    workgroupSize: [REDUCE_THREADS, 1, 1],
    size: true,
    uniforms: BN_UNIFORMS,
    getUserCode: () => `
      ${declarations}
      fn main(index : i32) {
        ${body}
      }`,
  };
}

/** The uniform struct and bindings of a multi-output shader: runMultiOutputProgram binds outputs, inputs, then uniforms. */
function multiOutputBindings(outputs: string[], inputs: string[]): string {
  return [
    `struct Uniforms { ${BN_UNIFORMS} }`,
    ...outputs.map((name, i) => `@group(0) @binding(${i}) var<storage, read_write> ${name} : array<f32>;`),
    ...inputs.map((name, i) => `@group(0) @binding(${outputs.length + i}) var<storage, read> ${name} : array<f32>;`),
    `@group(0) @binding(${outputs.length + inputs.length}) var<storage, read> uniforms : Uniforms;`,
  ].join('\n      ');
}

/**
 * A complete shader of `channelReduceCode` with several outputs (runMultiOutputProgram's bindings: outputs, inputs,
 * then the uniforms), written by `finish` as `name[i] = value`.
 */
function channelReduceMultiOutput(key: string, outputs: string[], inputs: string[], passes: ReducePass[], finish: string): MultiOutputProgram {
  const { declarations, body } = channelReduceCode(passes, finish);
  return {
    key,
    code: `
      ${multiOutputBindings(outputs, inputs)}
      ${declarations}
      @compute @workgroup_size(${REDUCE_THREADS})
      fn main(@builtin(local_invocation_index) localIndex : u32, @builtin(workgroup_id) workgroupId : vec3<u32>) {
        ${body}
      }`,
  };
}

// x̂ of element `o` in channel `c`, from the batch statistics [mean..., variance...].
const X_HAT = 'let xHat = (x[o] - stats[c]) * inverseSqrt(stats[uniforms.channels + c] + uniforms.epsilon);';
// The upstream gradient of element `o`, masked where the fused ReLU was closed.
const gradient = (relu: boolean) => (relu ? 'let g = select(0.0, dy[o], y[o] > 0.0);' : 'let g = dy[o];');

/** The batch mean, then the biased variance (a second pass over the rows, around the mean). */
const STATS_PASSES: ReducePass[] = [
  { terms: ['x[o]'] },
  { prelude: 'let d = x[o] - previous1 / f32(rowCount);', terms: ['d * d'] },
];
const STATS_FINISH = `let n = f32(rowCount);
          let mean = firstPass[localIndex] / n;
          let variance = partial0[localIndex] / n;`;

/** stats [2, C]: row 0 the batch mean, row 1 the biased variance. */
const statsProgram = (channels: number) => channelReduceProgram([2, channels], channels, 'thfrBnStats', ['x'], STATS_PASSES, `${STATS_FINISH}
          setOutputAtIndex(c, mean);
          setOutputAtIndex(uniforms.channels + c, variance);`);

/** PyTorch's running update of channel `c` (the variance unbiased, n / (n - 1) σ²) as WGSL expressions. */
const RUNNING_MEAN = (running: string, mean: string) => `(1.0 - uniforms.momentum) * ${running} + uniforms.momentum * ${mean}`;
const RUNNING_VAR = (running: string, variance: string) => `(1.0 - uniforms.momentum) * ${running} + uniforms.momentum * ${variance} * n / max(n - 1.0, 1.0)`;

/** The statistics and both running updates in one shader: outputs stats [2, C], newRunningMean [C], newRunningVar [C]. */
const STATS_AND_RUNNING_PROGRAM = channelReduceMultiOutput('thfrBnStatsRunning', ['stats', 'newRunningMean', 'newRunningVar'], ['x', 'runningMean', 'runningVar'], STATS_PASSES, `${STATS_FINISH}
          stats[c] = mean;
          stats[uniforms.channels + c] = variance;
          newRunningMean[c] = ${RUNNING_MEAN('runningMean[c]', 'mean')};
          newRunningVar[c] = ${RUNNING_VAR('runningVar[c]', 'variance')};`);

/**
 * Split statistics, for batches with many rows per channel: a layer of 256 channels gives the one-workgroup-per-8-
 * channels reduction 32 workgroups, each looping over every row. Split, each workgroup takes 8 channels and one chunk of
 * `chunkRows` rows and writes that chunk's mean and sum of squared deviations (partials [chunks, 2, C]); a second shader
 * combines the chunks per channel (Chan et al.'s pairwise update, in chunk order), so the variance stays two-pass
 * accurate. The gradient sums split the same way: partial dβ and dγ per chunk, then summed in chunk order.
 */
const partialStatsProgram = (channels: number, chunks: number) => channelReduceProgram([chunks, 2, channels], channels, 'thfrBnPartialStats', ['x'], STATS_PASSES, `
          let chunk = i32(workgroupId.y);
          setOutputAtIndex(chunk * 2 * uniforms.channels + c, firstPass[localIndex] / f32(rowCount));
          setOutputAtIndex((chunk * 2 + 1) * uniforms.channels + c, partial0[localIndex]);`, chunks);

/** WGSL: the number of row chunks. */
const CHUNKS = 'let chunks = (uniforms.rows + uniforms.chunkRows - 1) / uniforms.chunkRows;';

/** WGSL: the batch mean and biased variance of channel `c` from the chunks' partials (`partial` [chunks, 2, C]). */
const COMBINE_CHUNKS = `var count = 0.0;
        var mean = 0.0;
        var squares = 0.0;
        ${CHUNKS}
        for (var r = 0; r < chunks; r++) {
          let size = f32(min(uniforms.chunkRows, uniforms.rows - r * uniforms.chunkRows));
          let chunkMean = partial[r * 2 * uniforms.channels + c];
          let total = count + size;
          let delta = chunkMean - mean;
          mean = mean + delta * (size / total);
          squares = squares + partial[(r * 2 + 1) * uniforms.channels + c] + delta * delta * (count * size / total);
          count = total;
        }
        let n = f32(uniforms.rows);
        let variance = squares / n;`;

/** stats [2, C] from the partials (one output: the one-program-per-output path). */
const combineStatsProgram = (channels: number) => flatProgram([2, channels], 'thfrBnCombineStats', ['partial'], `
        let c = index % uniforms.channels;
        ${COMBINE_CHUNKS}
        setOutputAtIndex(index, select(mean, variance, index >= uniforms.channels));`);

/** One thread per channel, with several outputs (runMultiOutputProgram's bindings: outputs, inputs, then the uniforms). */
function perChannelMultiOutput(key: string, outputs: string[], inputs: string[], body: string): MultiOutputProgram {
  return {
    key,
    code: `
      ${multiOutputBindings(outputs, inputs)}
      @compute @workgroup_size(${PER_CHANNEL_WORKGROUP})
      fn main(@builtin(global_invocation_id) id : vec3<u32>) {
        let c = i32(id.x);
        if (c >= uniforms.channels) { return; }
        ${body}
      }`,
  };
}
const PER_CHANNEL_WORKGROUP = 64;
const perChannelWorkgroups = (channels: number): [number, number, number] => [Math.ceil(channels / PER_CHANNEL_WORKGROUP), 1, 1];

/** The combined statistics and both running updates in one shader. */
const COMBINE_STATS_AND_RUNNING_PROGRAM = perChannelMultiOutput('thfrBnCombineStatsRunning', ['stats', 'newRunningMean', 'newRunningVar'], ['partial', 'runningMean', 'runningVar'], `
        ${COMBINE_CHUNKS}
        stats[c] = mean;
        stats[uniforms.channels + c] = variance;
        newRunningMean[c] = ${RUNNING_MEAN('runningMean[c]', 'mean')};
        newRunningVar[c] = ${RUNNING_VAR('runningVar[c]', 'variance')};`);

/** Partial dβ and dγ per chunk: [chunks, 2, C]. */
const partialGradientSumsProgram = (channels: number, chunks: number, relu: boolean) => channelReduceProgram([chunks, 2, channels], channels, `thfrBnPartialSums${relu ? 'Relu' : ''}`,
  ['dy', 'x', 'stats', ...(relu ? ['y'] : [])], [gradientSumPass(relu, ['beta', 'gamma'])], `
          let chunk = i32(workgroupId.y);
          setOutputAtIndex(chunk * 2 * uniforms.channels + c, partial0[localIndex]);
          setOutputAtIndex((chunk * 2 + 1) * uniforms.channels + c, partial1[localIndex]);`, chunks);

/** WGSL: term `which` (0: dβ, 1: dγ) of channel `c` summed over the chunks in order, into `name`. */
const sumChunks = (which: 0 | 1, name: string) => `var ${name} = 0.0;
        for (var r = 0; r < chunks; r++) { ${name} = ${name} + partial[(r * 2 + ${which}) * uniforms.channels + c]; }`;

/** dβ or dγ from the partials (one output). */
const sumChunksProgram = (channels: number, which: 0 | 1) => flatProgram([channels], `thfrBnSumChunks${which}`, ['partial'], `
        let c = index;
        ${CHUNKS}
        ${sumChunks(which, 'sum')}
        setOutputAtIndex(index, sum);`);

/** dβ and dγ from the partials in one shader. */
const SUM_CHUNKS_PROGRAM = perChannelMultiOutput('thfrBnSumChunks', ['dBeta', 'dGamma'], ['partial'], `
        ${CHUNKS}
        ${sumChunks(0, 'beta')}
        ${sumChunks(1, 'gamma')}
        dBeta[c] = beta;
        dGamma[c] = gamma;`);

const normaliseProgram = (shape: number[], relu: boolean) => flatProgram(shape, `thfrBnY${relu ? 'Relu' : ''}`, ['x', 'stats', 'gamma', 'beta'], `
        let o = index;
        let c = index % uniforms.channels;
        ${X_HAT}
        let v = xHat * gamma[c] + beta[c];
        setOutputAtIndex(index, ${relu ? 'max(v, 0.0)' : 'v'});`);

/** PyTorch's running update; the variance is the unbiased n / (n - 1) σ². */
const runningProgram = (channels: number, which: 'mean' | 'var') => flatProgram([channels], `thfrBnRunning${which}`, ['stats', 'running'], which === 'mean'
  ? `setOutputAtIndex(index, ${RUNNING_MEAN('running[index]', 'stats[index]')});`
  : `let n = f32(uniforms.rows);
        setOutputAtIndex(index, ${RUNNING_VAR('running[index]', 'stats[uniforms.channels + index]')});`);

/** The terms of dβ = Σ g and dγ = Σ g x̂. */
const gradientSumPass = (relu: boolean, which: Array<'beta' | 'gamma'>): ReducePass => ({
  prelude: which.includes('gamma') ? `${gradient(relu)}
            ${X_HAT}` : gradient(relu),
  terms: which.map((w) => (w === 'beta' ? 'g' : 'g * xHat')),
});

/** dβ or dγ per channel. */
const gradientSumProgram = (channels: number, which: 'beta' | 'gamma', relu: boolean) => channelReduceProgram(
  [channels], channels, `thfrBnSum${which}${relu ? 'Relu' : ''}`, which === 'beta' ? ['dy', ...(relu ? ['y'] : [])] : ['dy', 'x', 'stats', ...(relu ? ['y'] : [])],
  [gradientSumPass(relu, [which])],
  'setOutputAtIndex(c, partial0[localIndex]);');

/** dβ and dγ in one shader: outputs dBeta [C], dGamma [C]; without, then with the ReLU's mask. */
const GRADIENT_SUMS_PROGRAMS = [false, true].map((relu) => channelReduceMultiOutput(`thfrBnSums${relu ? 'Relu' : ''}`, ['dBeta', 'dGamma'], ['dy', 'x', 'stats', ...(relu ? ['y'] : [])],
  [gradientSumPass(relu, ['beta', 'gamma'])],
  `dBeta[c] = partial0[localIndex];
          dGamma[c] = partial1[localIndex];`));

/** dx = γ / sqrt(σ² + ε) · (g - dβ / n - x̂ dγ / n). */
const inputGradientProgram = (shape: number[], relu: boolean) => flatProgram(shape, `thfrBnDx${relu ? 'Relu' : ''}`, ['dy', 'x', 'stats', 'gamma', 'dBeta', 'dGamma', ...(relu ? ['y'] : [])], `
        let o = index;
        let c = index % uniforms.channels;
        ${gradient(relu)}
        ${X_HAT}
        let n = f32(uniforms.rows);
        let k = gamma[c] * inverseSqrt(stats[uniforms.channels + c] + uniforms.epsilon);
        setOutputAtIndex(index, k * (g - dBeta[c] / n - xHat * dGamma[c] / n));`);

/** The rows per channel of `x` ([..., C]), and the chunks they split into (1: one workgroup per 8 channels takes all). */
function rowChunks(x: TensorInfo, chunkRows: number): { rows: number; chunkRows: number; chunks: number } {
  const rows = tf.util.sizeFromShape(x.shape) / x.shape[x.shape.length - 1];
  const chunks = chunkRows > 0 ? Math.ceil(rows / chunkRows) : 1;
  return chunks >= MIN_CHUNKS ? { rows, chunkRows, chunks } : { rows, chunkRows: rows, chunks: 1 };
}

/** The variants a tuner chooses between where a call would split: the sums over all rows (the baseline) or the split. */
export const BATCH_NORM_SPLIT_VARIANTS = ['whole', 'split'] as const;

interface BatchNormSettings { multiOutput: boolean; splitRows: number; tuner?: KernelTuner }

/** This call's row chunks: split where `splitRows` makes enough chunks and, with a tuner, where it timed the split faster. */
function chunksOf(kernelName: string, args: KernelArgs, settings: BatchNormSettings): { chunkRows: number; chunks: number } {
  const split = rowChunks(args.inputs.x, settings.splitRows);
  if (split.chunks === 1 || settings.tuner == null || settings.tuner.variantFor(kernelName, args, BATCH_NORM_SPLIT_VARIANTS) === 'split') return split;
  return rowChunks(args.inputs.x, 0);
}

function uniforms(x: TensorInfo, attrs: Record<string, unknown>, chunkRows: number): Uniform[] {
  const channels = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / channels;
  return [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [channels] },
    { type: 'float32', data: [attrs.epsilon as number] },
    { type: 'float32', data: [(attrs.momentum as number | undefined) ?? 0] },
    { type: 'int32', data: [chunkRows] },
  ];
}

/** Frees an intermediate this kernel made (tfjs keeps its buffer until the commands that use it are submitted). */
const disposeData = (backend: unknown, info: TensorInfo) => (backend as { disposeData(dataId: object): boolean }).disposeData(info.dataId);

function checkFloat(inputs: Record<string, TensorInfo>, kernel: string): void {
  for (const [name, info] of Object.entries(inputs)) {
    if (info && info.dtype !== 'float32') throw new Error(`${kernel}: '${name}' must be float32, got ${info.dtype}`);
  }
}

const forward = (settings: BatchNormSettings) => (args: KernelArgs): TensorInfo[] => {
  const { inputs, attrs = {}, backend } = args;
  checkFloat(inputs, THFR_BATCH_NORM_TRAIN);
  const gpu = backend as WebGpuBackendLike;
  const { x, gamma, beta, runningMean, runningVar } = inputs;
  const channels = x.shape[x.shape.length - 1];
  const { chunkRows, chunks } = chunksOf(THFR_BATCH_NORM_TRAIN, args, settings);
  const u = uniforms(x, attrs, chunkRows);
  const recorder = settings.multiOutput ? webGpuInternals(backend) : undefined;
  // Split: the statistics come from the chunks' partials; otherwise straight from x.
  const partial = chunks > 1 ? gpu.runWebGPUProgram(partialStatsProgram(channels, chunks), [x], 'float32', u) : undefined;
  let stats: TensorInfo;
  let newRunningMean: TensorInfo;
  let newRunningVar: TensorInfo;
  if (recorder) {
    [stats, newRunningMean, newRunningVar] = partial
      ? runMultiOutputProgram(recorder, COMBINE_STATS_AND_RUNNING_PROGRAM, perChannelWorkgroups(channels), [[2, channels], [channels], [channels]], [partial, runningMean, runningVar], packUniforms(u))
      : runMultiOutputProgram(recorder, STATS_AND_RUNNING_PROGRAM, reduceWorkgroups(channels), [[2, channels], [channels], [channels]], [x, runningMean, runningVar], packUniforms(u));
  } else {
    stats = partial ? gpu.runWebGPUProgram(combineStatsProgram(channels), [partial], 'float32', u) : gpu.runWebGPUProgram(statsProgram(channels), [x], 'float32', u);
    newRunningMean = gpu.runWebGPUProgram(runningProgram(channels, 'mean'), [stats, runningMean], 'float32', u);
    newRunningVar = gpu.runWebGPUProgram(runningProgram(channels, 'var'), [stats, runningVar], 'float32', u);
  }
  if (partial) disposeData(backend, partial);
  const y = gpu.runWebGPUProgram(normaliseProgram(x.shape, Boolean(attrs.relu)), [x, stats, gamma, beta], 'float32', u);
  return [y, stats, newRunningMean, newRunningVar];
};

const backward = (settings: BatchNormSettings) => (args: KernelArgs): TensorInfo[] => {
  const { inputs, attrs = {}, backend } = args;
  checkFloat(inputs, THFR_BATCH_NORM_TRAIN_GRAD);
  const gpu = backend as WebGpuBackendLike;
  const { dy, x, stats, gamma, y } = inputs;
  const relu = Boolean(attrs.relu);
  const channels = x.shape[x.shape.length - 1];
  const { chunkRows, chunks } = chunksOf(THFR_BATCH_NORM_TRAIN_GRAD, args, settings);
  const u = uniforms(x, attrs, chunkRows);
  const masked = relu ? [y] : [];
  const recorder = settings.multiOutput ? webGpuInternals(backend) : undefined;
  const partial = chunks > 1 ? gpu.runWebGPUProgram(partialGradientSumsProgram(channels, chunks, relu), [dy, x, stats, ...masked], 'float32', u) : undefined;
  const [dBeta, dGamma] = partial
    ? (recorder
      ? runMultiOutputProgram(recorder, SUM_CHUNKS_PROGRAM, perChannelWorkgroups(channels), [[channels], [channels]], [partial], packUniforms(u))
      : [gpu.runWebGPUProgram(sumChunksProgram(channels, 0), [partial], 'float32', u), gpu.runWebGPUProgram(sumChunksProgram(channels, 1), [partial], 'float32', u)])
    : recorder
    ? runMultiOutputProgram(recorder, GRADIENT_SUMS_PROGRAMS[Number(relu)], reduceWorkgroups(channels), [[channels], [channels]], [dy, x, stats, ...masked], packUniforms(u))
    : [
      gpu.runWebGPUProgram(gradientSumProgram(channels, 'beta', relu), [dy, ...masked], 'float32', u),
      gpu.runWebGPUProgram(gradientSumProgram(channels, 'gamma', relu), [dy, x, stats, ...masked], 'float32', u),
    ];
  if (partial) disposeData(backend, partial);
  const dx = gpu.runWebGPUProgram(inputGradientProgram(x.shape, relu), [dy, x, stats, gamma, dBeta, dGamma, ...masked], 'float32', u);
  return [dx, dGamma, dBeta];
};

export interface WebGpuBatchNormOptions {
  /**
   * Write several outputs from one shader (webgpu-internals.ts' multi-output programs) where the backend allows it: 4
   * shaders per layer and step instead of 7 (the statistics with both running updates; dβ with dγ). Default true; the
   * outputs are the same floats either way.
   */
  multiOutputShaders?: boolean;
  /**
   * Split the per-channel sums over chunks of this many rows (rows = the batch's pixels, N x H x W) where that makes at
   * least 4 chunks: one workgroup per 8 channels and chunk, then one shader that combines the chunks (Chan et al.'s
   * update for the variance). One more shader forward and one backward, and C / 8 x chunks workgroups instead of C / 8,
   * each looping over a chunk instead of every row. 0 (the default until it is timed on a GPU) never splits.
   */
  splitRows?: number;
  /**
   * Split only the calls a tuner timed faster split (kernel-tuner.ts): a shape runs whole until the tuner has timed
   * both ways. Without a tuner, every call that can split (`splitRows`) does.
   */
  tuner?: KernelTuner;
}

/** Registers the fused training batch norm for tfjs-backend-webgpu (idempotent); returns the kernel names. */
export function registerWebGpuBatchNormKernels(backendName = 'webgpu', options: WebGpuBatchNormOptions = {}): string[] {
  const multiOutput = options.multiOutputShaders ?? true;
  const splitRows = options.splitRows ?? 0;
  if (!Number.isInteger(splitRows) || splitRows < 0) throw new RangeError(`registerWebGpuBatchNormKernels: splitRows must be a non-negative integer, got ${splitRows}`);
  const settings: BatchNormSettings = { multiOutput, splitRows, tuner: options.tuner };
  for (const [kernelName, kernelFunc] of [[THFR_BATCH_NORM_TRAIN, forward(settings)], [THFR_BATCH_NORM_TRAIN_GRAD, backward(settings)]] as const) {
    replaceKernel(kernelName, backendName, kernelFunc);
  }
  return [THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD];
}
