import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { layersModelBackbone, type GraphModelLike } from '../src/layers-adapter.js';

/** A small functional model: three stride-2 stages after a stride-2 stem, then a classifier head. */
function tinyModel(inputSize: number | null) {
  const input = tfl.input({ shape: [inputSize, inputSize, 3], name: 'image' });
  const stem = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', name: 'stem', activation: 'relu' }).apply(input) as tfl.SymbolicTensor;
  const s4 = tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', name: 's4' }).apply(stem) as tfl.SymbolicTensor;
  const s8 = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: 's8' }).apply(s4) as tfl.SymbolicTensor;
  const s16 = tfl.layers.conv2d({ filters: 10, kernelSize: 3, strides: 2, padding: 'valid', name: 's16' }).apply(s8) as tfl.SymbolicTensor;
  const head = tfl.layers.dense({ units: 2, name: 'head' }).apply(tfl.layers.globalAveragePooling2d({}).apply(s16)) as tfl.SymbolicTensor;
  return { model: tfl.model({ inputs: input, outputs: head, name: 'tiny' }), taps: ['s4', 's8', 's16'] };
}

describe('layersModelBackbone', () => {
  it('derives strides and channels from the taps (fixed and free input sizes)', async () => {
    await tf.setBackend('cpu');
    for (const size of [64, null]) {
      const { model, taps } = tinyModel(size);
      const backbone = layersModelBackbone(model, { taps, identity: { weights: 'test' } });
      expect(backbone.levels).toEqual([
        { name: 's4', stride: 4, channels: 6 },
        { name: 's8', stride: 8, channels: 8 },
        { name: 's16', stride: 16, channels: 10 },
      ]);
      expect(backbone.identity).toEqual({ architecture: 'tiny', weights: 'test', taps });
      model.dispose();
    }
  });

  it('maps images to the model input range and matches the taps computed by hand', () => {
    const { model, taps } = tinyModel(null);
    const backbone = layersModelBackbone(model, { taps, inputRange: [-1, 1] });
    const ints = tf.tensor4d(Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => (i * 37) % 256), [2, 32, 32, 3], 'int32');
    const features = backbone.extract(ints);
    expect(features.map((f) => f.shape)).toEqual([
      [2, 8, 8, 6],
      [2, 4, 4, 8],
      [2, 1, 1, 10],
    ]);
    // By hand: x -> x/255*2-1 through the layers.
    const manual = tf.tidy(() => {
      let x = tf.sub(tf.mul(tf.div(tf.cast(ints, 'float32'), 255), 2), 1) as tf.Tensor;
      const out: tf.Tensor[] = [];
      for (const name of ['stem', ...taps]) {
        x = model.getLayer(name).apply(x) as tf.Tensor;
        if (name !== 'stem') out.push(x);
      }
      return out;
    });
    features.forEach((f, i) => expectClose(f.dataSync(), manual[i].dataSync(), 1e-6, `tap ${taps[i]}`));
    tf.dispose([...features, ...manual, ints]);
    model.dispose();
  });

  it('leaks nothing, and disposing the backbone leaves a caller-owned model usable', async () => {
    const { model, taps } = tinyModel(null);
    const backbone = layersModelBackbone(model, { taps });
    const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    await expectNoLeak(() => tf.dispose(backbone.extract(images)), 3, 'LayersBackbone.extract');
    backbone.dispose();
    tf.dispose(model.predict(images) as tf.Tensor);
    expect(() => backbone.extract(images)).toThrow(/after dispose/);
    images.dispose();
    model.dispose();
  });

  it('resizeToStride resizes taps that "valid" padding left smaller than ceil(H/stride)', () => {
    const { model, taps } = tinyModel(null);
    const native = layersModelBackbone(model, { taps });
    const exact = layersModelBackbone(model, { taps, resizeToStride: true });
    const images = tf.randomUniform([1, 40, 40, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const [a, b] = [native.extract(images), exact.extract(images)];
    expect(a.map((t) => t.shape.slice(1, 3))).toEqual([[10, 10], [5, 5], [2, 2]]);
    expect(b.map((t) => t.shape.slice(1, 3))).toEqual([[10, 10], [5, 5], [3, 3]]);
    expectClose(b[0].dataSync(), a[0].dataSync(), 0, 'unchanged tap');
    tf.dispose([...a, ...b, images]);
    model.dispose();
  });

  it('names unknown taps and lists the model layers', () => {
    const { model } = tinyModel(32);
    expect(() => layersModelBackbone(model, { taps: ['s4', 'nope'] })).toThrow(/model 'tiny' has no layer named 'nope' \(it has 7 layers: image, stem, s4/);
    expect(() => layersModelBackbone(model, { taps: ['head'] })).toThrow(/tap 'head' outputs shape \[1, 2\], expected NHWC/);
    expect(() => layersModelBackbone(model, { taps: ['s4'], inputRange: [1, 0] })).toThrow(/inputRange must be \[lo, hi\]/);
    model.dispose();
  });

  it('adapts a GraphModel-like object (execute with output node names)', () => {
    const { model, taps } = tinyModel(null);
    const sub = tfl.model({ inputs: model.inputs, outputs: taps.map((t) => model.getLayer(t).output as tfl.SymbolicTensor) });
    const calls: string[][] = [];
    const graphLike: GraphModelLike = {
      inputs: [{ shape: [-1, -1, -1, 3] }],
      execute: (x, outputs) => {
        calls.push(outputs);
        return sub.predict(x) as tf.Tensor[];
      },
      dispose: () => model.dispose(),
    };
    const backbone = layersModelBackbone(graphLike, { taps: ['n4', 'n8', 'n16'], probeSize: 64, ownsModel: true });
    expect(backbone.levels.map((l) => [l.stride, l.channels])).toEqual([
      [4, 6],
      [8, 8],
      [16, 10],
    ]);
    expect(calls[0]).toEqual(['n4', 'n8', 'n16']);
    backbone.dispose();
  });
});
