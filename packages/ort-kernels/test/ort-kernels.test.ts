import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { registerWasmTrainingKernels, wasmPatchesFor } from '@thfr/runtime-common';
import { activeOrtKernels, registerOrtKernels, withOrtKernels, ORT_KERNELS, type OrtKernels } from '../src/index.js';

// The reference is tfjs' cpu backend (its own kernels, independent of both wasm and onnxruntime); the kernels under
// test run on wasm with every op routed to onnxruntime (minFlops 0), which the stats prove.
let kernels: OrtKernels;
let wasmOwn: Map<string, unknown>;

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
  wasmOwn = new Map(ORT_KERNELS.map((name) => [name, tf.getKernel(name, 'wasm')!.kernelFunc]));
  kernels = registerOrtKernels({ minFlops: 0, threads: 2 });
});

afterAll(() => {
  activeOrtKernels()?.dispose();
});

let seed = 7;
const random = (shape: number[]) => Array.from(tf.tidy(() => tf.randomUniform(shape, -1, 1, 'float32', seed++).dataSync()));

/** Runs `fn` on `backend` with fresh tensors from `values`; returns every output's values. */
async function on(backend: 'cpu' | 'wasm', inputs: Array<{ shape: number[]; values: number[] }>, fn: (...xs: tf.Tensor[]) => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape, 'float32'));
  const outs = fn(...xs);
  const values = outs.map((o) => o.dataSync() as Float32Array);
  tf.dispose([...xs, ...outs]);
  await tf.setBackend('wasm');
  return values;
}

const onOrt = (name: string) => kernels.stats().onnxruntime[name] ?? 0;

type Geometry = { x: number[]; filter: number[]; strides: number | [number, number]; pad: 'same' | 'valid' | number | number[][] };
const geometries: Array<[string, Geometry]> = [
  ['3x3 stride 1 same', { x: [2, 9, 8, 5], filter: [3, 3, 5, 6], strides: 1, pad: 'same' }],
  ['3x3 stride 2 same (uneven padding)', { x: [2, 9, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' }],
  ['3x3 stride 2 valid, rows left unread', { x: [1, 10, 11, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'valid' }],
  ['1x1 stride 1 (pointwise)', { x: [3, 6, 5, 7], filter: [1, 1, 7, 4], strides: 1, pad: 'valid' }],
  ['1x1 stride 2', { x: [1, 6, 6, 4], filter: [1, 1, 4, 3], strides: 2, pad: 'valid' }],
  ['2x2 stride 2 valid (taps tile the input)', { x: [2, 8, 8, 3], filter: [2, 2, 3, 5], strides: 2, pad: 'valid' }],
  ['2x2 stride 2 valid on an odd input', { x: [1, 7, 7, 2], filter: [2, 2, 2, 3], strides: 2, pad: 'valid' }],
  ['rectangular 2x3, strides [2, 3]', { x: [1, 6, 9, 2], filter: [2, 3, 2, 3], strides: [2, 3], pad: 'valid' }],
  ['3x3 numeric padding 1', { x: [2, 7, 6, 3], filter: [3, 3, 3, 4], strides: 1, pad: 1 }],
  ['5x3 explicit uneven padding', { x: [2, 7, 6, 3], filter: [5, 3, 3, 4], strides: 1, pad: [[0, 0], [2, 1], [1, 2], [0, 0]] }],
];

const onWasmPatches = (name: string) => kernels.stats().wasmPatches[name] ?? 0;

// Patch matrices written on the wasm heap (the default) and built inside onnxruntime's graph (wasmPatches: false).
for (const wasmPatches of [true, false]) describe(`convolutions on onnxruntime equal tfjs cpu (rtol 1e-5), patches ${wasmPatches ? 'written on the wasm heap' : 'in the graph'}`, () => {
  beforeAll(() => {
    kernels = registerOrtKernels({ minFlops: 0, threads: 2, wasmPatches });
  });
  afterAll(() => {
    kernels = registerOrtKernels({ minFlops: 0, threads: 2 });
  });

  for (const [name, g] of geometries) {
    it(`${name}: forward, input gradient and filter gradient`, async () => {
      const xValues = random(g.x);
      const filterValues = random(g.filter);
      const conv = (x: tf.Tensor, f: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, g.strides, g.pad as 'same');
      const outShape = tf.tidy(() => conv(tf.zeros(g.x), tf.zeros(g.filter)).shape);
      const dyValues = random(outShape);
      const run = (x: tf.Tensor, f: tf.Tensor, dy: tf.Tensor) => {
        const y = conv(x, f);
        const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => conv(a, b))([x, f], dy);
        return [y, dx, df];
      };
      const inputs = [{ shape: g.x, values: xValues }, { shape: g.filter, values: filterValues }, { shape: outShape, values: dyValues }];
      const before = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].map(onOrt);
      const patchesBefore = ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'].map(onWasmPatches);
      const actual = await on('wasm', inputs, run);
      const after = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].map(onOrt);
      expect(after.map((n, i) => n - before[i])).toEqual([2, 1, 1]); // y and the gradient's own forward
      // Every convolution but the pointwise one (whose input is its own patch matrix) reads patches from the heap; the
      // input gradient of filters whose taps tile the input is scattered back from patch rows by wasm.
      const pointwise = name.startsWith('1x1 stride 1');
      const tiles = name.startsWith('2x2 stride 2 valid (taps') || name.startsWith('rectangular');
      expect(['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'].map((k, i) => onWasmPatches(k) - patchesBefore[i]))
        .toEqual(wasmPatches && !pointwise ? [2, 1, tiles ? 1 : 0] : [0, 0, 0]);
      const expected = await on('cpu', inputs, run);
      ['output', 'input gradient', 'filter gradient'].forEach((what, i) => expectClose(actual[i], expected[i], 1e-5, `${name} ${what}`));
    });
  }

  it('a dilated 3x3 forward (dilation 2)', async () => {
    const inputs = [{ shape: [1, 11, 10, 3], values: random([1, 11, 10, 3]) }, { shape: [3, 3, 3, 4], values: random([3, 3, 3, 4]) }];
    const run = (x: tf.Tensor, f: tf.Tensor) => [tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same', 'NHWC', 2)];
    const before = onOrt('Conv2D');
    const [actual] = await on('wasm', inputs, run);
    expect(onOrt('Conv2D')).toBe(before + 1);
    const [expected] = await on('cpu', inputs, run);
    expectClose(actual, expected, 1e-5, 'dilated conv');
  });

  it('conv2dTranspose (the decoder\'s 2x2 upsampling) and its gradients', async () => {
    const x = { shape: [2, 4, 5, 6], values: random([2, 4, 5, 6]) };
    const filter = { shape: [2, 2, 3, 6], values: random([2, 2, 3, 6]) };
    const dy = { shape: [2, 8, 10, 3], values: random([2, 8, 10, 3]) };
    const up = (a: tf.Tensor, f: tf.Tensor) => tf.conv2dTranspose(a as tf.Tensor4D, f as tf.Tensor4D, [2, 8, 10, 3], 2, 'valid');
    const run = (a: tf.Tensor, f: tf.Tensor, d: tf.Tensor) => [up(a, f), ...tf.grads(up)([a, f], d)];
    const actual = await on('wasm', [x, filter, dy], run);
    const expected = await on('cpu', [x, filter, dy], run);
    ['output', 'input gradient', 'filter gradient'].forEach((what, i) => expectClose(actual[i], expected[i], 1e-5, `conv2dTranspose ${what}`));
  });
});

describe('matMul on onnxruntime equals tfjs cpu (rtol 1e-5)', () => {
  const cases: Array<[string, number[], number[], boolean, boolean]> = [
    ['2-d', [7, 5], [5, 6], false, false],
    ['2-d, a transposed', [5, 7], [5, 6], true, false],
    ['2-d, b transposed', [7, 5], [6, 5], false, true],
    ['2-d, both transposed', [5, 7], [6, 5], true, true],
    ['batched 3-d', [3, 4, 5], [3, 5, 2], false, false],
    ['batched, b transposed (attention affinity)', [2, 6, 4], [2, 6, 4], false, true],
    ['batched a against one b', [3, 4, 5], [1, 5, 2], false, false],
    ['rank 4', [2, 3, 4, 5], [2, 3, 5, 6], false, false],
  ];
  for (const [name, aShape, bShape, ta, tb] of cases) {
    it(name, async () => {
      const inputs = [{ shape: aShape, values: random(aShape) }, { shape: bShape, values: random(bShape) }];
      const run = (a: tf.Tensor, b: tf.Tensor) => [tf.matMul(a, b, ta, tb)];
      const before = onOrt('BatchMatMul');
      const [actual] = await on('wasm', inputs, run);
      expect(onOrt('BatchMatMul')).toBe(before + 1);
      const [expected] = await on('cpu', inputs, run);
      expectClose(actual, expected, 1e-5, name);
    });
  }
});

describe('registration', () => {
  it('repeated kernels leak no tensors and reuse one session per geometry', async () => {
    const x = tf.randomUniform([2, 8, 8, 4], -1, 1, 'float32', 1) as tf.Tensor4D;
    const f = tf.randomUniform([3, 3, 4, 4], -1, 1, 'float32', 2) as tf.Tensor4D;
    const sessions = kernels.stats().sessions;
    await expectNoLeak(() => tf.tidy(() => {
      const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))([x, f]);
      return [dx.dataSync(), df.dataSync()];
    }), 3, 'conv with its gradients');
    // One forward, one input-gradient and one filter-gradient model for this geometry, whatever the repeats.
    expect(kernels.stats().sessions - sessions).toBeLessThanOrEqual(3);
    // Another batch size uses the same sessions (the batch is symbolic).
    const sessionsNow = kernels.stats().sessions;
    tf.tidy(() => tf.conv2d(tf.concat([x, x]), f, 1, 'same').dataSync());
    expect(kernels.stats().sessions).toBe(sessionsNow);
    tf.dispose([x, f]);
  });

  it('frees the heap scratch of every patch matrix it writes (forward, both gradients of a tiling 2x2 conv)', () => {
    const heap = wasmPatchesFor(tf.backend())!.heap;
    const { malloc, free } = heap;
    const live = new Set<number>();
    let allocations = 0;
    heap.malloc = (bytes) => {
      const pointer = malloc(bytes);
      live.add(pointer);
      allocations++;
      return pointer;
    };
    heap.free = (pointer) => {
      live.delete(pointer);
      free(pointer);
    };
    try {
      tf.tidy(() => {
        const x = tf.randomUniform([2, 8, 8, 4], -1, 1, 'float32', 3) as tf.Tensor4D;
        const f = tf.randomUniform([2, 2, 4, 6], -1, 1, 'float32', 4) as tf.Tensor4D;
        const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'valid'))([x, f]);
        dx.dataSync();
        df.dataSync();
      });
    } finally {
      Object.assign(heap, { malloc, free });
    }
    expect(allocations).toBe(3); // the forward's and the filter gradient's patches, the input gradient's patch rows
    expect(live.size).toBe(0);
  });

  it('leaves ops below minFlops to wasm, and dispose() gives the previous kernels back', async () => {
    const small = registerOrtKernels({ minFlops: 1e12, threads: 1 });
    expect(activeOrtKernels()).toBe(small);
    const x = tf.randomUniform([1, 6, 6, 2], -1, 1, 'float32', 3) as tf.Tensor4D;
    const f = tf.randomUniform([3, 3, 2, 2], -1, 1, 'float32', 4) as tf.Tensor4D;
    tf.tidy(() => tf.conv2d(x, f, 1, 'same').dataSync());
    expect(small.stats()).toMatchObject({ onnxruntime: {}, wasm: { Conv2D: 1 }, sessions: 0 });
    small.dispose();
    expect(activeOrtKernels()).toBeUndefined();
    for (const name of ORT_KERNELS) expect(tf.getKernel(name, 'wasm')!.kernelFunc).toBe(wasmOwn.get(name));
    tf.dispose([x, f]);
    kernels = registerOrtKernels({ minFlops: 0, threads: 2 });
  });

  it('withOrtKernels runs a function under other kernels, then restores the registration with its options', async () => {
    const conv = () => tf.tidy(() => tf.conv2d(tf.ones([1, 6, 6, 2]) as tf.Tensor4D, tf.ones([3, 3, 2, 2]) as tf.Tensor4D, 1, 'same').dataSync());
    // None: wasm's own kernels inside.
    await withOrtKernels(undefined, async () => {
      expect(activeOrtKernels()).toBeUndefined();
      for (const name of ORT_KERNELS) expect(tf.getKernel(name, 'wasm')!.kernelFunc).toBe(wasmOwn.get(name));
      conv();
    });
    expect(activeOrtKernels()!.options).toEqual({ minFlops: 0, threads: 2 });
    // Other options inside: everything left to wasm.
    const inside = await withOrtKernels({ minFlops: 1e12, threads: 1 }, async () => {
      conv();
      return activeOrtKernels()!.stats();
    });
    expect(inside).toMatchObject({ onnxruntime: {}, wasm: { Conv2D: 1 } });
    kernels = activeOrtKernels()!;
    expect(kernels.options).toEqual({ minFlops: 0, threads: 2 });
    conv();
    expect(kernels.stats().onnxruntime.Conv2D).toBe(1);
  });

  it('rejects bad options with a message naming them', () => {
    expect(() => registerOrtKernels({ threads: 0 })).toThrow(/threads must be a positive integer/);
    expect(() => registerOrtKernels({ kernels: ['Conv3D' as never] })).toThrow(/unknown kernel 'Conv3D'/);
    expect(() => registerOrtKernels({ backendName: 'nope' })).toThrow(/backend 'nope' has no 'Conv2D' kernel/);
    // A rejected call leaves the registration in force.
    expect(activeOrtKernels()).toBe(kernels);
  });
});
