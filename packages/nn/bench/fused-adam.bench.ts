/**
 * Kernel dispatches and wall time of one training step with tf.train.adam (per variable) and FusedAdam
 * (flat buffers), on a stack of ConvBnAct blocks (3 variables each: conv weight, BN gamma, BN beta).
 * Run: npx vitest run --config vitest.bench.config.ts bench/fused-adam.bench.ts
 * Env: BENCH_BACKENDS=wasm,cpu (default wasm), BENCH_BLOCKS=33 (99 variables), BENCH_STEPS=10.
 * "kernels" = kernels run through tfjs' engine (tf.profile), "compute" = those other than Reshape (a
 * Reshape moves no data on any backend: it is bookkeeping, not a dispatch).
 */
import { it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { closeness } from '@thfr/tensor/testing';
import { registerWasmTrainingKernels } from '@thfr/runtime-common';
import { ConvBnAct, FusedAdam, Initializer, Sequential } from '../src/index.js';

const backends = (process.env.BENCH_BACKENDS ?? 'wasm').split(',');
const blocks = Number(process.env.BENCH_BLOCKS ?? 33);
const steps = Number(process.env.BENCH_STEPS ?? 10);
const [batch, size, channels] = [4, 16, 16];

type Stepper = { step: (f: () => tf.Scalar) => tf.Scalar; apply: (g: tf.NamedTensorMap) => void; dispose: () => void };

function net(): Sequential<ConvBnAct> {
  const init = new Initializer(7);
  return new Sequential(Array.from({ length: blocks }, () => new ConvBnAct(channels, channels, 3, init)));
}

async function profileCounts(fn: () => void): Promise<{ kernels: number; compute: number }> {
  const info = await tf.profile(fn);
  return { kernels: info.kernels.length, compute: info.kernels.filter((k) => k.name !== 'Reshape').length };
}

async function measure(name: string, model: Sequential<ConvBnAct>, make: (vars: tf.Variable[]) => Stepper, x: tf.Tensor4D): Promise<Float32Array[]> {
  const vars = model.trainableVariables();
  const opt = make(vars);
  const loss = () => tf.mean(tf.square(model.forward(x))) as tf.Scalar;
  opt.step(loss).dispose(); // warm-up (and creates tfjs' lazily made moments)
  const whole = await profileCounts(() => opt.step(loss).dispose());
  const { value, grads } = tf.variableGrads(loss, vars);
  const optimizerOnly = await profileCounts(() => opt.apply(grads));
  const times: number[] = [];
  const applyTimes: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const l = opt.step(loss);
    await l.data();
    l.dispose();
    times.push(performance.now() - t0);
    const t1 = performance.now();
    opt.apply(grads);
    await vars[vars.length - 1].data();
    applyTimes.push(performance.now() - t1);
  }
  tf.dispose([value, ...Object.values(grads)]);
  const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  console.log(
    `${tf.getBackend()} ${name}: ${vars.length} variables (${vars.reduce((s, v) => s + v.size, 0)} values); ` +
      `training step ${whole.kernels} kernels (${whole.compute} without Reshape), ${median(times).toFixed(1)} ms; ` +
      `optimizer update alone ${optimizerOnly.kernels} kernels (${optimizerOnly.compute} without Reshape), ${median(applyTimes).toFixed(1)} ms`,
  );
  const values = await Promise.all(vars.map(async (v) => (await v.data()) as Float32Array));
  opt.dispose();
  return values;
}

for (const backend of backends) {
  it(`FusedAdam vs tf.train.adam on ${backend}`, async () => {
    await tf.setBackend(backend);
    if (backend === 'wasm') registerWasmTrainingKernels();
    const x = tf.randomNormal([batch, size, size, channels], 0, 1, 'float32', 3) as tf.Tensor4D;
    const a = net().train();
    const b = net().train();
    const unfused = await measure('tf.train.adam', a, (vars) => {
      const adam = tf.train.adam(1e-3);
      return { step: (f) => adam.minimize(f, true, vars)!, apply: (g) => adam.applyGradients(g as never), dispose: () => adam.dispose() };
    }, x);
    const fused = await measure('FusedAdam', b, (vars) => {
      const adam = new FusedAdam(vars, { learningRate: 1e-3 });
      return { step: (f) => adam.minimize(f), apply: (g) => adam.applyGradients(g), dispose: () => adam.dispose() };
    }, x);
    let worst = 0;
    unfused.forEach((u, i) => (worst = Math.max(worst, closeness(fused[i], u).maxRel)));
    console.log(`${backend}: after ${2 * steps + 3} identical steps, worst relative difference of a variable: ${worst.toExponential(2)}`);
    a.dispose();
    b.dispose();
    x.dispose();
  });
}
