import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { tf } from '@thfr/tensor';
import { expectClose } from '@thfr/tensor/testing';
import { initRuntime, wasmThreadsCount } from '../src/index.js';

const savedEnv = { ...process.env };
afterEach(() => {
  process.env = { ...savedEnv };
});
afterAll(async () => {
  await initRuntime({ prefer: ['wasm'], threads: 1 });
});

/** conv2d forward + both gradients and an Adam step on a small conv net, as plain arrays. */
async function workload(): Promise<Float32Array[]> {
  const x = tf.randomUniform([2, 24, 24, 32], -1, 1, 'float32', 1) as tf.Tensor4D;
  const k = tf.randomUniform([3, 3, 32, 48], -0.2, 0.2, 'float32', 2) as tf.Tensor4D;
  const w = tf.variable(tf.randomUniform([3, 3, 48, 16], -0.2, 0.2, 'float32', 3));
  const y = tf.conv2d(x, k, 1, 'same');
  const [dx, dk] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))))([x, k]);
  const adam = tf.train.adam(0.01);
  for (let i = 0; i < 2; i++) adam.minimize(() => tf.mean(tf.square(tf.conv2d(tf.relu(tf.conv2d(x, k, 1, 'same')), w as tf.Tensor4D, 1, 'same'))), false, [w]);
  const out = await Promise.all([y, dx, dk, w].map(async (t) => (await t.data()) as Float32Array));
  adam.dispose();
  tf.dispose([x, k, w, y, dx, dk]);
  return out;
}

describe('wasm threads in Node (tfjs threaded SIMD build on worker_threads)', () => {
  it('runs a pool of 2 threads and gives the single-threaded results (rtol 1e-5)', async () => {
    const one = await initRuntime({ prefer: ['wasm'], threads: 1 });
    expect(one.description.details.threads).toBe(1);
    const expected = await workload();

    const two = await initRuntime({ prefer: ['wasm'], threads: 2 });
    expect(two.backend).toBe('wasm');
    expect(two.description.details.threads).toBe(2);
    expect(await wasmThreadsCount()).toBe(2);
    expect(two.description.missingTrainingKernels).toEqual([]);
    const actual = await workload();
    ['y', 'dx', 'dk', 'w after Adam'].forEach((name, i) => expectClose(actual[i], expected[i], 1e-5, name));
  });

  it('takes the count from THFR_WASM_THREADS, up to tfjs\' limit of 8', async () => {
    process.env.THFR_WASM_THREADS = '3';
    expect((await initRuntime({ prefer: ['wasm'] })).description.details.threads).toBe(3);
    process.env.THFR_WASM_THREADS = '1';
    expect((await initRuntime({ prefer: ['wasm'] })).description.details.threads).toBe(1);
    expect((await initRuntime({ prefer: ['wasm'], threads: 12 })).description.details.threads).toBe(8);
    process.env.THFR_WASM_THREADS = 'many';
    const error = await initRuntime({ prefer: ['wasm'] }).catch((e) => e);
    expect(error.message).toContain('THFR_WASM_THREADS=many: expected a whole number >= 1 or "auto"');
  });

  it('writes the pthread worker script to a file that worker_threads can start', async () => {
    await initRuntime({ prefer: ['wasm'], threads: 2 });
    const { tmpdir } = await import('node:os');
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(tmpdir()).filter((f) => /^thfr-tfjs-wasm-[0-9a-f]{16}\.worker\.cjs$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    expect(existsSync(`${tmpdir()}/${files[0]}`)).toBe(true);
  });
});
