import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { ThfrNetwork, imagesToTensor, measureLevels, resolveConfig, trainThfr, type TrainingCheckpoint, type ThfrConfig } from '../src/index.js';
import { disposeCheckpoint, loadCheckpoint, loadModel, saveCheckpoint, saveModel } from '../src/node.js';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';

const backbone = tinyBackbone();
const tiny: Partial<ThfrConfig> = { imageSize: 64, decoderBlocks: [1, 1, 1], epochs: 2, batchSize: 4, seed: 3 };
let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'thfr-model-'));
});
afterAll(async () => {
  backbone.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('ThfrNetwork', () => {
  const levels = () => measureLevels(backbone, 64);

  it('restores every level at its shape and, for each ablation, gradients reach every trainable weight', () => {
    for (const variant of [{ bottleneck: 'gl' }, { bottleneck: 'gbn' }, { bottleneck: 'lbn' }, { template: false }, { relation: false }, { templateReferences: 'per-stream' }] as Array<Partial<ThfrConfig>>) {
      const config = resolveConfig({ ...tiny, ...variant });
      const net = new ThfrNetwork(levels(), config);
      const x = imagesToTensor(toyImages(2, 64, 1), 64);
      const features = backbone.extract(x);
      const template = tf.randomNormal([2, 2, 2, 36], 0, 1, 'float32', 17) as tf.Tensor4D;
      const restored = net.forward(features, template);
      expect(restored.map((r) => r.shape)).toEqual(features.map((f) => f.shape));
      const { value, grads } = tf.variableGrads(() => tf.addN(net.forward(features, template).map((r) => tf.mean(tf.square(r)))) as tf.Scalar, net.trainableVariables());
      const dead = net.namedParameters().filter(([, v]) => !(tf.sum(tf.abs(grads[v.name])).dataSync()[0] > 0)).map(([n]) => n);
      expect(dead, JSON.stringify(variant)).toEqual([]);
      tf.dispose([x, template, value, ...features, ...restored, ...Object.values(grads)]);
      net.dispose();
    }
  });

  it('ablation switches change the modules that exist', () => {
    const names = (v: Partial<ThfrConfig>) => {
      const net = new ThfrNetwork(levels(), resolveConfig({ ...tiny, ...v }));
      const prefixes = new Set(net.namedParameters().map(([n]) => n.split('.')[0]));
      const relation = net.namedParameters().some(([n]) => n.includes('.relation.'));
      net.dispose();
      return { prefixes: [...prefixes].sort(), relation };
    };
    expect(names({})).toEqual({ prefixes: ['compensate_global', 'compensate_local', 'decoder', 'fusion', 'gbn', 'lbn'], relation: true });
    expect(names({ bottleneck: 'gbn' }).prefixes).toEqual(['compensate_global', 'decoder', 'gbn']);
    expect(names({ bottleneck: 'lbn' }).prefixes).toEqual(['compensate_local', 'decoder', 'lbn']);
    expect(names({ template: false }).prefixes).toEqual(['decoder', 'fusion', 'gbn', 'lbn']);
    expect(names({ relation: false }).relation).toBe(false);
  });

  it("'per-stream' template references give the global stream T_K only and the local stream every level", () => {
    const lv = levels();
    const deepest = lv[lv.length - 1].channels;
    const total = lv.reduce((sum, l) => sum + l.channels, 0);
    const x = imagesToTensor(toyImages(2, 64, 1), 64);
    const features = backbone.extract(x);
    const template = tf.randomNormal([2, 2, 2, total], 0, 1, 'float32', 17) as tf.Tensor4D;
    // Perturb the shallow levels' part of T (every channel before T_K) or T_K's part.
    const bump = (from: number, to: number) => tf.tidy(() => tf.add(template, tf.concat([tf.zeros([2, 2, 2, from]), tf.onesLike(tf.slice(template, [0, 0, 0, from], [-1, -1, -1, to - from])), tf.zeros([2, 2, 2, total - to])], 3))) as tf.Tensor4D;
    const shallow = bump(0, total - deepest);
    const deep = bump(total - deepest, total);
    const change = (v: Partial<ThfrConfig>, other: tf.Tensor4D) => {
      const net = new ThfrNetwork(lv, resolveConfig({ ...tiny, ...v })).eval();
      const delta = tf.tidy(() => tf.addN(net.forward(features, template).map((r, k) => tf.max(tf.abs(tf.sub(r, net.forward(features, other)[k]))))).dataSync()[0]);
      const embedInputs = net.compensateGlobal?.templateEmbed.weight.shape[2];
      net.dispose();
      return { delta, embedInputs };
    };
    // The global stream alone: per stream it ignores the shallow levels of T and follows T_K; pooled it follows both.
    expect(change({ bottleneck: 'gbn', templateReferences: 'per-stream' }, shallow)).toEqual({ delta: 0, embedInputs: deepest });
    expect(change({ bottleneck: 'gbn', templateReferences: 'per-stream' }, deep).delta).toBeGreaterThan(1e-4);
    expect(change({ bottleneck: 'gbn', templateReferences: 'pooled' }, shallow)).toMatchObject({ embedInputs: total });
    expect(change({ bottleneck: 'gbn', templateReferences: 'pooled' }, shallow).delta).toBeGreaterThan(1e-4);
    // The local stream sees every level either way.
    expect(change({ bottleneck: 'lbn', templateReferences: 'per-stream' }, shallow).delta).toBeGreaterThan(1e-4);
    tf.dispose([x, template, shallow, deep, ...features]);
  });
});

describe('training, prediction, save/load', () => {
  const train = toyImages(8, 64, 5);
  let checkpoints: string[] = [];

  it('trains with decreasing loss, never uses an image as its own template, predicts without leaks, saves and loads', async () => {
    const phases = new Set<string>();
    const { model, lossHistory } = await trainThfr(backbone, train, {
      config: { ...tiny, epochs: 4, topN: 2 },
      onProgress: (p) => phases.add(p.phase),
      checkpointEvery: 2,
      onCheckpoint: async (c) => {
        const path = join(dir, `ckpt-${c.epoch}`);
        await saveCheckpoint(c, path);
        checkpoints.push(path);
      },
    });
    expect([...phases]).toEqual(['features', 'layout', 'bank', 'train', 'calibrate']);
    expect(lossHistory.length).toBe(4);
    expect(lossHistory[3]).toBeLessThan(lossHistory[0]);
    expect(model.normalStatistics?.source).toBe('train-leave-one-out');

    // Leave-one-out search on the training images never returns the image itself.
    const loo = await model.predict(train, { excludeTemplates: train.map((_, i) => i) });
    loo.templateIndices.forEach((t, i) => expect(t).not.toBe(i));
    // Without exclusion, the nearest template of a training image is itself.
    const own = await model.predict(train.slice(0, 3));
    expect(Array.from(own.templateIndices)).toEqual([0, 1, 2]);

    const test = [...toyImages(2, 64, 9), ...toyImages(2, 64, 9, true)];
    const before = await model.predict(test);
    expect(before.maps[0].length).toBe(64 * 64);
    const x = imagesToTensor(test, 64);
    await expectNoLeak(async () => { const p = await model.predictTensors(x); tf.dispose([p.map, p.scores, ...p.levelMaps]); }, 2, 'predictTensors');
    x.dispose();

    await saveModel(model, join(dir, 'model'));
    await saveModel(model, join(dir, 'model')); // overwrite in place, atomically
    const loaded = await loadModel(join(dir, 'model'), backbone);
    const after = await loaded.predict(test);
    for (let i = 0; i < test.length; i++) {
      expect(after.scores[i]).toBeCloseTo(before.scores[i], 5);
      let maxDiff = 0;
      for (let p = 0; p < after.maps[i].length; p++) maxDiff = Math.max(maxDiff, Math.abs(after.maps[i][p] - before.maps[i][p]));
      expect(maxDiff).toBeLessThan(1e-5);
    }
    expect(loaded.normalStatistics).toEqual(model.normalStatistics);
    loaded.dispose();
    model.dispose();
  });

  it('resuming from a checkpoint gives the same weights as an uninterrupted run', async () => {
    const full = await trainThfr(backbone, train, { config: { ...tiny, epochs: 4, topN: 2 } });
    const checkpoint = await loadCheckpoint(checkpoints[0]);
    expect(checkpoint.epoch).toBe(2);
    const resumed = await trainThfr(backbone, train, { config: { ...tiny, epochs: 4, topN: 2 }, resumeFrom: checkpoint });
    disposeCheckpoint(checkpoint);
    expect(resumed.lossHistory).toHaveLength(4);
    const a = full.model.network.stateDict();
    let worst = 0;
    for (const [name, v] of resumed.model.network.stateDict()) {
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(v, a.get(name)!))).dataSync()[0]);
      worst = Math.max(worst, d);
    }
    expect(worst).toBeLessThan(1e-4);
    full.model.dispose();
    resumed.model.dispose();
  });

  it('rejects a mismatched backbone, a corrupted weights file and a future format version', async () => {
    const other = tinyBackbone([8, 12, 16], 99);
    await expect(loadModel(join(dir, 'model'), other)).rejects.toThrow(/was trained with backbone .*tiny-test.*seed:11.*given backbone is .*seed:99/);
    other.dispose();
    const manifestPath = join(dir, 'model', 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    await writeFile(manifestPath, JSON.stringify({ ...manifest, version: 99 }));
    await expect(loadModel(join(dir, 'model'), backbone)).rejects.toThrow(/model format version 99; this @thfr\/model reads version 1/);
    await writeFile(manifestPath, JSON.stringify(manifest));
    const weightsPath = join(dir, 'model', 'weights.bin');
    const bytes = await readFile(weightsPath);
    await writeFile(weightsPath, bytes.subarray(0, bytes.length - 8));
    await expect(loadModel(join(dir, 'model'), backbone)).rejects.toThrow(/weights.bin has \d+ bytes, the manifest says \d+/);
    bytes[100] ^= 0xff;
    await writeFile(weightsPath, bytes);
    await expect(loadModel(join(dir, 'model'), backbone)).rejects.toThrow(/weights.bin: checksum mismatch/);
    await expect(loadModel(join(dir, 'nowhere'), backbone)).rejects.toThrow(/is not a saved THFR model/);
  });
});
