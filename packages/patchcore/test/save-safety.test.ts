// savePatchCore replaces only a previous PatchCore folder; predict with a wrong size leaks nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { OutputPathError } from '@thfr/detector/node';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { PatchCore } from '../src/index.js';
import { loadPatchCore, savePatchCore } from '../src/node.js';

const backbone = tinyBackbone();
let dir: string;
let model: PatchCore;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'thfr-patchcore-safety-'));
  model = new PatchCore(backbone, { imageSize: 64, seed: 1, batchSize: 4, coresetRatio: 0.25 });
  await model.fit(toyImages(4, 64, 5));
});
afterAll(async () => {
  model.dispose();
  backbone.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('savePatchCore output safety', () => {
  it('replaces a previous PatchCore folder, refuses a THFR model, a foreign folder and a file, leaving them untouched', async () => {
    await savePatchCore(model, join(dir, 'pc'));
    await savePatchCore(model, join(dir, 'pc'));
    (await loadPatchCore(join(dir, 'pc'), backbone)).dispose();
    await mkdir(join(dir, 'thfr'));
    await writeFile(join(dir, 'thfr', 'manifest.json'), JSON.stringify({ format: 'thfr-model' }));
    await expect(savePatchCore(model, join(dir, 'thfr'))).rejects.toThrow(/savePatchCore .*thfr holds a 'thfr-model' output \(manifest.json\), not a PatchCore model/);
    await mkdir(join(dir, 'photos'));
    await writeFile(join(dir, 'photos', 'a.jpg'), 'x');
    await expect(savePatchCore(model, join(dir, 'photos'))).rejects.toThrow(OutputPathError);
    expect(await readdir(join(dir, 'photos'))).toEqual(['a.jpg']);
    await writeFile(join(dir, 'file'), 'keep');
    await expect(savePatchCore(model, join(dir, 'file'))).rejects.toThrow(/is a file, not a PatchCore model folder/);
    expect(await readFile(join(dir, 'file'), 'utf8')).toBe('keep');
  });

  it('predict with a wrong image size throws and leaks nothing', async () => {
    const wrong = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    await expectNoLeak(async () => { await expect(model.predict(wrong)).rejects.toThrow(/images must be \[B, 64, 64, 3\]/); }, 3, 'PatchCore.predict(wrong size)');
    wrong.dispose();
  });
});

describe('PatchCore presets', () => {
  it("'fast' is 128 px, 'paper' the 1 % coreset; overrides go on top, and an unknown preset is named", async () => {
    const { PATCHCORE_METHOD } = await import('../src/node.js');
    const backbone = tinyBackbone();
    const fast = PATCHCORE_METHOD.create(backbone, { preset: 'fast', config: { coresetRatio: 0.5 } });
    expect(fast.config).toMatchObject({ imageSize: 128, coresetRatio: 0.5 });
    const paper = PATCHCORE_METHOD.create(backbone, { preset: 'paper' });
    expect(paper.config).toMatchObject({ imageSize: 256, coresetRatio: 0.01 });
    expect(() => PATCHCORE_METHOD.create(backbone, { preset: 'quick' })).toThrow("patchcore: unknown preset 'quick': choose one of default, fast, paper");
    [fast, paper].forEach((d) => d.dispose());
    backbone.dispose();
  });
});
