// Reliability of @thfr/model: malformed manifests and checkpoints name the field, checkpoints are
// checksummed, resuming names what differs, a collapsed model is an error, and failing calls leak nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { parseManifest, resolveConfig, trainThfr, type ThfrConfig, type ThfrModel, type TrainingCheckpoint } from '../src/index.js';
import { ManifestFieldError, loadCheckpoint, readModelManifest, saveCheckpoint, saveModel } from '../src/node.js';
import { checkCalibrationScores, checkResumable } from '@thfr/restoration';

const backbone = tinyBackbone();
const tiny: Partial<ThfrConfig> = { imageSize: 64, decoderBlocks: [1, 1, 1], epochs: 1, batchSize: 4, seed: 3 };
const train = toyImages(6, 64, 5);
let dir: string;
let model: ThfrModel;

/** Runs a call that must fail with `pattern`, as expectNoLeak's body. */
const failing = (call: () => Promise<unknown>, pattern: RegExp) => async () => {
  await expect(call()).rejects.toThrow(pattern);
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'thfr-reliability-'));
  model = (await trainThfr(backbone, train, { config: tiny })).model;
});
afterAll(async () => {
  model?.dispose();
  backbone.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('model manifests', () => {
  it('a missing or mistyped field is named, with what was expected', async () => {
    await saveModel(model, join(dir, 'model'), { extraFiles: new Map([['backbone/weights.bin', new Uint8Array(1000).fill(7)]]) });
    const manifest = JSON.parse(await readFile(join(dir, 'model', 'manifest.json'), 'utf8'));
    const { backbone: _, ...withoutBackbone } = manifest;
    expect(() => parseManifest(withoutBackbone, 'm/manifest.json')).toThrow(ManifestFieldError);
    expect(() => parseManifest(withoutBackbone, 'm/manifest.json')).toThrow("m/manifest.json: field 'backbone' must be an object, but it is missing");
    expect(() => parseManifest({ ...manifest, backbone: { ...manifest.backbone, taps: 'a' } }, 'm')).toThrow("field 'backbone.taps' must be an array of strings, got \"a\"");
    expect(() => parseManifest({ ...manifest, weights: { ...manifest.weights, sha256: 5 } }, 'm')).toThrow("field 'weights.sha256' must be a string, got 5");
    const levels = manifest.levels.map((l: object, i: number) => (i === 1 ? { ...l, channels: -1 } : l));
    expect(() => parseManifest({ ...manifest, levels }, 'm')).toThrow("field 'levels[1].channels' must be a non-negative integer, got -1");
    await writeFile(join(dir, 'model', 'manifest.json'), JSON.stringify(withoutBackbone));
    await expect(readModelManifest(join(dir, 'model'))).rejects.toThrow(/manifest.json: field 'backbone' must be an object, but it is missing/);
    await writeFile(join(dir, 'model', 'manifest.json'), JSON.stringify(manifest));
  });

  it('a truncated or altered extra file (the exported backbone) is detected from the manifest', async () => {
    const path = join(dir, 'model', 'backbone', 'weights.bin');
    expect((await readModelManifest(join(dir, 'model'))).extraFiles?.[0].path).toBe('backbone/weights.bin');
    await writeFile(path, new Uint8Array(900).fill(7));
    await expect(readModelManifest(join(dir, 'model'))).rejects.toThrow(/backbone\/weights.bin has 900 bytes, .*manifest.json says 1000 \(truncated or replaced file\)/);
    await writeFile(path, new Uint8Array(1000).fill(8));
    await expect(readModelManifest(join(dir, 'model'))).rejects.toThrow(/backbone\/weights.bin: checksum mismatch/);
  });

  it('the save API refuses a folder that is not a THFR model and leaves it as it was', async () => {
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await expect(saveModel(model, join(dir, 'notes.txt'))).rejects.toThrow(/saveModel .*notes.txt is a file, not a THFR model folder/);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });
});

describe('checkpoints', () => {
  const checkpoint = (): TrainingCheckpoint => ({
    epoch: 3, config: resolveConfig(tiny), randomState: 42, lossHistory: [0.5, 0.4, 0.3],
    weights: new Map([['w', tf.tensor1d([1, 2, 3, 4])]]), optimizer: [{ name: 'w/m', tensor: tf.tensor1d([0.1, 0.2, 0.3, 0.4]) }],
  });

  it('are checksummed: a flipped byte or a truncated file is refused, naming the file, without leaking tensors', async () => {
    const c = checkpoint();
    await saveCheckpoint(c, join(dir, 'ckpt'));
    tf.dispose([...c.weights.values(), c.optimizer[0].tensor]);
    const loaded = await loadCheckpoint(join(dir, 'ckpt'));
    expect(Array.from(await loaded.weights.get('w')!.data())).toEqual([1, 2, 3, 4]);
    tf.dispose([...loaded.weights.values(), loaded.optimizer[0].tensor]);
    const path = join(dir, 'ckpt', 'optimizer.bin');
    const bytes = await readFile(path);
    bytes[5] ^= 0x10;
    await writeFile(path, bytes);
    await expectNoLeak(failing(() => loadCheckpoint(join(dir, 'ckpt')), /optimizer.bin: checksum mismatch .*the checkpoint is corrupt/), 2, 'loadCheckpoint (flipped byte)');
    await writeFile(path, bytes.subarray(0, 8));
    await expect(loadCheckpoint(join(dir, 'ckpt'))).rejects.toThrow(/optimizer.bin has 8 bytes, .*checkpoint.json says 16 \(truncated or replaced file\)/);
  });

  it('a malformed checkpoint.json names the field; version 1 (no checksums) is refused', async () => {
    const c = checkpoint();
    await saveCheckpoint(c, join(dir, 'ckpt2'));
    tf.dispose([...c.weights.values(), c.optimizer[0].tensor]);
    const path = join(dir, 'ckpt2', 'checkpoint.json');
    const json = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...json, epoch: 'three' }));
    await expect(loadCheckpoint(join(dir, 'ckpt2'))).rejects.toThrow("checkpoint.json: field 'epoch' must be a non-negative integer, got \"three\"");
    await writeFile(path, JSON.stringify({ ...json, version: 1 }));
    await expect(loadCheckpoint(join(dir, 'ckpt2'))).rejects.toThrow(/checkpoint format version 1; this @thfr\/restoration reads version 2 \(version 1 has no checksums/);
    await expect(loadCheckpoint(join(dir, 'nothing'))).rejects.toThrow(/is not a THFR checkpoint: .*checkpoint.json is missing/);
  });

  it('resuming names every differing setting and refuses fewer epochs than the checkpoint has trained', () => {
    const c = { ...checkpoint(), weights: new Map(), optimizer: [] };
    expect(() => checkResumable(resolveConfig({ ...tiny, epochs: 5, learningRate: 0.01, batchSize: 2 }), c)).toThrow(
      'the checkpoint was made with different settings (batchSize: checkpoint 4, now 2; learningRate: checkpoint 0.005, now 0.01)');
    expect(() => checkResumable(resolveConfig({ ...tiny, epochs: 2 }), c)).toThrow('the checkpoint has already trained 3 epochs, more than the 2 asked for; set epochs to 3 or more');
    expect(() => checkResumable(resolveConfig({ ...tiny, epochs: 3 }), c)).not.toThrow();
  });
});

describe('collapsed or diverged training', () => {
  it('constant or non-finite calibration scores are an error', () => {
    expect(() => checkCalibrationScores([3, 3, 3, 3])).toThrow('all 4 calibration images score 3 (a collapsed model');
    expect(() => checkCalibrationScores([0.2, NaN])).toThrow('calibration image 1 scores NaN; the network diverged');
    expect(() => checkCalibrationScores([0.2, 0.25, 0.3])).not.toThrow();
  });

  it('a learning rate of 1e30 fails training instead of returning a model, and leaks no tensor', async () => {
    const before = tf.memory().numTensors;
    await expect(trainThfr(backbone, train, { config: { ...tiny, learningRate: 1e30 } })).rejects.toThrow(/training (diverged|failed)/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('no leak when a public call throws', () => {
  it('predict with a wrong image size', async () => {
    const wrong = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
    await expectNoLeak(failing(() => model.predict(wrong), /images must be 64x64/), 3, 'predict(wrong size)');
    await expectNoLeak(failing(() => model.predictTensors(wrong), /images must be 64x64/), 3, 'predictTensors(wrong size)');
    await expectNoLeak(failing(() => model.predict([{ width: 4, height: 4, data: new Uint8Array(5) }]), /expected 4x4x3 = 48 bytes/), 3, 'predict(bad buffer)');
    wrong.dispose();
  });
});

describe('limits', () => {
  it('imageSize is bounded, with the reason', () => {
    expect(() => resolveConfig({ imageSize: 100_000 })).toThrow(/'imageSize' must be at most 2048 .*got 100000: memory grows with its square/);
    expect(resolveConfig({ imageSize: 2048 }).imageSize).toBe(2048);
  });
});
