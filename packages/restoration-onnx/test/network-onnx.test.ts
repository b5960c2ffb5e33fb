import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { closeness, expectNoLeak } from '@thfr/tensor/testing';
import { ThfrNetwork, imagesToTensor, measureLevels, resolveConfig, trainThfr, type ThfrConfig } from '@thfr/model';
import { Rd4adNetwork, resolveRd4adConfig } from '@thfr/rd4ad';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { decodeOnnxModel, type OnnxRuntimeLike, type OrtSessionOptionsLike } from '@thfr/backbone-onnx';
import { loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import { OnnxNetworkRunner, exportRestorationNetworkToOnnx, exportRestorationNetworkToOnnxAsync, accelerateNetworkWithOnnx } from '../src/node.js';

const backbone = tinyBackbone();
const tiny: Partial<ThfrConfig> = { imageSize: 64, decoderBlocks: [1, 2, 1], epochs: 1, batchSize: 2, seed: 5 };

beforeAll(async () => { await tf.setBackend('cpu'); });
afterAll(() => backbone.dispose());

/** Trains the batch norms' running statistics a little, so that they are not the identity. */
function warm(net: ThfrNetwork | Rd4adNetwork, features: tf.Tensor4D[], templateShape?: [number, number, number, number]): void {
  tf.tidy(() => { for (let i = 0; i < 2; i++) net.forward(features, templateShape ? tf.randomNormal(templateShape, 0, 1, 'float32', 30 + i) as tf.Tensor4D : undefined); });
  net.eval();
}

describe('restoration networks on onnxruntime', () => {
  it('THFR (every ablation) and RD4AD restore the same levels as tfjs within 1e-4 relative', async () => {
    const ort = await loadOnnxRuntimeNode();
    const levels = measureLevels(backbone, 64);
    const x = imagesToTensor(toyImages(3, 64, 3), 64);
    const features = backbone.extract(x);
    const networks = [
      ...[{}, { bottleneck: 'gbn' }, { bottleneck: 'lbn' }, { template: false }, { relation: false }, { templateReferences: 'per-stream' }].map((v) => new ThfrNetwork(levels, resolveConfig({ ...tiny, ...(v as Partial<ThfrConfig>) }))),
      new Rd4adNetwork(levels, resolveRd4adConfig({ imageSize: 64, decoderBlocks: [1, 1, 1], seed: 2 })),
    ];
    for (const net of networks) {
      const thfr = net instanceof ThfrNetwork && net.config.template ? net : undefined;
      const shape: [number, number, number, number] | undefined = thfr ? [3, thfr.codeSize, thfr.codeSize, thfr.templateChannels] : undefined;
      warm(net, features, net instanceof ThfrNetwork ? [3, net.codeSize, net.codeSize, net.templateChannels] : undefined);
      const template = shape ? tf.randomNormal(shape, 0, 1, 'float32', 8) as tf.Tensor4D : undefined;
      const bytes = exportRestorationNetworkToOnnx(net);
      const onnx = decodeOnnxModel(bytes).graph;
      expect(onnx.output.map((o) => o.name)).toEqual(levels.map((l) => `restored_${l.name}`));
      // Every batch norm of these networks follows a conv or a transposed conv that nothing else reads: all folded.
      expect(net.toGraph().nodes.filter((n) => n.op === 'batch_norm').length).toBeGreaterThan(5);
      expect(onnx.node.filter((n) => n.opType === 'BatchNormalization')).toHaveLength(0);
      const runner = await OnnxNetworkRunner.create(ort, bytes, { threads: 1 });
      const expected = net.forward(features, template);
      const got = await runner.run(features, template);
      const what = net instanceof ThfrNetwork ? JSON.stringify({ bottleneck: net.config.bottleneck, template: net.config.template, relation: net.config.relation, refs: net.config.templateReferences }) : 'RD4AD';
      expect(got.map((t) => t.shape), what).toEqual(expected.map((t) => t.shape));
      got.forEach((t, k) => expect(closeness(t.dataSync(), expected[k].dataSync()).maxRel, `${what} level ${k + 1}`).toBeLessThan(1e-4));
      await expectNoLeak(async () => tf.dispose(await runner.run(features, template)));
      tf.dispose([...expected, ...got]);
      template?.dispose();
      runner.dispose();
      await runner.released;
      net.dispose();
    }
    tf.dispose([x, ...features]);
  });

  it('passes the execution providers, the spinning choice (no spinning by default) and more session options to onnxruntime', async () => {
    const ort = await loadOnnxRuntimeNode();
    const seen: Array<OrtSessionOptionsLike | undefined> = [];
    const recording: OnnxRuntimeLike = { Tensor: ort.Tensor, InferenceSession: { create: (model, options) => (seen.push(options), ort.InferenceSession.create(model, options)) } };
    const net = new ThfrNetwork(measureLevels(backbone, 64), resolveConfig({ ...tiny, template: false }));
    net.eval();
    const bytes = exportRestorationNetworkToOnnx(net);
    // The async export (weights read ahead, for tfjs-webgpu in Node) writes the same bytes without one synchronous read.
    const dataSync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    try {
      expect(await exportRestorationNetworkToOnnxAsync(net)).toEqual(bytes);
      expect(dataSync).not.toHaveBeenCalled();
    } finally {
      dataSync.mockRestore();
    }
    // sessionOptions pass through; thfr's own options win over them.
    const more = { logSeverityLevel: 3, executionProviders: ['nonexistent'], extra: { session: { disable_cpu_ep_fallback: '0', intra_op: { allow_spinning: '1' } } } };
    for (const options of [{}, { allowSpinning: true, executionProviders: ['cpu'] }, { sessionOptions: more }]) {
      const runner = await OnnxNetworkRunner.create(recording, bytes, options);
      runner.dispose();
      await runner.released;
    }
    net.dispose();
    expect(seen.map((o) => [o?.executionProviders, o?.extra, (o as { logSeverityLevel?: number } | undefined)?.logSeverityLevel])).toEqual([
      [['cpu'], { session: { intra_op: { allow_spinning: '0' } } }, undefined],
      [['cpu'], { session: { intra_op: { allow_spinning: '1' } } }, undefined],
      [['cpu'], { session: { disable_cpu_ep_fallback: '0', intra_op: { allow_spinning: '0' } } }, 3],
    ]);
  });

  it('a model predicts the same maps and scores with its network on onnxruntime, and refuses bad inputs by name', async () => {
    const train = toyImages(6, 64, 11);
    const { model } = await trainThfr(backbone, train, { config: { ...tiny, epochs: 2 } });
    try {
      const test = toyImages(3, 64, 12);
      const before = await model.predict(test);
      const runner = await accelerateNetworkWithOnnx(model, { threads: 1 });
      expect(model.networkEngine).toBe('onnxruntime');
      const after = await model.predict(test);
      expect(closeness(after.scores, before.scores).maxRel).toBeLessThan(1e-4);
      expect(closeness(after.maps[1], before.maps[1]).maxRel).toBeLessThan(1e-4);
      expect(Array.from(after.templateIndices)).toEqual(Array.from(before.templateIndices));
      const wrong = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
      await expect(runner.run([wrong, wrong, wrong], wrong)).rejects.toThrow(/input 'l1' must be \[B, 16, 16, \d+\], got \[1, 8, 8, 3\]/);
      await expect(runner.run([wrong])).rejects.toThrow(/takes 4 inputs/);
      wrong.dispose();
      model.useNetworkRunner(undefined);
      expect(model.networkEngine).toBe('tfjs');
      await runner.released;
    } finally {
      model.dispose();
    }
  });
});
