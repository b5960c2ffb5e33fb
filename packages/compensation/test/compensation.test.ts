import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { Initializer } from '@thfr/nn';
import { CompensationModule, PairwiseRelation } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('PairwiseRelation', () => {
  it('lays out [A[i,:], A^T[i,:]] per position with A = theta(I)^T phi(T) / sqrt(d)', () => {
    const rel = new PairwiseRelation(3, 5, 4, new Initializer(1));
    const input = tf.randomNormal([1, 2, 2, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const template = tf.randomNormal([1, 2, 2, 5], 0, 1, 'float32', 2) as tf.Tensor4D;
    const r = rel.forward(input, template);
    expect(r.shape).toEqual([1, 2, 2, 8]);
    const q = tf.reshape(rel.theta.forward(input), [4, 4]).arraySync() as number[][];
    const k = tf.reshape(rel.phi.forward(template), [4, 4]).arraySync() as number[][];
    const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0) / 2; // sqrt(4) = 2
    const flat = tf.reshape(r, [4, 8]).arraySync() as number[][];
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        expect(flat[i][j]).toBeCloseTo(dot(q[i], k[j]), 5); // input i -> template j
        expect(flat[i][4 + j]).toBeCloseTo(dot(q[j], k[i]), 5); // template i -> input j
      }
    }
    rel.dispose();
  });
});

describe('CompensationModule', () => {
  const base = { streamChannels: 16, templateChannels: 12, size: 4 };

  it('keeps the stream shape; GBN (C_i = C, C_t = 1) and LBN (C_i = 1, C_t = C) settings; gradients reach every weight', () => {
    for (const [ci, ct] of [[16, 1], [1, 16]]) {
      const comp = new CompensationModule({ ...base, inputEmbedChannels: ci, templateEmbedChannels: ct }, new Initializer(4));
      expect(comp.fuse[0].conv.inChannels).toBe(ci + ct + 2 * 16);
      const s = tf.randomNormal([2, 4, 4, 16]) as tf.Tensor4D;
      const t = tf.randomNormal([2, 4, 4, 12]) as tf.Tensor4D;
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(comp.forward(s, t))) as tf.Scalar, comp.trainableVariables());
      for (const [name, v] of comp.namedParameters()) expect(tf.sum(tf.abs(grads[v.name])).dataSync()[0], name).toBeGreaterThan(0);
      tf.dispose([s, t, value, ...Object.values(grads)]);
      comp.dispose();
    }
  });

  it('without relation has no theta/phi and takes only the embeddings', () => {
    const comp = new CompensationModule({ ...base, inputEmbedChannels: 16, templateEmbedChannels: 1, relation: false }, new Initializer(4));
    expect(comp.relation).toBeUndefined();
    expect(comp.fuse[0].conv.inChannels).toBe(17);
    expect(comp.namedParameters().some(([n]) => n.startsWith('relation'))).toBe(false);
    comp.dispose();
  });

  it('the output depends on the template, checks shapes and leaks nothing', async () => {
    const comp = new CompensationModule({ ...base, inputEmbedChannels: 1, templateEmbedChannels: 16 }, new Initializer(5)).eval();
    const s = tf.randomNormal([1, 4, 4, 16], 0, 1, 'float32', 1) as tf.Tensor4D;
    const t1 = tf.randomNormal([1, 4, 4, 12], 0, 1, 'float32', 2) as tf.Tensor4D;
    const t2 = tf.randomNormal([1, 4, 4, 12], 0, 1, 'float32', 3) as tf.Tensor4D;
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(comp.forward(s, t1), comp.forward(s, t2)))).dataSync()[0]);
    expect(diff).toBeGreaterThan(1e-3);
    expect(() => comp.forward(s, tf.zeros([2, 4, 4, 12]) as tf.Tensor4D)).toThrow('CompensationModule template: expected shape [1, 4, 4, 12], got [2, 4, 4, 12]');
    await expectNoLeak(() => { comp.forward(s, t1).dispose(); }, 2, 'CompensationModule.forward');
    tf.dispose([s, t1, t2]);
    comp.dispose();
  });
});
