import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { closeness, expectNoLeak } from '@thfr/tensor/testing';
import { createRandomResNet } from '@thfr/backbone';
import { toyImages } from '@thfr/backbone/testing';
import { imagesToTensor, trainThfr, type ThfrConfig, type ThfrModel } from '@thfr/model';
import { trainRd4ad } from '@thfr/rd4ad';
import type { RestorationModel } from '@thfr/restoration';
import { decodeOnnxModel, exportResNetToOnnx, exportResNetToOnnxAsync } from '@thfr/backbone-onnx';
import { loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import { OnnxPipelineRunner, accelerateInferenceWithOnnx, exportRestorationPipelineToOnnx, exportRestorationPipelineToOnnxAsync, readPipelineOnnxInfo } from '../src/node.js';

const size = 64;
// A narrow ResNet-50 v1 (the default backbone's kind: bottlenecks, stride on the 1x1 conv, conv biases), small enough
// for tfjs-cpu to train on in seconds.
const narrow = { block: 'bottleneck', layers: [1, 1, 1, 1], widths: [8, 16, 32, 64], stemWidth: 8, widthPerGroup: 64, strideOn: 'conv1x1', convBias: true } as const;
const backbone = createRandomResNet({ ...narrow, layers: [...narrow.layers], widths: [...narrow.widths] }, { seed: 3, levels: ['layer1', 'layer2', 'layer3'] });
// templateMinAlignment 0 keeps the template on whatever the toy images' layout.
const tiny: Partial<ThfrConfig> = { imageSize: size, decoderBlocks: [1, 1, 1], epochs: 1, batchSize: 3, seed: 5, templateMinAlignment: 0 };

beforeAll(async () => { await tf.setBackend('cpu'); });
afterAll(() => backbone.dispose());

/** The model's own steps (tfjs) and the runner's on the same images and options, compared output by output. */
async function expectSamePredictions(model: RestorationModel, runner: OnnxPipelineRunner, images: tf.Tensor4D, options: Parameters<RestorationModel['predictTensors']>[1] = {}): Promise<void> {
  expect(model.networkEngine).toBe('tfjs');
  const expected = await model.predictTensors(images, options);
  const got = await runner.run(images, options);
  const what = JSON.stringify(options);
  expect(got.map.shape, what).toEqual(expected.map.shape);
  expect(closeness(await got.map.data(), await expected.map.data()).maxRel, `${what} map`).toBeLessThan(1e-4);
  expect(closeness(await got.scores.data(), await expected.scores.data()).maxRel, `${what} scores`).toBeLessThan(1e-4);
  expect(got.levelMaps).toHaveLength(expected.levelMaps.length);
  for (let i = 0; i < got.levelMaps.length; i++) expect(closeness(await got.levelMaps[i].data(), await expected.levelMaps[i].data()).maxRel, `${what} level ${i}`).toBeLessThan(1e-4);
  expect(got.extras.map((e) => e.template ?? -1), what).toEqual(expected.extras.map((e) => e.template ?? -1));
  tf.dispose([got.map, got.scores, ...got.levelMaps, expected.map, expected.scores, ...expected.levelMaps]);
}

describe("a restoration model's whole inference as one ONNX graph", () => {
  it('THFR: the same maps, scores, level maps and templates as the model, leave-one-out included, with no layout transpose between backbone and network', async () => {
    const { model } = await trainThfr(backbone, toyImages(6, size, 21), { config: tiny });
    const images = imagesToTensor(toyImages(3, size, 22), size);
    try {
      expect(model.config.template).toBe(true);
      const ort = await loadOnnxRuntimeNode();
      const spec = await model.inferenceSpec();
      expect(spec.templates?.size).toBe(6);
      const bytes = exportRestorationPipelineToOnnx(exportResNetToOnnx(backbone, { imageSize: size }), spec, { excludeInput: true });
      // The async export (weights read ahead, for tfjs-webgpu in Node) writes the same bytes without one synchronous read.
      const dataSync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
      try {
        expect(await exportRestorationPipelineToOnnxAsync(await exportResNetToOnnxAsync(backbone, { imageSize: size }), spec, { excludeInput: true })).toEqual(bytes);
        // Given the tfjs ResNet itself, it exports the backbone at the model's size.
        expect(await exportRestorationPipelineToOnnxAsync(backbone, spec, { excludeInput: true })).toEqual(bytes);
        expect(dataSync).not.toHaveBeenCalled();
      } finally {
        dataSync.mockRestore();
      }
      const info = readPipelineOnnxInfo(bytes);
      expect(info).toMatchObject({ method: 'ThfrModel', imageSize: size, templates: 6, standardized: false, levels: ['layer1', 'layer2', 'layer3'], excludeInput: 'exclude_template' });
      const graph = decodeOnnxModel(bytes).graph;
      // The backbone's NCHW features feed the network and the map directly: the only layout transposes left are the
      // image's to NCHW, the search query's to NHWC (the keys' flattening order) and the gathered template's to NCHW
      // (the pairwise relation's own transposes are its arithmetic).
      const transposes = graph.node.filter((n) => n.opType === 'Transpose' && !n.name.includes('pairwise_relation')).map((n) => n.name);
      expect(transposes.sort()).toEqual(['network/template.to_nchw', 'preprocess.to_nchw', 'search/query_nhwc']);
      const runner = await OnnxPipelineRunner.create(ort, bytes, { threads: 1 });
      await expectSamePredictions(model, runner, images);
      // Image 0 and 2 may not use templates 0 and 2 (their nearest, or not): the graph's exclusion is the bank's.
      await expectSamePredictions(model, runner, images, { excludeTemplates: [0, undefined, 2] });
      const first = await runner.run(images);
      const nearest = first.extras.map((e) => e.template as number);
      tf.dispose([first.map, first.scores, ...first.levelMaps]);
      await expectSamePredictions(model, runner, images, { excludeTemplates: nearest });
      await expectNoLeak(async () => { const out = await runner.run(images); tf.dispose([out.map, out.scores, ...out.levelMaps]); });
      // int32 images (0..255), as the backbones take them: the same maps as their float32 form.
      const bytes255 = tf.tidy(() => tf.cast(tf.round(tf.mul(images, 255)), 'int32') as tf.Tensor4D);
      const asFloat = tf.tidy(() => tf.div(tf.cast(bytes255, 'float32'), 255) as tf.Tensor4D);
      const [fromInts, fromFloats] = [await runner.run(bytes255), await runner.run(asFloat)];
      expect(closeness(await fromInts.map.data(), await fromFloats.map.data()).maxRel).toBeLessThan(1e-6);
      tf.dispose([bytes255, asFloat, fromInts.map, fromInts.scores, ...fromInts.levelMaps, fromFloats.map, fromFloats.scores, ...fromFloats.levelMaps]);
      await expect(runner.run(images, { excludeTemplates: [6] })).rejects.toThrow(/excludeTemplates\[0\] must be a template index in \[0, 5\], got 6/);
      const wrong = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
      await expect(runner.run(wrong)).rejects.toThrow(/images must be \[B, 64, 64, 3\] RGB \(float32 in \[0, 1\] or int32 0..255\), got \[1, 32, 32, 3\] float32/);
      wrong.dispose();
      runner.dispose();
      await runner.released;
      await expect(runner.run(images)).rejects.toThrow(/after dispose/);
    } finally {
      images.dispose();
      model.dispose();
    }
  });

  it('THFR with a standardized map: the standardized and the raw maps, through predict as the model\'s pipeline runner', async () => {
    const { model } = await trainThfr(backbone, toyImages(6, size, 31), { config: { ...tiny, mapNormalization: 'per-position' } });
    const images = imagesToTensor(toyImages(2, size, 32), size);
    try {
      expect(model.mapStatistics).toBeDefined();
      const spec = await model.inferenceSpec();
      const standalone = await OnnxPipelineRunner.create(await loadOnnxRuntimeNode(), exportRestorationPipelineToOnnx(exportResNetToOnnx(backbone, { imageSize: size }), spec), { threads: 1 });
      expect(standalone.info).toMatchObject({ standardized: true, outputs: { rawMap: 'raw_anomaly_map', rawScore: 'raw_score' } });
      await expectSamePredictions(model, standalone, images);
      await expectSamePredictions(model, standalone, images, { rawMap: true });
      standalone.dispose();
      const before = await model.predict(toyImages(2, size, 32));
      const runner = await accelerateInferenceWithOnnx(model, backbone, { threads: 1 });
      expect(model.networkEngine).toBe('onnxruntime (one graph)');
      const after = await model.predict(toyImages(2, size, 32));
      expect(closeness(after.scores, before.scores).maxRel).toBeLessThan(1e-4);
      expect(closeness(after.maps[1], before.maps[1]).maxRel).toBeLessThan(1e-4);
      expect(Array.from(after.templateIndices)).toEqual(Array.from(before.templateIndices));
      model.usePipelineRunner(undefined);
      expect(model.networkEngine).toBe('tfjs');
      await runner.released;
    } finally {
      images.dispose();
      model.dispose();
    }
  });

  it('RD4AD (no templates) and THFR with the template turned off: backbone, network and map; exclusion refused by name', async () => {
    const rd4ad = (await trainRd4ad(backbone, toyImages(4, size, 41), { config: { imageSize: size, decoderBlocks: [1, 1, 1], epochs: 1, batchSize: 2, seed: 2 } })).model;
    const thfr = (await trainThfr(backbone, toyImages(4, size, 42), { config: { ...tiny, template: false } })).model as ThfrModel;
    const images = imagesToTensor(toyImages(2, size, 43), size);
    try {
      const ort = await loadOnnxRuntimeNode();
      for (const model of [rd4ad, thfr] as RestorationModel[]) {
        const spec = await model.inferenceSpec();
        expect(spec.templates).toBeUndefined();
        const bytes = exportRestorationPipelineToOnnx(exportResNetToOnnx(backbone, { imageSize: size }), spec);
        expect(() => exportRestorationPipelineToOnnx(exportResNetToOnnx(backbone, { imageSize: size }), spec, { excludeInput: true })).toThrow(/excludeInput asks to exclude templates, but the \w+Model uses none/);
        const runner = await OnnxPipelineRunner.create(ort, bytes, { threads: 1 });
        expect(runner.info.outputs.templateIndex).toBeUndefined();
        await expectSamePredictions(model, runner, images);
        await expect(runner.run(images, { excludeTemplates: [0] })).rejects.toThrow(/excludeTemplates needs a pipeline exported with excludeInput \(and templates: this one has none\)/);
        runner.dispose();
        await runner.released;
      }
      const thfrPredicted = await (await accelerateInferenceWithOnnx(thfr, backbone, { threads: 1 }), thfr.predict(toyImages(1, size, 44)));
      expect(Array.from(thfrPredicted.templateIndices)).toEqual([-1]);
      expect(thfrPredicted.extras[0].template).toBe(-1);
    } finally {
      images.dispose();
      rd4ad.dispose();
      thfr.dispose();
    }
  });

  it('refuses a backbone exported for another size, a backbone of other levels, and a file that is no pipeline', async () => {
    const { model } = await trainThfr(backbone, toyImages(3, size, 51), { config: { ...tiny, epochs: 1 } });
    try {
      const spec = await model.inferenceSpec();
      expect(() => exportRestorationPipelineToOnnx(exportResNetToOnnx(backbone, { imageSize: 96 }), spec)).toThrow(/exported for an image height of 96, the model's imageSize is 64/);
      const shallow = createRandomResNet({ ...narrow, layers: [...narrow.layers], widths: [...narrow.widths] }, { seed: 3, levels: ['layer1', 'layer2'] });
      try {
        expect(() => exportRestorationPipelineToOnnx(exportResNetToOnnx(shallow, { imageSize: size }), spec)).toThrow(/lack the model's levels layer3/);
      } finally {
        shallow.dispose();
      }
      const ort = await loadOnnxRuntimeNode();
      await expect(OnnxPipelineRunner.create(ort, exportResNetToOnnx(backbone, { imageSize: size }))).rejects.toThrow(/no 'thfr.pipeline' metadata/);
      const another = createRandomResNet({ ...narrow, layers: [...narrow.layers], widths: [...narrow.widths] }, { seed: 4, levels: ['layer1', 'layer2', 'layer3'] });
      await expect(accelerateInferenceWithOnnx(model, another, { threads: 1 })).rejects.toThrow(/is not the model's/);
      another.dispose();
    } finally {
      model.dispose();
    }
  });
});
