/**
 * @thfr/nn's blocks against PyTorch: fixtures/blocks.json (made by fixtures/make_fixtures.py with Debian's
 * python3-torch) holds torch modules' weights in our layout, and their outputs in training and eval mode,
 * the running statistics after one training step and the gradients of sum(y * r).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tf, THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD } from '@thfr/tensor';
import { registerBatchNormKernels, registerWasmTrainingKernels } from '@thfr/runtime-common';
import { expectClose } from '@thfr/tensor/testing';
import { Bottleneck, Initializer, UpBottleneck, hasFusedBatchNorm, type Module } from '../src/index.js';

interface Stored { shape: number[]; values: number[] }
interface Case {
  name: string;
  state: Record<string, Stored>;
  input: Stored;
  outputTrain: Stored;
  r: number[];
  gradInput: number[];
  gradConv1: number[];
  runningAfterTrain: Record<string, number[]>;
  outputEval: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/blocks.json', import.meta.url), 'utf8')) as { cases: Case[] };

function build(c: Case): Module & { forward(x: tf.Tensor4D): tf.Tensor4D } {
  const init = new Initializer(1);
  const [cin] = c.state['conv1.conv.weight'].shape.slice(2);
  if (c.name.startsWith('UpBottleneck')) {
    const cout = c.state['conv3.conv.weight'].shape[3];
    return new UpBottleneck(cin, cout, init, { width: c.state['conv1.conv.weight'].shape[3], stride: 2 });
  }
  const cout = c.state['conv3.conv.weight'].shape[3];
  return new Bottleneck(cin, cout, init, { width: c.state['conv1.conv.weight'].shape[3], stride: c.name.endsWith('2') ? 2 : 1 });
}

// Each backend twice: batch norm composed from tfjs ops, and @thfr/runtime-common's fused kernels.
for (const [backend, fused] of [['cpu', false], ['wasm', false], ['cpu', true], ['wasm', true]] as const) {
  describe(`@thfr/nn blocks match PyTorch (${backend}, batch norm ${fused ? 'fused kernels' : 'composed'})`, () => {
    beforeAll(async () => {
      registerWasmTrainingKernels(); // wasm has no Conv2DBackpropFilter of its own
      await tf.setBackend(backend);
      await tf.ready();
      if (fused) registerBatchNormKernels(backend);
      else for (const name of [THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD]) if (tf.getKernel(name, backend)) tf.unregisterKernel(name, backend);
      expect(hasFusedBatchNorm()).toBe(fused);
    });
    for (const c of fixture.cases) {
      it(c.name, () => {
        const block = build(c);
        const state = new Map(Object.entries(c.state).map(([k, v]) => [k, tf.tensor(v.values, v.shape)]));
        block.loadStateDict(state, 'blocks.json');
        state.forEach((t) => t.dispose());
        const x = tf.tensor4d(c.input.values, c.input.shape as [number, number, number, number]);
        const r = tf.tensor(c.r, c.outputTrain.shape);
        const conv1 = block.stateDict().get('conv1.conv.weight')!;
        block.train();
        const y = block.forward(x);
        expectClose(y.dataSync(), c.outputTrain.values, 1e-4, `${c.name}: training-mode output`);
        for (const [name, expected] of Object.entries(c.runningAfterTrain)) {
          expectClose(block.stateDict().get(name)!.dataSync(), expected, 1e-4, `${c.name}: ${name} after one step`);
        }
        block.eval();
        const yEval = block.forward(x);
        expectClose(yEval.dataSync(), c.outputEval, 1e-4, `${c.name}: eval-mode output`);
        // Gradients of sum(y * r) in training mode, with respect to the input and the first conv's weight.
        block.train();
        const gx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(block.forward(xi as tf.Tensor4D), r)))(x);
        expectClose(gx.dataSync(), c.gradInput, 1e-4, `${c.name}: gradient wrt input`);
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(block.forward(x), r)) as tf.Scalar, [conv1]);
        expectClose(grads[conv1.name].dataSync(), c.gradConv1, 1e-4, `${c.name}: gradient wrt conv1 weight`);
        tf.dispose([x, r, y, yEval, gx, value, ...Object.values(grads)]);
        block.dispose();
      });
    }
  });
}
