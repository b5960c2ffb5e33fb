import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticCategory } from '@thfr/data/node';
import { cli } from './helpers/run-cli.js';
import { CLI_METHODS, METHOD_REGISTRY, cliMethodForManifest } from '../src/methods.js';
import { COMPARE_METHODS } from '../src/commands/compare.js';

let root: string;
let data: string;


beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'thfr-methods-'));
  data = await writeSyntheticCategory(join(root, 'ad'), { kind: 'ad', name: 'toy_ad', seed: 1, trainCount: 6, testCount: 6, size: 64 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the method registry', () => {
  it('knows every method, finds a folder\'s method by manifest, and lists them in compare', () => {
    expect(METHOD_REGISTRY.names).toEqual(['thfr', 'rd4ad', 'patchcore', 'padim']);
    expect(Object.keys(CLI_METHODS)).toEqual(METHOD_REGISTRY.names);
    // Folders saved before manifests named their method: by format and (THFR / RD4AD) config.
    expect(cliMethodForManifest({ format: 'thfr-model', config: { bottleneck: 'gl', template: true } }, 'm').method.name).toBe('thfr');
    expect(cliMethodForManifest({ format: 'thfr-model', config: { bottleneck: 'lbn', template: false } }, 'm').method.name).toBe('rd4ad');
    expect(cliMethodForManifest({ format: 'thfr-patchcore' }, 'm').method.name).toBe('patchcore');
    expect(cliMethodForManifest({ format: 'thfr-model', method: 'rd4ad', config: {} }, 'm').method.name).toBe('rd4ad');
    expect(() => cliMethodForManifest({ format: 'other' }, 'x/manifest.json')).toThrow(/x\/manifest.json \(format 'other'\) was not written by any known method/);
    expect(COMPARE_METHODS).toEqual(['thfr-gl', 'thfr-paper-map', 'thfr-per-position-map', 'thfr-bank', 'thfr-gbn', 'thfr-lbn', 'thfr-no-template', 'thfr-template', 'thfr-no-relation', 'thfr-relation', 'thfr-per-stream', 'thfr-top3', 'rd4ad', 'rd4ad-per-position', 'rd4ad-texture-map', 'patchcore', 'padim']);
  });

  for (const method of ['patchcore', 'padim'] as const) {
    it(`train --method ${method} saves a folder that eval and predict open by its manifest`, async () => {
      const model = join(root, `model-${method}`);
      const common = ['--backbone', 'mobilenet_v2', '--image-size', '64', '--batch-size', '4', '--backend', 'wasm', '--json', '--quiet'];
      const train = await cli('train', '--method', method, '--data', data, '--out', model, ...common);
      expect(train.code, train.stderr).toBe(0);
      expect(JSON.parse(train.stdout)).toMatchObject({ method, training: { images: 6 } });
      const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8'));
      expect(manifest.method).toBe(method);
      expect(manifest.backbone.architecture).toBe('mobilenet_v2');
      expect(existsSync(join(model, 'backbone', 'model.json'))).toBe(true);

      const evaluation = await cli('eval', '--model', model, '--data', data, '--backend', 'wasm', '--json', '--quiet');
      expect(evaluation.code, evaluation.stderr).toBe(0);
      expect(JSON.parse(evaluation.stdout).imageAuroc).toBeGreaterThanOrEqual(0);

      const wrong = await cli('predict', '--method', 'thfr', '--model', model, '--data', data, '--out', join(root, `maps-${method}`), '--backend', 'wasm');
      expect(wrong.stderr).toContain(`--method thfr: ${model} holds a ${method} model`);
      const predicted = await cli('predict', '--model', model, '--data', data, '--out', join(root, `maps-${method}`), '--backend', 'wasm', '--json', '--quiet', '--no-overlay');
      expect(predicted.code, predicted.stderr).toBe(0);
      expect(JSON.parse(predicted.stdout).maps).toHaveLength(6);
    });
  }

  it("compare derives THFR's papers-map and per-pixel-mean rows and RD4AD's standardized rows from the trained models, without retraining", async () => {
    const compare = async (name: string, methods: string, ...more: string[]) => {
      const dir = join(root, name);
      const r = await cli('compare', '--out', dir, '--backend', 'wasm', '--backbone', 'mobilenet_v2', '--categories', 'ad', '--methods', methods,
        '--train-count', '4', '--test-count', '4', '--epochs', '1', '--image-size', '64', '--batch-size', '4', ...more);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr.match(/training 1\/1 /g) ?? []).toHaveLength(1); // one fit per method: derived rows are not trained
      return JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8')).rows as Array<{ method: string; extraSeconds: number; pixelAuroc: number }>;
    };
    // The synthetic objects keep the papers' map by default (the layout check finds a layout), so THFR is asked for the
    // texture map here (its per-pixel-mean row measures the training maps with the bank's leave-one-out templates);
    // RD4AD's preset is the papers' map.
    const thfr = await compare('compare-thfr-derived', 'thfr-gl,thfr-paper-map,thfr-per-position-map', '--map-normalization', 'texture');
    expect(thfr.map((row) => row.method)).toEqual([expect.stringMatching(/^THFR G-L/), "THFR G-L, the papers' map", 'THFR G-L, per-position map']);
    expect(thfr[1].extraSeconds).toBe(0);
    expect(thfr[2].extraSeconds).toBeGreaterThan(0); // its statistics are measured on the training images
    const rd4ad = await compare('compare-rd4ad-derived', 'rd4ad,rd4ad-per-position,rd4ad-texture-map');
    expect(rd4ad.map((row) => row.method)).toEqual(['RD4AD', 'RD4AD, per-position map', 'RD4AD, texture map']);
    expect(rd4ad[1].extraSeconds).toBeGreaterThan(0); // its statistics are measured on the training images
    expect(rd4ad[2].pixelAuroc).not.toBe(rd4ad[1].pixelAuroc); // the pooled mean is another map
    // The derived maps are other maps: pixel AUROC is computed on them, so it moves.
    expect(thfr[1].pixelAuroc).not.toBe(thfr[0].pixelAuroc);
    expect(thfr[2].pixelAuroc).not.toBe(thfr[0].pixelAuroc);
    expect(rd4ad[1].pixelAuroc).not.toBe(rd4ad[0].pixelAuroc);
  }, 240_000);

  it('refuses checkpoints for methods that do not train in epochs', async () => {
    const r = await cli('train', '--method', 'patchcore', '--data', data, '--out', join(root, 'x'), '--checkpoint-dir', join(root, 'ck'));
    expect(r.stderr).toContain('--resume and --checkpoint-dir are for methods that train in epochs (thfr, rd4ad), not patchcore');
    const unknown = await cli('train', '--method', 'nope', '--data', data, '--out', join(root, 'y'));
    expect(unknown.stderr).toContain("unknown method 'nope': choose one of thfr, rd4ad, patchcore, padim");
  });
});
