// 1 - cosine along channels and its gradients against torch autograd (fixtures/cosine-gradient-fixture.json, written
// by make_cosine_gradient_fixture.py), composed of tfjs ops and as the fused kernels (@thfr/runtime-common registers
// them: the cpu kernel runs @thfr/tensor's reference arithmetic, wasm the SIMD module or, without it, the same
// reference), on the cpu and wasm backends.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { registerCosineDistanceKernels } from '@thfr/runtime-common';
import { anomalyMap, cosineDistanceComposed, cosineDistanceMap, hasFusedCosineDistance } from '../src/index.js';
import { BACKENDS, useBackend } from './backends.js';

interface GradientCase {
  shape: [number, number, number, number];
  a: number[]; b: number[]; dy: number[];
  distance: number[]; da: number[]; db: number[];
  torchDa: number[]; torchDb: number[]; clamped: boolean[];
}

const fx = JSON.parse(readFileSync(new URL('../fixtures/cosine-gradient-fixture.json', import.meta.url), 'utf8')) as { epsilon: number; cases: GradientCase[] };

const unregister = (backend: string) => {
  for (const name of [THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD]) if (tf.getKernel(name, backend)) tf.unregisterKernel(name, backend);
};

/** Values of the positions with `clamped` equal to `which`, per channel. */
function rowsWhere(values: ArrayLike<number>, c: GradientCase, which: boolean): number[] {
  const channels = c.shape[3];
  return Array.from(values).filter((_, i) => c.clamped[Math.floor(i / channels)] === which);
}

/** Distance and both gradients for upstream dy, through tf.grads (the op's gradient, fused or composed). */
function distanceAndGradients(c: GradientCase, op: typeof cosineDistanceMap): { distance: Float32Array; da: Float32Array; db: Float32Array } {
  return tf.tidy(() => {
    const a = tf.tensor4d(c.a, c.shape);
    const b = tf.tensor4d(c.b, c.shape);
    const dy = tf.tensor3d(c.dy, c.shape.slice(0, 3) as [number, number, number]);
    const distance = op(a, b);
    const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => op(x as tf.Tensor4D, y as tf.Tensor4D))([a, b], dy);
    return { distance: distance.dataSync() as Float32Array, da: da.dataSync() as Float32Array, db: db.dataSync() as Float32Array };
  });
}

function expectTorch(c: GradientCase, out: { distance: Float32Array; da: Float32Array; db: Float32Array }, what: string): void {
  expectClose(out.distance, c.distance, 0, `${what} distance`, 2e-6);
  for (const clamped of [false, true]) {
    const label = `${what} ${clamped ? 'clamped' : 'unclamped'} positions`;
    // Float32 sums over up to 1,024 channels: relative to the largest gradient of the group.
    expectClose(rowsWhere(out.da, c, clamped), rowsWhere(c.da, c, clamped), 2e-5, `${label} da`);
    expectClose(rowsWhere(out.db, c, clamped), rowsWhere(c.db, c, clamped), 2e-5, `${label} db`);
  }
  // Where the clamp is not reached this is also torch's F.cosine_similarity gradient.
  expectClose(rowsWhere(out.da, c, false), rowsWhere(c.torchDa, c, false), 2e-5, `${what} da vs F.cosine_similarity`);
  expectClose(rowsWhere(out.db, c, false), rowsWhere(c.torchDb, c, false), 2e-5, `${what} db vs F.cosine_similarity`);
}

const label = (c: GradientCase) => `[${c.shape}]${c.clamped.some(Boolean) ? ' with zero vectors' : ''}`;

describe.each(BACKENDS)('cosine distance on the %s backend', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(() => unregister(backend));

  it.each(fx.cases.map((c) => [label(c), c] as const))('composed of tfjs ops, %s: distance and gradients equal torch autograd', (_l, c) => {
    unregister(backend);
    expect(hasFusedCosineDistance()).toBe(false);
    expectTorch(c, distanceAndGradients(c, cosineDistanceMap), 'composed');
  });

  const variants: Array<{ wasmSimd?: boolean }> = backend === 'wasm' ? [{ wasmSimd: true }, { wasmSimd: false }] : [{}];
  for (const options of variants) {
    const name = backend === 'wasm' ? (options.wasmSimd ? 'SIMD kernels' : 'reference kernels') : 'fused kernels';
    it.each(fx.cases.map((c) => [label(c), c] as const))(`${name}, %s: distance and gradients equal torch autograd`, (_l, c) => {
      expect(registerCosineDistanceKernels(backend, options)).toEqual([THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD]);
      expect(hasFusedCosineDistance()).toBe(true);
      expectTorch(c, distanceAndGradients(c, cosineDistanceMap), name);
    });
  }

  it('fused: one kernel forward, the anomaly map equal to the composed one, no leaks', async () => {
    registerCosineDistanceKernels(backend);
    const levels = [[2, 8, 8, 16], [2, 4, 4, 32], [2, 2, 2, 6]] as const;
    const features = levels.map((s, i) => tf.randomNormal([...s], 0.3, 1, 'float32', i) as tf.Tensor4D);
    const restored = features.map((f, i) => tf.add(f, tf.randomNormal(f.shape, 0, 0.5, 'float32', 10 + i)) as tf.Tensor4D);
    const profile = await tf.profile(() => cosineDistanceMap(features[0], restored[0]));
    expect(profile.kernels.map((k) => k.name)).toEqual([THFR_COSINE_DISTANCE]);
    (profile.result as tf.Tensor).dispose();
    const fused = anomalyMap(features, restored, { outputSize: 16, sigma: 2 });
    const composed = tf.tidy(() => features.map((f, i) => cosineDistanceComposed(f, restored[i])));
    const fusedLevels = tf.tidy(() => features.map((f, i) => cosineDistanceMap(f, restored[i])));
    fusedLevels.forEach((m, i) => expectClose(m.dataSync(), composed[i].dataSync(), 0, `level ${i}`, 2e-6));
    await expectNoLeak(() => {
      const r = anomalyMap(features, restored, { outputSize: 16, sigma: 2 });
      tf.dispose([r.map, r.scores, ...r.levelMaps]);
    }, 3, 'anomalyMap with the fused cosine');
    await expectNoLeak(() => tf.dispose(tf.grads((x: tf.Tensor) => tf.mean(cosineDistanceMap(x as tf.Tensor4D, restored[0])))([features[0]])), 3, 'the fused cosine gradient');
    tf.dispose([fused.map, fused.scores, ...fused.levelMaps, ...composed, ...fusedLevels, ...features, ...restored]);
  });
});
