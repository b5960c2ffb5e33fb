/**
 * KernelTuner (kernel-tuner.ts) on the cpu backend, with test kernels whose variants are known: faster or slower by a
 * busy wait, wrong in one output, or throwing. The properties: untimed shapes run the baseline and are noted once per
 * shape and attributes; tune() keeps the fastest variant that agrees with the baseline; a variant that disagrees or
 * throws is never chosen; calls noted during tuning (a baseline that runs another tuned kernel) are tuned in the same
 * run; @thfr/tensor's tunePendingKernels drives registered tuners; no tensor is leaked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf, tunePendingKernels, type Tensor } from '@thfr/tensor';
import { KernelTuner } from '../src/kernel-tuner.js';
import { parseKernelSwitch } from '../src/webgpu-kernel-choices.js';
import { borrow, composed, type KernelArgs } from '../src/composed-kernel.js';

const busyWait = (milliseconds: number) => {
  const until = performance.now() + milliseconds;
  while (performance.now() < until);
};

/** What each variant of the test kernel computes from x (scale = the attribute), and how long it takes. */
const VARIANTS: Record<string, (x: Tensor, scale: number) => Tensor> = {
  slowBaseline: (x, scale) => {
    busyWait(3);
    return tf.mul(x, scale);
  },
  quickBaseline: (x, scale) => tf.mul(x, scale),
  fast: (x, scale) => tf.mul(x, scale),
  slow: (x, scale) => {
    busyWait(3);
    return tf.mul(x, scale);
  },
  fastButWrong: (x, scale) => tf.mul(x, scale * 1.01),
  throws: () => {
    throw new Error('this variant cannot run here');
  },
  // Runs the nested kernel (itself tuned) before scaling: its call is noted while the outer one is timed.
  nesting: (x, scale) => tf.mul(tf.engine().runKernel(NESTED, { x }, { scale: 1 }) as Tensor, scale),
};

const SCALE = 'ThfrTunerTestScale';
const NESTED = 'ThfrTunerTestNested';
const PAIR = 'ThfrTunerTestPair';
let tuner: KernelTuner;
let variants: [string, ...string[]];
const runs: Record<string, number> = {};

function scaleKernel(name: string, variantsOf: () => [string, ...string[]]) {
  return composed((args: KernelArgs) => {
    const variant = tuner.variantFor(name, args, variantsOf());
    runs[variant] = (runs[variant] ?? 0) + 1;
    const x = borrow(args.inputs.x, args.backend);
    return VARIANTS[variant](x, args.attrs?.scale as number);
  });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.registerKernel({ kernelName: SCALE, backendName: 'cpu', kernelFunc: scaleKernel(SCALE, () => variants) as never });
  tf.registerKernel({ kernelName: NESTED, backendName: 'cpu', kernelFunc: scaleKernel(NESTED, () => ['slowBaseline', 'fast']) as never });
  // Two outputs; the candidate is wrong in the second only.
  tf.registerKernel({
    kernelName: PAIR, backendName: 'cpu',
    kernelFunc: ((args: KernelArgs) => tf.tidy(() => {
      const x = borrow(args.inputs.x, args.backend);
      const variant = tuner.variantFor(PAIR, args, ['slowBaseline', 'fast']);
      if (variant === 'slowBaseline') busyWait(3);
      return [tf.mul(x, 2), tf.mul(x, variant === 'fast' ? 3.1 : 3)];
    })) as never,
  });
});

afterAll(() => {
  for (const name of [SCALE, NESTED, PAIR]) tf.unregisterKernel(name, 'cpu');
});

const scale = (x: Tensor, factor = 2) => tf.engine().runKernel(SCALE, { x }, { scale: factor }) as Tensor;

function counting(fn: () => void): Record<string, number> {
  const before = { ...runs };
  fn();
  return Object.fromEntries(Object.entries(runs).map(([name, count]) => [name, count - (before[name] ?? 0)]).filter(([, count]) => count !== 0));
}

function callOnce(shape: number[], factor = 2): void {
  tf.tidy(() => {
    scale(tf.ones(shape), factor);
  });
}

describe('KernelTuner', () => {
  it('runs the baseline for shapes not timed yet, noting each shape and attributes once', () => {
    tuner = new KernelTuner({ callsInFlight: 2, rounds: 2 });
    variants = ['slowBaseline', 'fast'];
    expect(counting(() => callOnce([4, 4]))).toEqual({ slowBaseline: 1 });
    callOnce([4, 4]);
    expect(tuner.pendingCount).toBe(1);
    callOnce([8, 2]);
    callOnce([4, 4], 3);
    expect(tuner.pendingCount).toBe(3);
  });

  it('keeps the faster variant that agrees, and runs it from then on', async () => {
    const made = await tuner.tune();
    expect(made).toHaveLength(3);
    expect(tuner.pendingCount).toBe(0);
    for (const choice of made) {
      expect(choice.kernelName).toBe(SCALE);
      expect(choice.chosen).toBe('fast');
      expect(choice.milliseconds.slowBaseline).toBeGreaterThan(choice.milliseconds.fast);
      expect(choice.differences.fast).toBe(0);
    }
    expect(made.map((choice) => choice.shapes.x)).toEqual([[4, 4], [8, 2], [4, 4]]);
    expect(counting(() => callOnce([4, 4]))).toEqual({ fast: 1 });
    expect(counting(() => callOnce([4, 4], 3))).toEqual({ fast: 1 });
    // A new shape is the baseline's again until it is timed.
    expect(counting(() => callOnce([5, 5]))).toEqual({ slowBaseline: 1 });
    expect(tuner.choices()).toHaveLength(3);
  });

  it('keeps the baseline where it is the faster', async () => {
    tuner = new KernelTuner({ callsInFlight: 2, rounds: 2 });
    variants = ['quickBaseline', 'slow'];
    callOnce([4, 4]);
    const [choice] = await tuner.tune();
    expect(choice.chosen).toBe('quickBaseline');
    expect(choice.milliseconds.slow).toBeGreaterThan(choice.milliseconds.quickBaseline);
    expect(counting(() => callOnce([4, 4]))).toEqual({ quickBaseline: 1 });
  });

  it('never chooses a variant whose floats differ from the baseline, or one that throws', async () => {
    tuner = new KernelTuner({ callsInFlight: 2, rounds: 1, tolerance: 1e-3 });
    variants = ['slowBaseline', 'fastButWrong', 'throws'];
    callOnce([4, 4]);
    const [choice] = await tuner.tune();
    expect(choice.chosen).toBe('slowBaseline');
    expect(choice.differences.fastButWrong).toBeCloseTo(0.01, 6);
    expect(choice.rejected.fastButWrong).toMatch(/differs from slowBaseline by 1\.00e-2 \(tolerance 0\.001\)/);
    expect(choice.rejected.throws).toBe('this variant cannot run here');
    // Nothing valid to race against: the baseline is kept without timing.
    expect(choice.milliseconds).toEqual({});
    expect(counting(() => callOnce([4, 4]))).toEqual({ slowBaseline: 1 });
  });

  it('keeps the baseline, without stopping, where the baseline itself fails on random inputs', async () => {
    tuner = new KernelTuner({ callsInFlight: 2, rounds: 1 });
    variants = ['quickBaseline', 'fast'];
    callOnce([4, 4]);
    const original = VARIANTS.quickBaseline;
    VARIANTS.quickBaseline = () => {
      throw new Error('no kernel for these values');
    };
    try {
      const [choice] = await tuner.tune();
      expect(choice.chosen).toBe('quickBaseline');
      expect(choice.rejected.fast).toBe('the baseline failed on random inputs: no kernel for these values');
    } finally {
      VARIANTS.quickBaseline = original;
    }
  });

  it('accepts a difference within the tolerance', async () => {
    tuner = new KernelTuner({ callsInFlight: 2, rounds: 1, tolerance: 0.02 });
    variants = ['slowBaseline', 'fastButWrong'];
    callOnce([4, 4]);
    const [choice] = await tuner.tune();
    expect(choice.chosen).toBe('fastButWrong');
  });

  it('compares every output of a multi-output kernel', async () => {
    tuner = new KernelTuner({ callsInFlight: 2, rounds: 1 });
    tf.tidy(() => {
      tf.engine().runKernel(PAIR, { x: tf.ones([3, 3]) }, {});
    });
    const [choice] = await tuner.tune();
    expect(choice.chosen).toBe('slowBaseline');
    expect(choice.rejected.fast).toMatch(/differs/);
  });

  it('tunes in the same run the calls its timings note (a baseline that runs another tuned kernel)', async () => {
    tuner = new KernelTuner({ callsInFlight: 2, rounds: 1 });
    variants = ['nesting', 'slow'];
    callOnce([4, 4]);
    expect(tuner.pendingCount).toBe(2); // the outer call and the nested one it ran
    const made = await tuner.tune();
    expect(made.map((choice) => choice.kernelName).sort()).toEqual([NESTED, SCALE]);
    expect(made.find((choice) => choice.kernelName === NESTED)?.chosen).toBe('fast');
    expect(tuner.pendingCount).toBe(0);
  });

  it('is driven by @thfr/tensor\'s tunePendingKernels once registered', async () => {
    tuner = new KernelTuner({ callsInFlight: 2, rounds: 1 });
    variants = ['slowBaseline', 'fast'];
    const unregister = tuner.register();
    try {
      callOnce([4, 4]);
      callOnce([6, 6]);
      expect(await tunePendingKernels()).toBe(2);
      expect(await tunePendingKernels()).toBe(0);
      expect(counting(() => callOnce([6, 6]))).toEqual({ fast: 1 });
    } finally {
      unregister();
    }
    callOnce([7, 7]);
    expect(await tunePendingKernels()).toBe(0);
    expect(tuner.pendingCount).toBe(1);
  });

  it('times a call on the backend it ran on, and gives the active backend back', async () => {
    tuner = new KernelTuner({ callsInFlight: 2, rounds: 1 });
    variants = ['slowBaseline', 'fast'];
    callOnce([4, 4]);
    tf.registerBackend('cpu-twin', () => new (tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend)());
    try {
      await tf.setBackend('cpu-twin');
      const [choice] = await tuner.tune();
      // The test kernels exist for 'cpu' only: timed anywhere else they would not run at all.
      expect(choice.chosen).toBe('fast');
      expect(tf.getBackend()).toBe('cpu-twin');
    } finally {
      await tf.setBackend('cpu');
      tf.removeBackend('cpu-twin');
    }
  });

  it('shares one run between concurrent tune() calls', async () => {
    tuner = new KernelTuner({ callsInFlight: 2, rounds: 1 });
    variants = ['slowBaseline', 'fast'];
    callOnce([4, 4]);
    const [first, second] = await Promise.all([tuner.tune(), tuner.tune()]);
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(0);
    expect(tuner.choices()).toHaveLength(1);
  });

  it('leaks no tensor', async () => {
    tuner = new KernelTuner({ callsInFlight: 3, rounds: 2 });
    variants = ['slowBaseline', 'fast', 'fastButWrong', 'throws'];
    const before = tf.memory().numTensors;
    for (const shape of [[2, 2], [3, 5], [9]]) callOnce(shape);
    await tuner.tune();
    for (const shape of [[2, 2], [3, 5], [9]]) callOnce(shape);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses bad options', () => {
    expect(() => new KernelTuner({ callsInFlight: 0 })).toThrow(/callsInFlight must be a positive integer, got 0/);
    expect(() => new KernelTuner({ rounds: 1.5 })).toThrow(/rounds must be a positive integer, got 1.5/);
    expect(() => new KernelTuner({ tolerance: -1 })).toThrow(/tolerance must be a non-negative number, got -1/);
  });
});

describe('parseKernelSwitch (THFR_WEBGPU_TILED_GEMM, THFR_WEBGPU_SPLIT_BATCH_NORM)', () => {
  it('reads on, off and auto, and names the variable of anything else', () => {
    for (const value of ['1', 'true', 'on', ' ON ']) expect(parseKernelSwitch('X', value)).toBe(true);
    for (const value of [undefined, '', '0', 'false', 'off']) expect(parseKernelSwitch('X', value)).toBe(false);
    expect(parseKernelSwitch('X', 'Auto')).toBe('auto');
    expect(() => parseKernelSwitch('THFR_WEBGPU_TILED_GEMM', 'yes please')).toThrow("THFR_WEBGPU_TILED_GEMM must be 1, 0 or auto, got 'yes please'");
  });
});
