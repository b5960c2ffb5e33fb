import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { closeness } from '@thfr/tensor/testing';
import type { NetworkGraph } from '@thfr/nn';
import { batchNormAffine, foldIntoConv, foldableBatchNorms } from '../src/inference-folding.js';

beforeAll(async () => { await tf.setBackend('cpu'); });

const bn = { weight: Float32Array.of(0.5, -1.5, 2), bias: Float32Array.of(0.1, 0, -0.3), mean: Float32Array.of(0.2, -0.4, 1), variance: Float32Array.of(0.9, 2.5, 0.05) };
const epsilon = 1e-5;
/** The batch norm itself, applied to channels-last values. */
const batchNorm = (y: tf.Tensor) => tf.batchNorm(y, tf.tensor1d(bn.mean), tf.tensor1d(bn.variance), tf.tensor1d(bn.bias), tf.tensor1d(bn.weight), epsilon);
const affine = batchNormAffine(bn.weight, bn.bias, bn.mean, bn.variance, epsilon);

describe('batch norms folded into the conv before them', () => {
  it('Conv (OIHW, output channel first): the folded conv equals bn(conv(x, W) + b)', () => {
    const x = tf.randomNormal([2, 5, 5, 4], 0, 1, 'float32', 1);
    const filter = tf.randomNormal([3, 3, 4, 3], 0, 1, 'float32', 2); // HWIO
    const bias = Float32Array.of(0.3, -0.2, 0.05);
    const oihw = tf.transpose(filter, [3, 2, 0, 1]);
    const folded = foldIntoConv(oihw.dataSync() as Float32Array, oihw.shape, 0, bias, affine);
    const foldedFilter = tf.transpose(tf.tensor4d(folded.weight, oihw.shape as [number, number, number, number]), [2, 3, 1, 0]);
    const got = tf.add(tf.conv2d(x as tf.Tensor4D, foldedFilter as tf.Tensor4D, 1, 'same'), tf.tensor1d(folded.bias));
    const expected = batchNorm(tf.add(tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), tf.tensor1d(bias)));
    expect(closeness(got.dataSync(), expected.dataSync()).maxRel).toBeLessThan(1e-5);
  });

  it('ConvTranspose (IOHW, output channel second), without a bias of its own', () => {
    const x = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 3);
    const filter = tf.randomNormal([2, 2, 3, 4], 0, 1, 'float32', 4); // tfjs [k, k, out, in]
    const iohw = tf.transpose(filter, [3, 2, 0, 1]);
    const folded = foldIntoConv(iohw.dataSync() as Float32Array, iohw.shape, 1, undefined, affine);
    const foldedFilter = tf.transpose(tf.tensor4d(folded.weight, iohw.shape as [number, number, number, number]), [2, 3, 1, 0]);
    const up = (f: tf.Tensor) => tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [2, 6, 6, 3], 2, 'valid');
    const got = tf.add(up(foldedFilter), tf.tensor1d(folded.bias));
    const expected = batchNorm(up(filter));
    expect(closeness(got.dataSync(), expected.dataSync()).maxRel).toBeLessThan(1e-5);
  });

  it("only where the batch norm is the conv's one reader and the conv is no graph output", () => {
    const conv = (output: string, input: string) => ({ op: 'conv2d' as const, inputs: [input], output, params: { weight: `${output}.w` }, attrs: { stride: 1, pad: 0 } });
    const norm = (output: string, input: string) => ({ op: 'batch_norm' as const, inputs: [input], output, params: { weight: 'g', bias: 'b', mean: 'm', variance: 'v' }, attrs: { epsilon } });
    const graph: NetworkGraph = {
      format: 'thfr-network-graph', version: 1, layout: 'NHWC', inputs: [{ name: 'x', shape: [null, 4, 4, 2] }],
      nodes: [
        conv('a', 'x'), norm('a_bn', 'a'), // folded
        conv('b', 'a_bn'), norm('b_bn', 'b'), { op: 'relu', inputs: ['b'], output: 'b_relu' }, // b read twice
        conv('c', 'b_bn'), norm('c_bn', 'c'), // c is a graph output
        { op: 'relu', inputs: ['c_bn'], output: 'c_relu' }, norm('d_bn', 'c_relu'), // not after a conv
      ],
      outputs: ['c', 'b_relu', 'd_bn'],
    };
    expect([...foldableBatchNorms(graph)].map(([bnOutput, producer]) => [bnOutput, producer.output])).toEqual([['a_bn', 'a']]);
  });
});
