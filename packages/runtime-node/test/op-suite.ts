/**
 * The cross-backend op suite: each case is written once and run on every backend present, its outputs
 * (forward values and gradients) compared with the same case run on the reference backend (cpu).
 * Plain functions without vitest, so bench/gpu-checks.ts can run them on a GPU host too.
 *
 * Inputs come from a seeded generator (mulberry32), identical on every backend and reproducible in
 * Python (fixtures/make_fixtures.py) for the PyTorch cross-check of the reference itself.
 * Shapes are small: WebGPU on SwiftShader runs at ~0.6 GFLOP/s.
 */
import { tf, THFR_ADAM_STEP, THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD } from '@thfr/tensor';
import type { Tensor } from '@thfr/tensor';
import { registerArrayAdamStep, registerBatchNormKernels } from '@thfr/runtime-common';
import { closeness } from '@thfr/tensor/testing';

export interface OpCase {
  name: string;
  /** Input name -> shape; values are seeded uniform in [-1, 1). */
  inputs: Record<string, number[]>;
  /** Kernels of the forward pass and of the backward pass (for the coverage table). */
  forwardKernels: string[];
  gradientKernels: string[];
  /** Allowed max |actual - expected| / max |expected| per output. */
  rtol: number;
  /** Outputs (forward values, gradients...) as named tensors; runs inside tf.tidy. */
  run: (inputs: Record<string, Tensor>) => Record<string, Tensor>;
}

/** mulberry32: a tiny seeded generator, reimplemented in fixtures/make_fixtures.py. */
export function seededUniform(seed: number, count: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = 2 * u - 1;
  }
  return out;
}

/** A stable seed from a case and input name (FNV-1a). */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const T = (t: Tensor) => t as tf.Tensor4D;

/** Forward value and the gradients of sum(y * r) (r a fixed random tensor of y's shape) wrt `wrt`. */
function valueAndGrads(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], names: string[], salt: string): Record<string, Tensor> {
  const y = f(...xs);
  const r = tf.tensor(seededUniform(seedOf(`${salt}/r`), y.size), y.shape);
  const grads = tf.grads((...args: Tensor[]) => tf.sum(tf.mul(f(...args), r)))(xs);
  const out: Record<string, Tensor> = { y };
  names.forEach((n, i) => (out[`d${n}`] = grads[i]));
  return out;
}

function convCase(stride: number, pad: 'same' | 'valid'): OpCase {
  const name = `conv2d 3x3 s${stride} ${pad}`;
  return {
    name,
    inputs: { x: [2, 9, 9, 4], w: [3, 3, 4, 6] },
    forwardKernels: ['Conv2D'],
    gradientKernels: ['Conv2DBackpropInput', 'Conv2DBackpropFilter'],
    rtol: 1e-4,
    run: ({ x, w }) => valueAndGrads((a, b) => tf.conv2d(T(a), T(b), stride, pad), [x, w], ['x', 'w'], name),
  };
}

const EPS = 1e-5;

function batchNormTrain(x: Tensor, gamma: Tensor, beta: Tensor): Tensor {
  // Batch statistics over N, H, W (biased variance), as torch BatchNorm2d in train mode.
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPS))), gamma), beta);
}

function cosineSimilarity(a: Tensor, b: Tensor): Tensor {
  const dot = tf.sum(tf.mul(a, b), -1);
  const norms = tf.mul(tf.sqrt(tf.sum(tf.mul(a, a), -1)), tf.sqrt(tf.sum(tf.mul(b, b), -1)));
  return tf.div(dot, norms);
}

/** THFR_ADAM_STEP called 3 times on three parameters (a conv kernel, a bias, a matrix) with the moments it returns. */
function adamStepKernel(inputs: Record<string, Tensor>): Record<string, Tensor> {
  const names = ['k', 'b', 'w'];
  let params = names.map((n) => inputs[n]);
  const total = params.reduce((a, p) => a + p.size, 0);
  let [m, v] = [tf.zeros([total]), tf.zeros([total])];
  const attrs = { count: 3, learningRate: 0.01, beta1: 0.5, beta2: 0.999, epsilon: 1e-7 };
  for (let step = 0; step < 3; step++) {
    const kernelInputs: Record<string, Tensor> = { m, v, accBeta1: tf.scalar(0.5 ** (step + 1)), accBeta2: tf.scalar(0.999 ** (step + 1)) };
    params.forEach((p, i) => {
      kernelInputs[`param${i}`] = p;
      kernelInputs[`grad${i}`] = tf.mul(inputs[`g${names[i]}`], step + 1);
    });
    [m, v, ...params] = tf.engine().runKernel(THFR_ADAM_STEP, kernelInputs, attrs as never) as Tensor[];
  }
  return { m, v, k: params[0], b: params[1], w: params[2] };
}

/** Two conv layers trained for 3 Adam steps (lr 0.005, betas 0.5/0.999 as the paper). */
function adamSteps(inputs: Record<string, Tensor>): Record<string, Tensor> {
  const w1 = tf.variable(tf.mul(inputs.w1, 0.3), true, undefined, 'float32');
  const w2 = tf.variable(tf.mul(inputs.w2, 0.3), true, undefined, 'float32');
  const optimizer = tf.train.adam(0.005, 0.5, 0.999, 1e-8);
  const losses: Tensor[] = [];
  for (let step = 0; step < 3; step++) {
    const loss = optimizer.minimize(() => {
      const h = tf.relu(tf.conv2d(T(inputs.x), w1 as tf.Tensor4D, 1, 'same'));
      const y = tf.conv2d(h, w2 as tf.Tensor4D, 2, 'same');
      return tf.mean(tf.square(tf.sub(y, inputs.target))) as tf.Scalar;
    }, true)!;
    losses.push(loss);
  }
  const out = { losses: tf.stack(losses), w1: tf.clone(w1), w2: tf.clone(w2) };
  optimizer.dispose();
  w1.dispose();
  w2.dispose();
  return out;
}

// The reference backend runs @thfr/runtime-common's fused batch norm too (its arithmetic is checked against PyTorch's
// BatchNorm2d in @thfr/nn's torch-parity test); initRuntime registers it on the backend under test.
registerBatchNormKernels('cpu');
registerArrayAdamStep('cpu');

/** The fused training batch norm's two kernels, called directly: every output of both. */
function fusedBatchNormCase(relu: boolean, shape = [4, 5, 5, 3]): OpCase {
  const channels = shape[3];
  return {
    name: `fused training batch norm${relu ? ' + ReLU' : ''}, ${channels} channels (${THFR_BATCH_NORM_TRAIN})`,
    inputs: { x: shape, gamma: [channels], beta: [channels], runningMean: [channels], runningVar: [channels], dy: shape },
    forwardKernels: [THFR_BATCH_NORM_TRAIN],
    gradientKernels: [THFR_BATCH_NORM_TRAIN_GRAD],
    rtol: 1e-4,
    run: ({ x, gamma, beta, runningMean, runningVar, dy }) => {
      const attrs = { epsilon: EPS, momentum: 0.1, relu };
      // Shifted and scaled so that the statistics are not those of a centred input.
      const input = tf.add(tf.mul(x, 3), 1.5);
      const [y, stats, newRunningMean, newRunningVar] = tf.engine().runKernel(THFR_BATCH_NORM_TRAIN, { x: input, gamma, beta, runningMean, runningVar: tf.add(tf.abs(runningVar), 0.5) }, attrs) as Tensor[];
      const [dx, dGamma, dBeta] = tf.engine().runKernel(THFR_BATCH_NORM_TRAIN_GRAD, { dy, x: input, stats, gamma, y }, attrs) as Tensor[];
      return { y, stats, newRunningMean, newRunningVar, dx, dGamma, dBeta };
    },
  };
}

export const OP_CASES: OpCase[] = [
  fusedBatchNormCase(false),
  fusedBatchNormCase(true),
  // WebGPU sums 8 channels per workgroup: 3 workgroups, the last one partly empty.
  fusedBatchNormCase(true, [2, 6, 7, 20]),
  convCase(1, 'same'),
  convCase(1, 'valid'),
  convCase(2, 'same'),
  convCase(2, 'valid'),
  {
    name: 'conv2dTranspose 2x2 s2',
    inputs: { x: [2, 4, 4, 6], w: [2, 2, 4, 6] },
    forwardKernels: ['Conv2DBackpropInput'],
    gradientKernels: ['Conv2D', 'Conv2DBackpropFilter'],
    rtol: 1e-4,
    run: ({ x, w }) => valueAndGrads((a, b) => tf.conv2dTranspose(T(a), T(b), [2, 8, 8, 4], 2, 'same'), [x, w], ['x', 'w'], 'conv2dTranspose'),
  },
  {
    name: 'conv2dTranspose 3x3 s1 same',
    inputs: { x: [1, 5, 5, 6], w: [3, 3, 4, 6] },
    forwardKernels: ['Conv2DBackpropInput'],
    gradientKernels: ['Conv2D', 'Conv2DBackpropFilter'],
    rtol: 1e-4,
    run: ({ x, w }) => valueAndGrads((a, b) => tf.conv2dTranspose(T(a), T(b), [1, 5, 5, 4], 1, 'same'), [x, w], ['x', 'w'], 'conv2dTranspose s1'),
  },
  {
    name: 'batchNorm train (batch statistics)',
    inputs: { x: [4, 5, 5, 3], gamma: [3], beta: [3] },
    forwardKernels: ['Mean', 'SquaredDifference', 'Sub', 'RealDiv', 'Sqrt', 'Multiply', 'Add'],
    gradientKernels: ['Sum', 'Multiply', 'RealDiv', 'Neg'],
    rtol: 1e-4,
    run: ({ x, gamma, beta }) => valueAndGrads(batchNormTrain, [x, gamma, beta], ['x', 'gamma', 'beta'], 'batchNorm train'),
  },
  {
    name: 'batchNorm inference',
    inputs: { x: [2, 4, 4, 3], mean: [3], variance: [3], gamma: [3], beta: [3] },
    forwardKernels: ['FusedBatchNorm'],
    gradientKernels: [],
    rtol: 1e-5,
    run: ({ x, mean, variance, gamma, beta }) => ({
      y: tf.batchNorm(x, mean, tf.add(tf.abs(variance), 0.1), beta, gamma, EPS),
    }),
  },
  {
    name: 'maxPool 2x2 s2',
    inputs: { x: [2, 8, 8, 3] },
    forwardKernels: ['MaxPool'],
    gradientKernels: ['MaxPoolGrad'],
    rtol: 1e-5,
    run: ({ x }) => valueAndGrads((a) => tf.maxPool(T(a), 2, 2, 'valid'), [x], ['x'], 'maxPool'),
  },
  {
    name: 'maxPool 3x3 s2 same (ResNet stem, after relu)',
    inputs: { x: [2, 9, 9, 3] },
    forwardKernels: ['MaxPool'],
    gradientKernels: ['MaxPoolGrad'],
    rtol: 1e-5,
    // relu makes ties (zeros) common: the gradient must go to one position per window.
    run: ({ x }) => valueAndGrads((a) => tf.maxPool(tf.relu(T(a)), 3, 2, 'same'), [x], ['x'], 'maxPool3'),
  },
  {
    name: 'avgPool 3x3 s1 same',
    inputs: { x: [2, 6, 6, 3] },
    forwardKernels: ['AvgPool'],
    gradientKernels: ['AvgPoolGrad'],
    rtol: 1e-5,
    run: ({ x }) => valueAndGrads((a) => tf.avgPool(T(a), 3, 1, 'same'), [x], ['x'], 'avgPool'),
  },
  {
    name: 'avgPool 4x4 s4 (template downsampling)',
    inputs: { x: [1, 8, 8, 5] },
    forwardKernels: ['AvgPool'],
    gradientKernels: ['AvgPoolGrad'],
    rtol: 1e-5,
    run: ({ x }) => valueAndGrads((a) => tf.avgPool(T(a), 4, 4, 'valid'), [x], ['x'], 'avgPool4'),
  },
  {
    name: 'global max pool',
    inputs: { x: [2, 4, 4, 8] },
    forwardKernels: ['Max'],
    gradientKernels: ['Equal', 'Cast', 'Multiply'],
    rtol: 1e-5,
    run: ({ x }) => valueAndGrads((a) => tf.max(a, [1, 2], true), [x], ['x'], 'globalMaxPool'),
  },
  {
    name: 'matMul',
    inputs: { a: [17, 33], b: [33, 9] },
    forwardKernels: ['BatchMatMul'],
    gradientKernels: ['BatchMatMul'],
    rtol: 1e-5,
    run: ({ a, b }) => valueAndGrads((p, q) => tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D), [a, b], ['a', 'b'], 'matMul'),
  },
  {
    name: 'concat (channels)',
    inputs: { a: [2, 3, 3, 4], b: [2, 3, 3, 5] },
    forwardKernels: ['Concat'],
    gradientKernels: ['Slice'],
    rtol: 0,
    run: ({ a, b }) => valueAndGrads((p, q) => tf.concat([p, q], 3), [a, b], ['a', 'b'], 'concat'),
  },
  {
    name: 'resizeBilinear x2 (half-pixel centres)',
    inputs: { x: [2, 5, 5, 3] },
    forwardKernels: ['ResizeBilinear'],
    gradientKernels: ['ResizeBilinearGrad'],
    rtol: 1e-5,
    run: ({ x }) => valueAndGrads((a) => tf.image.resizeBilinear(T(a), [10, 10], false, true), [x], ['x'], 'resize'),
  },
  {
    name: 'resizeBilinear 4->16 (align corners)',
    inputs: { x: [1, 4, 4, 2] },
    forwardKernels: ['ResizeBilinear'],
    gradientKernels: ['ResizeBilinearGrad'],
    rtol: 1e-5,
    run: ({ x }) => valueAndGrads((a) => tf.image.resizeBilinear(T(a), [16, 16], true, false), [x], ['x'], 'resize ac'),
  },
  {
    name: 'cosine similarity (sum, mul, sqrt, div)',
    inputs: { a: [2, 4, 4, 16], b: [2, 4, 4, 16] },
    forwardKernels: ['Sum', 'Multiply', 'Sqrt', 'RealDiv'],
    gradientKernels: ['Sum', 'Multiply', 'RealDiv', 'Neg', 'Square'],
    rtol: 1e-5,
    run: ({ a, b }) => valueAndGrads(cosineSimilarity, [a, b], ['a', 'b'], 'cosine'),
  },
  {
    name: `FusedAdam's step, 3 calls on 3 parameters (${THFR_ADAM_STEP})`,
    inputs: { k: [3, 3, 2, 4], b: [4], w: [5, 6], gk: [3, 3, 2, 4], gb: [4], gw: [5, 6] },
    forwardKernels: [THFR_ADAM_STEP],
    gradientKernels: [],
    rtol: 1e-5,
    run: adamStepKernel,
  },
  {
    name: 'Adam, 3 steps on a 2-layer conv net',
    inputs: { x: [2, 8, 8, 3], w1: [3, 3, 3, 8], w2: [3, 3, 8, 4], target: [2, 4, 4, 4] },
    forwardKernels: ['Conv2D', 'Relu', 'SquaredDifference', 'Mean'],
    gradientKernels: ['Conv2DBackpropInput', 'Conv2DBackpropFilter', 'Sqrt', 'Square', 'RealDiv'],
    rtol: 1e-3,
    run: adamSteps,
  },
];

export interface CaseValues {
  [output: string]: { shape: number[]; values: Float32Array };
}

/** Runs a case on the active backend and reads its outputs. */
export async function evaluateCase(c: OpCase): Promise<CaseValues> {
  const inputs: Record<string, Tensor> = {};
  for (const [name, shape] of Object.entries(c.inputs)) {
    inputs[name] = tf.tensor(seededUniform(seedOf(`${c.name}/${name}`), shape.reduce((a, b) => a * b, 1)), shape);
  }
  const outputs = tf.tidy(() => c.run(inputs));
  const values: CaseValues = {};
  for (const [name, t] of Object.entries(outputs)) values[name] = { shape: t.shape, values: (await t.data()) as Float32Array };
  tf.dispose([outputs, inputs] as never);
  return values;
}

export interface CaseComparison {
  case: string;
  backend: string;
  ok: boolean;
  /** Worst relative error over the outputs, and which output. */
  worst: { output: string; maxRel: number; maxAbs: number };
  /** Kernels the backend lacks for this case (then ok is false and error says so). */
  missing: string[];
  error?: string;
}

/** Kernels of the case that `backend` lacks, forward and gradient. */
export function missingForCase(c: OpCase, backend: string): string[] {
  return [...new Set([...c.forwardKernels, ...c.gradientKernels])].filter((k) => tf.getKernel(k, backend) == null);
}

/**
 * Runs `c` on `backend` and on `reference`, compares every output. Leaves `backend` active.
 * A missing kernel is reported (not thrown) so the suite can list coverage.
 */
export async function compareCase(c: OpCase, backend: string, reference = 'cpu'): Promise<CaseComparison> {
  const missing = missingForCase(c, backend);
  const worst = { output: '', maxRel: 0, maxAbs: 0 };
  if (missing.length > 0) {
    return { case: c.name, backend, ok: false, worst, missing, error: `backend '${backend}' has no kernel ${missing.join(', ')} for ${c.name}` };
  }
  await tf.setBackend(reference);
  const expected = await evaluateCase(c);
  await tf.setBackend(backend);
  let actual: CaseValues;
  try {
    actual = await evaluateCase(c);
  } catch (error) {
    return { case: c.name, backend, ok: false, worst, missing, error: (error as Error).message.split('\n')[0] };
  }
  let ok = true;
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name];
    if (a == null || a.shape.join() !== e.shape.join()) {
      return { case: c.name, backend, ok: false, worst, missing, error: `${name}: shape [${a?.shape}] vs [${e.shape}]` };
    }
    const cl = closeness(a.values, e.values);
    if (cl.maxRel > c.rtol && cl.maxAbs > 1e-7) ok = false;
    if (cl.maxRel >= worst.maxRel) Object.assign(worst, { output: name, maxRel: cl.maxRel, maxAbs: cl.maxAbs });
  }
  return { case: c.name, backend, ok, worst, missing, error: ok ? undefined : `${worst.output}: relative error ${worst.maxRel.toExponential(2)} > ${c.rtol}` };
}

/** Markdown table of which cases' kernels a backend has (forward / gradient). */
export function coverageTable(backends: string[], cases: OpCase[] = OP_CASES): string {
  const mark = (kernels: string[], backend: string) => {
    const missing = kernels.filter((k) => tf.getKernel(k, backend) == null);
    return kernels.length === 0 ? '-' : missing.length === 0 ? 'yes' : `**no: ${missing.join(', ')}**`;
  };
  const lines = [`| op | ${backends.map((b) => `${b} forward | ${b} gradient`).join(' | ')} |`, `|---|${backends.map(() => '---|---|').join('')}`];
  for (const c of cases) lines.push(`| ${c.name} | ${backends.map((b) => `${mark(c.forwardKernels, b)} | ${mark(c.gradientKernels, b)}`).join(' | ')} |`);
  return lines.join('\n');
}

/** One line per comparison, for logs. */
export function formatComparison(r: CaseComparison): string {
  const status = r.ok ? 'ok  ' : 'FAIL';
  return `${status} ${r.backend.padEnd(7)} ${r.case.padEnd(42)} max rel ${r.worst.maxRel.toExponential(2)} (${r.worst.output || '-'})${r.error ? `  ${r.error}` : ''}`;
}
