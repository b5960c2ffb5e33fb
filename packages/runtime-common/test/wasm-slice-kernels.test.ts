import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { registerWasmSliceKernels } from '../src/index.js';

// tfjs' own kernels, kept before they are replaced, are the reference.
let originalSlice: (args: unknown) => { dataId: object; shape: number[]; dtype: string };
let originalSplitV: (args: unknown) => Array<{ dataId: object; shape: number[]; dtype: string }>;

beforeAll(async () => {
  await tf.setBackend('wasm');
  originalSlice = tf.getKernel('Slice', 'wasm')!.kernelFunc as never;
  originalSplitV = tf.getKernel('SplitV', 'wasm')!.kernelFunc as never;
  expect(registerWasmSliceKernels()).toEqual(['Slice', 'SplitV']);
  expect(registerWasmSliceKernels()).toEqual(['Slice', 'SplitV']); // idempotent
});

function reference(kernel: 'Slice' | 'SplitV', x: tf.Tensor, attrs: Record<string, unknown>): tf.Tensor[] {
  const backend = tf.backend();
  const out = kernel === 'Slice' ? [originalSlice({ inputs: { x }, attrs, backend })] : originalSplitV({ inputs: { x }, attrs, backend });
  return out.map((info) => tf.engine().makeTensorFromTensorInfo(info as never));
}

const cases: Array<[string, number[], number[], number[]]> = [
  ['rank 1', [10], [3], [5]],
  ['rank 2 rows (contiguous)', [6, 5], [2, 0], [3, 5]],
  ['rank 2 columns', [6, 5], [1, 2], [4, 2]],
  ['rank 3', [4, 5, 6], [1, 2, 3], [2, 3, 2]],
  ['rank 4 (im2col tap)', [2, 7, 7, 3], [0, 1, 2, 0], [2, 5, 5, 3]],
  ['rank 4 inner channels', [1, 4, 4, 8], [0, 0, 0, 2], [1, 4, 4, 3]],
  ['rank 5 (tfjs fallback)', [2, 3, 4, 5, 6], [1, 0, 1, 2, 1], [1, 3, 2, 2, 4]],
  ['size -1 to the end', [5, 6], [2, 1], [-1, -1]],
  ['empty', [4, 4], [1, 1], [0, 2]],
];

describe('wasm Slice / SplitV without whole-input copies', () => {
  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    for (const [name, shape, begin, size] of cases) {
      it(`slice ${name} ${dtype} equals tfjs' kernel`, () => {
        const n = shape.reduce((a, b) => a * b, 1);
        const values = Array.from({ length: n }, (_, i) => (dtype === 'bool' ? Number(i % 3 === 0) : i * 1.5 - 7));
        const x = tf.tensor(values, shape, dtype);
        const got = tf.slice(x, begin, size);
        const [expected] = reference('Slice', x, { begin, size });
        expect(got.shape).toEqual(expected.shape);
        expect(got.dtype).toBe(dtype);
        expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()));
        tf.dispose([x, got, expected]);
      });
    }
  }

  it('split into pieces of many sizes, on axis 0 and an inner axis, equals tfjs', () => {
    const flat = tf.randomNormal([1000], 0, 1, 'float32', 1);
    const sizes = [1, 9, 100, 3, 387, 500];
    const got = tf.split(flat, sizes);
    const expected = reference('SplitV', flat, { numOrSizeSplits: sizes, axis: 0 });
    got.forEach((g, i) => expect(Array.from(g.dataSync())).toEqual(Array.from(expected[i].dataSync())));
    const x = tf.randomNormal([3, 4, 10], 0, 1, 'float32', 2);
    const got2 = tf.split(x, [2, 5, 3], 2);
    const expected2 = reference('SplitV', x, { numOrSizeSplits: [2, 5, 3], axis: 2 });
    got2.forEach((g, i) => {
      expect(g.shape).toEqual(expected2[i].shape);
      expect(Array.from(g.dataSync())).toEqual(Array.from(expected2[i].dataSync()));
    });
    tf.dispose([flat, ...got, ...expected, x, ...got2, ...expected2]);
  });

  it('stays correct when allocating the output grows the heap', () => {
    // A 64 MB input (0, 1, 2, ... exact in float32 below 2^24), then outputs large enough to make
    // the heap grow while the input is being read.
    const n = 16 * 1024 * 1024;
    const x = tf.range(0, n, 1, 'float32');
    for (let i = 0; i < 3; i++) {
      const pieces = tf.split(x, [n / 2, n / 2]);
      const [a, b] = pieces.map((p) => p.dataSync());
      for (const k of [0, 1, 12345, n / 2 - 1]) {
        expect(a[k]).toBe(k);
        expect(b[k]).toBe(n / 2 + k);
      }
      tf.dispose(pieces);
    }
    x.dispose();
  });

  it('leaks nothing', async () => {
    const x = tf.randomNormal([2, 6, 6, 4]);
    await expectNoLeak(() => tf.dispose([tf.slice(x, [0, 1, 1, 0], [2, 4, 4, 4]), ...tf.split(x, [1, 3, 2], 1)]));
    x.dispose();
  });
});
