import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticCategory } from '@thfr/data/node';
import { cli } from './helpers/run-cli.js';
import { decodeFloat32Tiff } from '../src/tiff.js';

let root: string;
const data: Record<'ad' | 'loco', string> = { ad: '', loco: '' };


beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'thfr-cli-'));
  data.ad = await writeSyntheticCategory(join(root, 'ad'), { kind: 'ad', name: 'toy_ad', seed: 1, trainCount: 8, testCount: 8, size: 128 });
  data.loco = await writeSyntheticCategory(join(root, 'loco'), { kind: 'loco', name: 'toy_loco', seed: 2, trainCount: 8, testCount: 9, validationCount: 3, size: 128 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('thfr CLI', () => {
  it('prints help for every command and rejects unknown flags and missing arguments', async () => {
    for (const command of ['train', 'eval', 'predict', 'bench', 'demo']) {
      const help = await cli(command, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: thfr ${command}`);
      expect(help.stdout).toContain('--backend');
    }
    expect((await cli('train', '--bogus')).code).toBe(2);
    const missing = await cli('train', '--out', join(root, 'm'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--data is required');
    const badNumber = await cli('train', '--data', data.ad, '--out', join(root, 'm'), '--epochs', 'many', '--backend', 'wasm');
    expect(badNumber.stderr).toContain("--epochs expects an integer >= 1, got 'many'");
    const badPreset = await cli('train', '--data', data.ad, '--out', join(root, 'm'), '--config', 'quick', '--backend', 'wasm');
    expect(badPreset.stderr).toContain("--config must be one of default, fast, paper, got 'quick'");
    const contradiction = await cli('train', '--data', data.ad, '--out', join(root, 'm'), '--relation', '--no-relation', '--backend', 'wasm');
    expect(contradiction.stderr).toContain('--relation and --no-relation contradict each other; pass one');
    expect((await cli('nosuch')).code).toBe(2);
  });

  for (const layout of ['ad', 'loco'] as const) {
    it(`trains, evaluates and predicts end to end on a ${layout === 'ad' ? 'MVTec AD' : 'MVTec LOCO AD'} layout`, async () => {
      const model = join(root, `model-${layout}`);
      const train = await cli('train', '--data', data[layout], '--out', model, '--epochs', '2', '--batch-size', '4', '--image-size', '64', '--backend', 'wasm', '--json', '--quiet');
      expect(train.code, train.stderr).toBe(0);
      const trained = JSON.parse(train.stdout);
      expect(trained.layout).toBe(layout === 'ad' ? 'mvtec-ad' : 'mvtec-loco');
      expect(trained.training.epochs).toBe(2);
      // The default backbone (ImageNet ResNet-50) is exported as backbone.json + float16 safetensors for browsers.
      for (const file of ['manifest.json', 'weights.bin', 'bank.bin', 'backbone/backbone.json', 'backbone/weights.safetensors', 'training.json']) expect(existsSync(join(model, file)), file).toBe(true);

      const evaluation = await cli('eval', '--model', model, '--data', data[layout], '--backend', 'wasm', '--json', '--quiet');
      expect(evaluation.code, evaluation.stderr).toBe(0);
      const metrics = JSON.parse(evaluation.stdout);
      for (const key of ['imageAuroc', 'pixelAuroc', 'pro']) {
        expect(metrics[key], key).toBeGreaterThanOrEqual(0);
        expect(metrics[key], key).toBeLessThanOrEqual(1);
      }
      if (layout === 'loco') {
        expect(Object.keys(metrics.loco).sort()).toEqual(['imageAurocLogical', 'imageAurocMean', 'imageAurocStructural', 'sproLogical', 'sproMean', 'sproStructural']);
      } else expect(metrics.loco).toBeUndefined();
      const report = readFileSync(join(model, 'eval', 'report.html'), 'utf8');
      expect(report).toContain('<svg');
      expect(report).toContain('data:image/png;base64,');
      expect(JSON.parse(readFileSync(join(model, 'eval', 'metrics.json'), 'utf8')).imageAuroc).toBe(metrics.imageAuroc);

      const out = join(root, `maps-${layout}`);
      const predicted = await cli('predict', '--model', model, '--data', data[layout], '--out', out, '--backend', 'wasm', '--json', '--quiet');
      expect(predicted.code, predicted.stderr).toBe(0);
      const maps = JSON.parse(predicted.stdout).maps as Array<{ image: string; map: string }>;
      expect(maps.length).toBe(layout === 'ad' ? 8 : 9);
      const category = layout === 'ad' ? 'toy_ad' : 'toy_loco';
      for (const { image, map } of maps) {
        // <out>/<category>/test/<defect>/<name>.tiff, at the original 128x128 resolution
        expect(map).toBe(join(out, category, image.replace(/\.png$/, '.tiff')));
        const tiff = decodeFloat32Tiff(new Uint8Array(readFileSync(map)), map);
        expect([tiff.width, tiff.height]).toEqual([128, 128]);
        expect(existsSync(map.replace(/\.tiff$/, '_heatmap.png'))).toBe(true);
      }
    }, 300_000); // train + eval + predict of a real backbone: ~40 s on a quiet 2-core machine, several times that under load
  }

  it('fails clearly on a model folder that is not one, and on a wrong backend name', async () => {
    const bad = await cli('eval', '--model', join(root, 'nowhere'), '--data', data.ad, '--backend', 'wasm');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/is not a saved THFR model/);
    const backend = await cli('eval', '--model', join(root, 'nowhere'), '--data', data.ad, '--backend', 'cuda');
    expect(backend.stderr).toContain('--backend must be one of webgpu, tensorflow, wasm, cpu');
  });
});
