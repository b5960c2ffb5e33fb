import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { Initializer } from '@thfr/nn';
import { GlobalBottleneck, LocalBottleneck } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const levels = [
  { channels: 4, size: 16 },
  { channels: 6, size: 8 },
  { channels: 8, size: 4 },
];
const features = () => levels.map((l, i) => tf.randomNormal([2, l.size, l.size, l.channels], 0, 1, 'float32', i + 1) as tf.Tensor4D);

describe('GlobalBottleneck', () => {
  it('compresses I_K to a global vector and upsamples to half its size with 2 C_K channels', () => {
    const gbn = new GlobalBottleneck({ inChannels: 8, inputSize: 4 }, new Initializer(1));
    const [, , i3] = features();
    const s = gbn.forward(i3);
    expect(s.shape).toEqual([2, 2, 2, 16]);
    expect(gbn.upsamplers.length).toBe(1);
    expect(new GlobalBottleneck({ inChannels: 8, inputSize: 16 }, new Initializer(1)).upsamplers.length).toBe(3);
    gbn.dispose();
  });

  it('is blind to where a local pattern is: a spatial permutation of I_K gives the same output', () => {
    // Global max pooling discards positions: this is what lets the GBN ignore misalignment.
    const gbn = new GlobalBottleneck({ inChannels: 8, inputSize: 4 }, new Initializer(2)).eval();
    // A single hot pixel at two places away from the border: the convs see the same neighbourhood,
    // only translated, so after the global max everything downstream must be identical.
    const hot = (r: number, c: number) => tf.tidy(() => tf.pad(tf.ones([1, 1, 1, 8]), [[0, 0], [r, 3 - r], [c, 3 - c], [0, 0]]) as tf.Tensor4D);
    const a = gbn.forward(hot(1, 1)).dataSync();
    const b = gbn.forward(hot(2, 2)).dataSync();
    Array.from(a).forEach((v, i) => expect(v).toBeCloseTo(b[i], 5));
    gbn.dispose();
  });

  it('rejects a wrong input shape with the tensor named', () => {
    const gbn = new GlobalBottleneck({ inChannels: 8, inputSize: 4 }, new Initializer(1));
    expect(() => gbn.forward(tf.zeros([1, 4, 4, 7]) as tf.Tensor4D)).toThrow('GlobalBottleneck input I_K: expected shape [?, 4, 4, 8], got [1, 4, 4, 7]');
    expect(() => new GlobalBottleneck({ inChannels: 8, inputSize: 6 }, new Initializer(1))).toThrow(/power-of-two/);
    gbn.dispose();
  });
});

describe('LocalBottleneck', () => {
  it('fuses all levels into 2 C_K channels at half the deepest size; gradients reach every parameter', () => {
    const lbn = new LocalBottleneck({ levels }, new Initializer(3));
    const f = features();
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(lbn.forward(f))) as tf.Scalar, lbn.trainableVariables());
    expect(lbn.forward(f).shape).toEqual([2, 2, 2, 16]);
    for (const [name, v] of lbn.namedParameters()) expect(tf.sum(tf.abs(grads[v.name])).dataSync()[0], name).toBeGreaterThan(0);
    // level 1 goes down twice (4 -> 6 -> 8 channels), level 2 once (6 -> 8)
    expect(lbn.downsamplers.map((c) => c.map((d) => d.conv.outChannels))).toEqual([[6, 8], [8]]);
    tf.dispose([value, ...Object.values(grads), ...f]);
    lbn.dispose();
  });

  it('checks the level sizes and leaks nothing', async () => {
    expect(() => new LocalBottleneck({ levels: [{ channels: 4, size: 15 }, { channels: 8, size: 8 }] }, new Initializer(1))).toThrow(/level 1 is 15x15, expected 16x16/);
    const lbn = new LocalBottleneck({ levels }, new Initializer(3)).eval();
    const f = features();
    await expectNoLeak(() => { lbn.forward(f).dispose(); }, 2, 'LocalBottleneck.forward');
    tf.dispose(f);
    lbn.dispose();
  });
});
