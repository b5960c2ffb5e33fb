import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { exportLayersBackbone, loadNsfwjsBackbone, loadPretrainedBackbone, readNsfwjsModel } from '../src/node.js';
import { loadLayersBackboneFromUrl } from '../src/layers-export.js';
import type { LayersBackbone } from '../src/layers-adapter.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

describe('nsfwjs 4.4.0 MobileNetV2', () => {
  let backbone: LayersBackbone;
  beforeAll(async () => {
    backbone = await loadNsfwjsBackbone({ name: 'mobilenet_v2' });
  });
  afterAll(() => backbone?.dispose());

  it('has taps at strides 4, 8, 16 with the documented channels and identity', () => {
    expect(backbone.levels).toEqual([
      { name: 'block_2_add', stride: 4, channels: 24 },
      { name: 'block_5_add', stride: 8, channels: 32 },
      { name: 'block_12_add', stride: 16, channels: 96 },
    ]);
    expect(backbone.identity).toEqual({ architecture: 'mobilenet_v2', weights: 'nsfwjs@4.4.0/mobilenet_v2', taps: ['block_2_add', 'block_5_add', 'block_12_add'] });
  });

  it('extracts [B, H/s, W/s, C] maps that depend on the image, and leaks nothing', async () => {
    const images = tf.randomUniform([2, 64, 96, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const features = backbone.extract(images);
    expect(features.map((f) => f.shape)).toEqual([
      [2, 16, 24, 24],
      [2, 8, 12, 32],
      [2, 4, 6, 96],
    ]);
    const deep = features[2];
    const [a, b] = tf.tidy(() => tf.split(deep, 2, 0).map((t) => t.dataSync()));
    expect(a.every((v, i) => Number.isFinite(v) && Number.isFinite(b[i]))).toBe(true);
    expect(a.some((v, i) => v !== b[i])).toBe(true);
    tf.dispose(features);
    await expectNoLeak(() => tf.dispose(backbone.extract(images)), 2, 'default backbone extract');
    images.dispose();
  });

  it('uses the pretrained weights, not a fresh initialisation (the weights equal the decoded nsfwjs shard)', async () => {
    const artifacts = await readNsfwjsModel('mobilenet_v2');
    const spec = artifacts.weightSpecs.find((w) => w.name === 'Conv1/kernel')!;
    expect(spec.quantization?.dtype).toBe('uint8');
    const decoded = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
    const model = backbone.model as unknown as { getLayer(n: string): { getWeights(): tf.Tensor[] } };
    expectClose(model.getLayer('Conv1').getWeights()[0].dataSync(), decoded['Conv1/kernel'].dataSync(), 0, 'Conv1/kernel');
    tf.dispose(Object.values(decoded));
  });

  it('exports model.json + weights.bin that a browser loads over HTTP to the same features', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'thfr-export-'));
    const server = createServer((req, res) => {
      try {
        res.writeHead(200).end(readFileSync(join(dir, (req.url ?? '/').slice(1))));
      } catch {
        res.writeHead(404).end();
      }
    });
    try {
      const paths = await exportLayersBackbone(dir, backbone);
      expect(JSON.parse(readFileSync(paths.modelJson, 'utf8')).userDefinedMetadata.thfr.taps).toEqual(backbone.identity.taps);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`;
      const loaded = await loadLayersBackboneFromUrl(url);
      expect(loaded.levels).toEqual(backbone.levels);
      expect(loaded.identity).toEqual(backbone.identity);
      const images = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const [x, y] = [backbone.extract(images), loaded.extract(images)];
      x.forEach((f, i) => expectClose(y[i].dataSync(), f.dataSync(), 1e-6, `exported ${backbone.levels[i].name}`));
      tf.dispose([...x, ...y, images]);
      loaded.dispose();
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('InceptionV3 (nsfwjs 4.4.0), the alternative offline backbone', () => {
  it('InceptionV3 loads with BN scale switched on and gives taps resized to exactly H/4, H/8, H/16', async () => {
    const backbone = await loadNsfwjsBackbone({ name: 'inception_v3' });
    expect(backbone.identity.weights).toBe('nsfwjs@4.4.0/inception_v3');
    expect(backbone.resizeToStride).toBe(true);
    expect(backbone.levels).toEqual([
      { name: 'activation_5', stride: 4, channels: 192 },
      { name: 'mixed2', stride: 8, channels: 288 },
      { name: 'mixed7', stride: 16, channels: 768 },
    ]);
    const images = tf.zeros([1, 96, 96, 3], 'int32') as tf.Tensor4D;
    const features = backbone.extract(images);
    // Native 'valid' sizes would be 20, 9, 4 at 96 px.
    expect(features.map((f) => f.shape.slice(1))).toEqual([
      [24, 24, 192],
      [12, 12, 288],
      [6, 6, 768],
    ]);
    tf.dispose([...features, images]);
    backbone.dispose();
  });

  it('rejects an unknown name, listing the choices', async () => {
    await expect(loadNsfwjsBackbone({ name: 'vgg' as never })).rejects.toThrow(/unknown name 'vgg' \(expected mobilenet_v2 or inception_v3\)/);
    await expect(loadPretrainedBackbone('vgg' as never)).rejects.toThrow(/unknown pretrained backbone 'vgg' \(expected resnet50_imagenet_v1, mobilenet_v2, inception_v3\)/);
  });
});
