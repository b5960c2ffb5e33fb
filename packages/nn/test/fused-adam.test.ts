import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tf, THFR_ADAM_STEP } from '@thfr/tensor';
import { adamStepSimdFor, registerArrayAdamStep, registerWasmTrainingKernels } from '@thfr/runtime-common';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { FusedAdam, partitionIntoBuckets } from '../src/index.js';

// Before any describe body runs: importing tfjs-backend-wasm made wasm the highest-priority backend.
await tf.setBackend('cpu');

// A small network whose variables have different shapes and ranks: conv kernel, biases, a dense
// matrix, a scale vector and a 1-element parameter.
const SHAPES: number[][] = [[3, 3, 2, 4], [4], [3, 3, 4, 4], [4], [64, 5], [5], [5], [1]];

function makeVariables(seed: number): tf.Variable[] {
  return SHAPES.map((shape, i) => tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, 0.3, 'float32', seed + i))));
}

function cloneVariables(vars: readonly tf.Variable[]): tf.Variable[] {
  return vars.map((v) => tf.tidy(() => tf.variable(tf.clone(v))));
}

const x = tf.keep(tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 101)) as tf.Tensor4D;
const target = tf.keep(tf.randomNormal([2, 5], 0, 1, 'float32', 102)) as tf.Tensor2D;
afterAll(() => tf.dispose([x, target]));

function lossOf(vars: readonly tf.Variable[], skip: number[] = []): () => tf.Scalar {
  const [k1, b1, k2, b2, w, b, scale, shift] = vars;
  return () =>
    tf.tidy(() => {
      let h = tf.relu(tf.add(tf.conv2d(x, k1 as tf.Tensor4D, 1, 'same'), b1)) as tf.Tensor4D;
      h = tf.relu(tf.add(tf.conv2d(h, k2 as tf.Tensor4D, 1, 'same'), b2)) as tf.Tensor4D;
      let y = tf.add(tf.matMul(tf.reshape(h, [2, 64]), w as tf.Tensor2D), b);
      if (!skip.includes(6)) y = tf.mul(y, scale);
      if (!skip.includes(7)) y = tf.add(y, shift);
      return tf.mean(tf.square(tf.sub(y, target))) as tf.Scalar;
    });
}

async function expectSameValues(actual: readonly tf.Tensor[], expected: readonly tf.Tensor[], what: string): Promise<void> {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(actual[i].shape, `${what} ${i}`).toEqual(expected[i].shape);
    expectClose(await actual[i].data(), await expected[i].data(), 1e-6, `${what} ${i} [${expected[i].shape}]`);
  }
}

// Every test runs twice: with FusedAdam's element-wise ops, and with @thfr/runtime-common's THFR_ADAM_STEP kernel
// registered for cpu (what initRuntime registers), which FusedAdam then runs instead.
for (const kernel of [false, true]) {
describe(`FusedAdam (${kernel ? 'THFR_ADAM_STEP kernel on cpu' : 'element-wise ops'})`, () => {
  beforeAll(() => {
    if (kernel) registerArrayAdamStep('cpu');
    else if (tf.getKernel(THFR_ADAM_STEP, 'cpu')) tf.unregisterKernel(THFR_ADAM_STEP, 'cpu');
  });
  afterAll(() => {
    if (tf.getKernel(THFR_ADAM_STEP, 'cpu')) tf.unregisterKernel(THFR_ADAM_STEP, 'cpu');
  });

  // 40 values per bucket: the 72-value conv kernels get buckets of their own, the small ones share.
  for (const bucketSize of [undefined, 40]) {
    const buckets = bucketSize ? `, buckets of ${bucketSize} values` : '';
    it(`matches tf.train.adam within 1e-6 over 5 steps (values, losses, moments${buckets})`, async () => {
      const reference = makeVariables(1);
      const fusedVars = cloneVariables(reference);
      const adam = tf.train.adam(0.01, 0.9, 0.999);
      const fused = new FusedAdam(fusedVars, { learningRate: 0.01, beta1: 0.9, beta2: 0.999, bucketSize });
      expect(fused.epsilon).toBe(1e-7);
      expect(fused.size).toBe(SHAPES.reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0));
      for (let step = 0; step < 5; step++) {
        const l1 = adam.minimize(lossOf(reference), true, reference)!;
        const l2 = fused.minimize(lossOf(fusedVars));
        expectClose(await l2.data(), await l1.data(), 1e-6, `loss at step ${step + 1}`);
        tf.dispose([l1, l2]);
        await expectSameValues(fusedVars, reference, `variable after step ${step + 1}`);
      }
      expect(fused.iterations).toBe(5);
      const [w1, w2] = [await adam.getWeights(), await fused.getWeights()];
      const rename = new Map(reference.map((v, i) => [v.name, fusedVars[i].name]));
      expect(w2.map((w) => w.name)).toEqual(w1.map((w) => w.name.replace(/^(.*)\/([mv])$/, (_, n, mv) => `${rename.get(n)}/${mv}`)));
      expect(w2[1].name).toBe(`${fusedVars[0].name}/m`);
      expect(await w2[0].tensor.data()).toEqual(await w1[0].tensor.data());
      await expectSameValues(w2.slice(1).map((w) => w.tensor), w1.slice(1).map((w) => w.tensor), 'moment');
      tf.dispose([w1[0].tensor, ...w2.map((w) => w.tensor)]);
      adam.dispose();
      fused.dispose();
      tf.dispose([...reference, ...fusedVars]);
    });

    it(`leaves variables without a gradient (and their moments) untouched, as tf.train.adam does${buckets}`, async () => {
      const reference = makeVariables(21);
      const fusedVars = cloneVariables(reference);
      const adam = tf.train.adam(0.05);
      const fused = new FusedAdam(fusedVars, { learningRate: 0.05, bucketSize });
      for (let step = 0; step < 4; step++) {
        // Steps 2 and 3 do not use `scale` (6) / `shift` (7).
        const skip = step === 1 ? [6] : step === 2 ? [6, 7] : [];
        // tfjs' variableGrads leaves out variables the loss does not reach; minimize with a varList then
        // passes them to applyGradients without a tensor, which skips them.
        adam.minimize(lossOf(reference, skip), true, reference)!.dispose();
        fused.minimize(lossOf(fusedVars, skip)).dispose();
        await expectSameValues(fusedVars, reference, `variable after step ${step + 1}`);
      }
      const [w1, w2] = [await adam.getWeights(), await fused.getWeights()];
      await expectSameValues(w2.slice(1).map((w) => w.tensor), w1.slice(1).map((w) => w.tensor), 'moment');
      tf.dispose([w1[0].tensor, ...w2.map((w) => w.tensor)]);
      adam.dispose();
      fused.dispose();
      tf.dispose([...reference, ...fusedVars]);
    });

    it(`leaks no tensor across steps, getWeights/setWeights and dispose${buckets}`, async () => {
      const vars = makeVariables(31);
      const before = tf.memory().numTensors;
      const fused = new FusedAdam(vars, { learningRate: 0.01, bucketSize });
      await expectNoLeak(() => fused.minimize(lossOf(vars)).dispose(), 3, 'FusedAdam.minimize');
      await expectNoLeak(() => fused.minimize(lossOf(vars, [7])).dispose(), 3, 'FusedAdam.minimize with a variable without gradient');
      await expectNoLeak(async () => {
        const state = await fused.getWeights();
        await fused.setWeights(state);
        tf.dispose(state.map((w) => w.tensor));
      }, 3, 'getWeights + setWeights');
      fused.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(() => fused.minimize(lossOf(vars))).toThrow('FusedAdam: used after dispose()');
      tf.dispose(vars);
    });
  }

  it('resumes from its own getWeights and from tf.train.adam state, and tf.train.adam resumes from it', async () => {
    const steps = async (opt: { minimize: (f: () => tf.Scalar) => tf.Scalar | null }, vars: tf.Variable[], n: number) => {
      for (let i = 0; i < n; i++) opt.minimize(lossOf(vars))?.dispose();
    };
    // Reference: tf.train.adam, 3 steps, then 2 more.
    const reference = makeVariables(11);
    const adam = tf.train.adam(0.02, 0.8, 0.99, 1e-6);
    const adamStep = { minimize: (f: () => tf.Scalar) => adam.minimize(f, true, reference) };
    await steps(adamStep, reference, 3);
    const afterThree = cloneVariables(reference);
    const adamState = await adam.getWeights();

    // FusedAdam resumed from tf.train.adam's state.
    const fromTfjs = cloneVariables(afterThree);
    const fusedA = new FusedAdam(fromTfjs, { learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 });
    await fusedA.setWeights(adamState.map(({ name, tensor }) => ({ name, tensor })));
    expect(fusedA.iterations).toBe(3);

    // A second FusedAdam resumed from the first one's state.
    const fusedStateVars = cloneVariables(afterThree);
    const fusedB = new FusedAdam(fusedStateVars, { learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, bucketSize: 100 });
    const stateA = await fusedA.getWeights();
    await fusedB.setWeights(stateA);

    // tf.train.adam resumed from FusedAdam's state (it takes the tensors over as its variables).
    const tfjsVars = cloneVariables(afterThree);
    const adam2 = tf.train.adam(0.02, 0.8, 0.99, 1e-6);
    await adam2.setWeights(stateA.map(({ name, tensor }) => ({ name, tensor: tf.clone(tensor) })));
    tf.dispose(stateA.map((w) => w.tensor));

    await steps(adamStep, reference, 2);
    await steps(fusedA, fromTfjs, 2);
    await steps(fusedB, fusedStateVars, 2);
    await steps({ minimize: (f) => adam2.minimize(f, true, tfjsVars) }, tfjsVars, 2);
    await expectSameValues(fromTfjs, reference, 'FusedAdam from tf.train.adam state');
    await expectSameValues(fusedStateVars, reference, 'FusedAdam from FusedAdam state');
    await expectSameValues(tfjsVars, reference, 'tf.train.adam from FusedAdam state');

    tf.dispose(adamState[0].tensor); // tfjs' 'iter' scalar is new; its m/v are its own variables
    [adam, adam2, fusedA, fusedB].forEach((o) => o.dispose());
    tf.dispose([...reference, ...afterThree, ...fromTfjs, ...fusedStateVars, ...tfjsVars]);
  });


  it('rejects a state of other variables with one clear error', async () => {
    const vars = makeVariables(41);
    const fused = new FusedAdam(vars);
    const state = await fused.getWeights();
    await expect(fused.setWeights(state.slice(0, 5))).rejects.toThrow('FusedAdam.setWeights: 4 moment tensors for 8 variables; expected 16 (m then v per variable) or none');
    const swapped = [state[0], state[2], state[1], ...state.slice(3)];
    await expect(fused.setWeights(swapped)).rejects.toThrow(/'.*\/m' has shape \[4\], expected \[3,3,2,4\] \(m of variable 0/);
    tf.dispose(state.map((w) => w.tensor));
    expect(() => new FusedAdam([])).toThrow('FusedAdam: no variables to optimise');
    expect(() => new FusedAdam([vars[0], vars[0]])).toThrow(/is listed twice/);
    fused.dispose();
    tf.dispose(vars);
  });
  it('partitions greedily by bucketSize, and takes an explicit partition of the same buckets', async () => {
    const sizes = SHAPES.map((shape) => shape.reduce((a, b) => a * b, 1)); // 72, 4, 144, 4, 320, 5, 5, 1
    expect(partitionIntoBuckets(sizes, 40)).toEqual([[0], [1], [2], [3], [4], [5, 6, 7]]);
    expect(partitionIntoBuckets(sizes, 1000)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7]]);
    expect(partitionIntoBuckets(sizes, 150)).toEqual([[0, 1], [2, 3], [4], [5, 6, 7]]);
    const byOption = makeVariables(7);
    const byPartition = cloneVariables(byOption);
    const a = new FusedAdam(byOption, { learningRate: 0.01, bucketSize: 150 });
    const b = new FusedAdam(byPartition, { learningRate: 0.01, buckets: [[0, 1], [2, 3], [4], [5, 6, 7]] });
    // The same buckets run the same kernels.
    const count = async (opt: FusedAdam, vars: tf.Variable[]) => (await tf.profile(async () => tf.dispose(opt.minimize(lossOf(vars))))).kernels.length;
    expect(await count(b, byPartition)).toBe(await count(a, byOption));
    await expectSameValues(byPartition, byOption, 'variables');
    expect(() => new FusedAdam(byOption, { buckets: [[0, 1], [3, 2], [4, 5, 6, 7]] })).toThrow(/consecutive runs of the 8 variable indices/);
    expect(() => new FusedAdam(byOption, { buckets: [[0, 1, 2, 3, 4, 5, 6]] })).toThrow(/consecutive runs/);
    a.dispose();
    b.dispose();
    tf.dispose([...byOption, ...byPartition]);
  });
});
}

// cpu: adamStepValues' JavaScript pass; wasm: the same pass in WebAssembly SIMD on the heap (adam-step.wat), tails
// of fewer than 4 values included (the 5- and 1-value variables).
for (const backend of ['cpu', 'wasm'] as const) describe(`FusedAdam with the THFR_ADAM_STEP kernel on ${backend}`, () => {
  beforeAll(async () => {
    await tf.setBackend(backend);
    if (backend === 'wasm') {
      registerWasmTrainingKernels(); // the loss convolves
      expect(adamStepSimdFor(tf.backend())).toBeDefined();
    }
  });
  afterAll(async () => {
    tf.unregisterKernel(THFR_ADAM_STEP, backend);
    await tf.setBackend('cpu');
  });

  for (const bucketSize of [undefined, 40]) {
    it(`gives the element-wise ops' floats bit for bit, in one kernel per bucket${bucketSize ? ', buckets of 40 values' : ''}`, async () => {
      const run = async (kernel: boolean) => {
        if (kernel) registerArrayAdamStep(backend);
        else if (tf.getKernel(THFR_ADAM_STEP, backend)) tf.unregisterKernel(THFR_ADAM_STEP, backend);
        const vars = makeVariables(41);
        const fused = new FusedAdam(vars, { learningRate: 0.03, bucketSize });
        let kernels: string[] = [];
        for (let step = 0; step < 4; step++) {
          const { value, grads } = tf.variableGrads(lossOf(vars), vars);
          const info = await tf.profile(() => fused.applyGradients(grads));
          kernels = info.kernels.map((k) => k.name);
          tf.dispose([value, ...Object.values(grads)]);
        }
        const weights = await fused.getWeights();
        const values = await Promise.all([...vars, ...weights.map((w) => w.tensor)].map((t) => t.data()));
        tf.dispose([...vars, ...weights.map((w) => w.tensor)]);
        fused.dispose();
        return { values, kernels };
      };
      const ops = await run(false);
      const kernel = await run(true);
      kernel.values.forEach((v, i) => expect(Array.from(v), `tensor ${i}`).toEqual(Array.from(ops.values[i])));
      const buckets = bucketSize ? partitionIntoBuckets(SHAPES.map((s) => s.reduce((a, b) => a * b, 1)), bucketSize).length : 1;
      expect(kernel.kernels.filter((k) => k === THFR_ADAM_STEP)).toHaveLength(buckets);
      expect(ops.kernels).not.toContain(THFR_ADAM_STEP);
      // The kernel replaces each bucket's concat, split and element-wise ops (two Multiply kernels advance accβ).
      expect(kernel.kernels.length).toBeLessThan(ops.kernels.length / 4);
    });
  }

  it('names the input that does not fit', () => {
    registerArrayAdamStep(backend);
    const attrs = { count: 1, learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    const [m, v, p, g, a1, a2, g32] = [tf.zeros([6]), tf.zeros([6]), tf.zeros([2, 3]), tf.zeros([5]), tf.scalar(0.9), tf.scalar(0.999), tf.zeros([6], 'int32')];
    expect(() => tf.engine().runKernel(THFR_ADAM_STEP, { m, v, accBeta1: a1, accBeta2: a2, param0: p, grad0: g }, attrs as never)).toThrow(/'grad0' has shape \[5\], expected 6 values/);
    expect(() => tf.engine().runKernel(THFR_ADAM_STEP, { m, v, accBeta1: a1, accBeta2: a2, param0: p, grad0: g32 }, attrs as never)).toThrow(/'grad0' must be float32, got int32/);
    tf.dispose([m, v, p, g, a1, a2, g32]);
  });
});
