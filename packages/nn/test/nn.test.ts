import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { BatchNorm2d, Bottleneck, ConvTranspose2d, Initializer, UpBottleneck, bottleneckStage } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('BatchNorm2d', () => {
  it('normalises with batch statistics in training and updates running stats like torch (momentum 0.1, unbiased var)', () => {
    const bn = new BatchNorm2d(1);
    const x = tf.tensor4d([1, 2, 3, 6], [1, 2, 2, 1]);
    const y = bn.forward(x);
    // mean 3, biased var 3.5
    const expected = [1, 2, 3, 6].map((v) => (v - 3) / Math.sqrt(3.5 + 1e-5));
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    expect(bn.runningMean.dataSync()[0]).toBeCloseTo(0.3, 6);
    expect(bn.runningVar.dataSync()[0]).toBeCloseTo(0.9 + 0.1 * (14 / 3), 5); // unbiased var = 14/3
    bn.eval();
    const z = bn.forward(x);
    expect(z.dataSync()[0]).toBeCloseTo((1 - 0.3) / Math.sqrt(0.9 + 0.1 * (14 / 3) + 1e-5), 5);
    tf.dispose([x, y, z]);
    bn.dispose();
  });
});

describe('blocks', () => {
  it('Bottleneck with stride 2 halves resolution and every parameter gets a gradient', () => {
    const block = new Bottleneck(8, 16, new Initializer(1), { width: 4, stride: 2 });
    const x = tf.randomNormal([2, 8, 8, 8], 0, 1, 'float32', 3) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(block.forward(x))) as tf.Scalar, block.trainableVariables());
    expect(block.forward(x).shape).toEqual([2, 4, 4, 16]);
    for (const [name, variable] of block.namedParameters()) {
      const g = grads[variable.name];
      expect(g, name).toBeDefined();
      expect(tf.sum(tf.abs(g)).dataSync()[0], name).toBeGreaterThan(0);
    }
    tf.dispose([value, x, ...Object.values(grads)]);
    block.dispose();
  });

  it('UpBottleneck with stride 2 doubles resolution', () => {
    const block = new UpBottleneck(16, 8, new Initializer(2), { width: 4, stride: 2 });
    const y = block.forward(tf.zeros([1, 4, 4, 16]) as tf.Tensor4D);
    expect(y.shape).toEqual([1, 8, 8, 8]);
    block.dispose();
  });

  it('ConvTranspose2d k=2 places each input pixel times the kernel in its own 2x2 cell', () => {
    const up = new ConvTranspose2d(1, 1, 2, new Initializer(0));
    up.weight.assign(tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]));
    const y = up.forward(tf.tensor4d([1, 10], [1, 1, 2, 1]));
    expect(Array.from(y.dataSync())).toEqual([1, 2, 10, 20, 3, 4, 30, 40]);
    up.dispose();
  });

  it('the same seed gives the same weights; forward leaks no tensors', async () => {
    const a = bottleneckStage('down', 8, 16, 4, 2, 2, new Initializer(7));
    const b = bottleneckStage('down', 8, 16, 4, 2, 2, new Initializer(7));
    const [na, va] = a.namedParameters()[0];
    const [nb, vb] = b.namedParameters()[0];
    expect(na).toBe(nb);
    expect(Array.from(va.dataSync())).toEqual(Array.from(vb.dataSync()));
    const x = tf.randomNormal([1, 8, 8, 8]) as tf.Tensor4D;
    a.eval();
    await expectNoLeak(() => { a.forward(x).dispose(); }, 2, 'stage.forward');
    a.train();
    await expectNoLeak(() => { a.forward(x).dispose(); }, 2, 'stage.forward (training)');
    tf.dispose(x);
    a.dispose();
    b.dispose();
  });
});

describe('state dicts', () => {
  it('round-trip and report mismatches by key and shape', () => {
    const a = new Bottleneck(8, 16, new Initializer(1), { width: 4 });
    const b = new Bottleneck(8, 16, new Initializer(2), { width: 4 });
    b.loadStateDict(a.stateDict());
    expect(Array.from(b.stateDict().get('conv2.conv.weight')!.dataSync())).toEqual(Array.from(a.stateDict().get('conv2.conv.weight')!.dataSync()));
    const wrong = new Bottleneck(8, 32, new Initializer(3), { width: 4 });
    expect(() => b.loadStateDict(wrong.stateDict(), 'weights.bin')).toThrow(/weights.bin does not match the architecture: .*'conv3.conv.weight' has shape \[1,1,4,32\], expected \[1,1,4,16\]/);
    const partial = new Map<string, tf.Tensor>(a.stateDict());
    partial.delete('conv1.bn.running_mean');
    partial.set('extra.weight', tf.zeros([1]));
    expect(() => b.loadStateDict(partial)).toThrow(/missing 'conv1.bn.running_mean' .*unexpected 'extra.weight'/);
    [a, b, wrong].forEach((m) => m.dispose());
  });
});
