import { describe, expect, it, beforeAll } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf, takeRows } from '../src/index.js';
import { expectNoLeak } from '../src/testing.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('takeRows', () => {
  const x = tf.tensor4d(Array.from({ length: 6 * 2 * 3 * 2 }, (_, i) => i * 0.5 - 7), [6, 2, 3, 2]);

  it.each([
    ['one row', [4]],
    ['a run', [1, 2, 3]],
    ['runs, out of order, repeated', [5, 0, 1, 2, 2, 4, 3, 0]],
    ['every row', [0, 1, 2, 3, 4, 5]],
    ['descending', [5, 4, 3]],
  ])('equals tf.gather along the first axis: %s', async (_name, indices) => {
    const got = takeRows(x, indices);
    const want = tf.gather(x, tf.tensor1d(indices, 'int32'), 0);
    expect(got.shape).toEqual([indices.length, 2, 3, 2]);
    expect(Array.from(await got.data())).toEqual(Array.from(await want.data()));
    tf.dispose([got, want]);
  });

  it('works on rank 2 and returns zero rows for no indices', async () => {
    const m = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const got = takeRows(m, Int32Array.from([2, 0]));
    expect(await got.array()).toEqual([[5, 6], [1, 2]]);
    const none = takeRows(m, []);
    expect(none.shape).toEqual([0, 2]);
    tf.dispose([m, got, none]);
  });

  it('names the bad index', () => {
    expect(() => takeRows(x, [1, 6])).toThrow(/index 6 at position 1 is outside \[0, 5\]/);
    expect(() => takeRows(x, [-1])).toThrow(/index -1/);
    expect(() => takeRows(x, [1.5])).toThrow(/index 1.5/);
  });

  it('leaks no tensors', async () => {
    await expectNoLeak(() => {
      tf.dispose(takeRows(x, [3, 1, 2]));
    });
  });
});
