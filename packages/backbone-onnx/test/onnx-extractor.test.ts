/**
 * The exported graphs run on onnxruntime-node against the tfjs backbones they came from (wasm backend): features
 * within 1e-4 relative (max |onnx - tfjs| / max |tfjs| per level) for small random ResNets (BasicBlock and wide
 * Bottleneck, any input size) and the real default ImageNet ResNet-50 v1 (caffe preprocessing) at 128 px;
 * input errors, the sync-extract refusal, leaks and dispose. onnxruntime runs on one intra-op thread here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { closeness, expectNoLeak } from '@thfr/tensor/testing';
import { createRandomResNet, extractFeatures, RESNET_SPECS, type ResNetBackbone, type ResNetSpec } from '@thfr/backbone';
import { loadDefaultBackbone } from '@thfr/backbone/node';
import { toyImages } from '@thfr/backbone/testing';
import { accelerateWithOnnx, OnnxAcceleratedBackbone, OnnxFeatureExtractor as Extractor, createOnnxFeatureExtractor, exportResNetToOnnx, loadOnnxFeatureExtractor, loadOnnxRuntimeNode, type OnnxFeatureExtractor, type OnnxRuntimeLike, type OrtSessionOptionsLike } from '../src/node.js';

const ortMissing = await loadOnnxRuntimeNode().then(() => '', (error: Error) => error.message);
if (ortMissing) console.warn(`SKIPPING the onnxruntime tests: ${ortMissing}`);
const THREADS = { threads: 1 };

/** max |a - b| / max |b| of one level. */
async function relativeError(actual: tf.Tensor, reference: tf.Tensor): Promise<number> {
  expect(actual.shape).toEqual(reference.shape);
  return closeness(await actual.data(), await reference.data()).maxRel;
}

/** Per-level relative errors of the ONNX extractor against the tfjs backbone on `images`. */
async function levelErrors(onnx: OnnxFeatureExtractor, backbone: ResNetBackbone, images: tf.Tensor4D): Promise<number[]> {
  const [ours, theirs] = [await extractFeatures(onnx, images), backbone.extract(images)];
  const errors = await Promise.all(ours.map((f, i) => relativeError(f, theirs[i])));
  tf.dispose([...ours, ...theirs]);
  return errors;
}

/** Smooth deterministic photos-like images (gradient, bright square, a defect on the second) as int32 0..255. */
function toyBatch(size: number): tf.Tensor4D {
  const images = [...toyImages(1, size, 5), ...toyImages(1, size, 6, true)];
  return tf.tensor4d(Int32Array.from(images.flatMap((i) => Array.from(i.data))), [2, size, size, 3], 'int32');
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

describe.skipIf(ortMissing !== '')(`OnnxFeatureExtractor on onnxruntime-node${ortMissing ? ` (skipped: ${ortMissing})` : ''}`, () => {
  const SMALL_BASIC: ResNetSpec = { ...RESNET_SPECS.resnet18, widths: [8, 16, 32, 64], stemWidth: 8 };
  const SMALL_WIDE: ResNetSpec = { ...RESNET_SPECS.wide_resnet50_2, layers: [1, 2, 1, 1], widths: [4, 8, 16, 32], stemWidth: 8 };
  let basic: ResNetBackbone;
  let basicOnnx: OnnxFeatureExtractor;

  beforeAll(async () => {
    basic = createRandomResNet(SMALL_BASIC, { seed: 21 });
    basicOnnx = await createOnnxFeatureExtractor(basic, THREADS);
  });
  afterAll(() => {
    basicOnnx?.dispose();
    basic?.dispose();
  });

  it('equals a random resnet18-like backbone at 64 px within 1e-4, with its identity and levels', async () => {
    expect(basicOnnx.identity).toEqual(basic.identity);
    expect(basicOnnx.levels).toEqual(basic.levels);
    const images = tf.randomUniform([2, 64, 64, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
    const errors = await levelErrors(basicOnnx, basic, images);
    images.dispose();
    expect(errors.length).toBe(3);
    for (const e of errors) expect(e).toBeLessThan(1e-4);
  });

  it("asks onnxruntime not to spin between runs unless allowSpinning (two sessions share the cores), with more session options passed through", async () => {
    const ort = await loadOnnxRuntimeNode();
    const seen: Array<OrtSessionOptionsLike | undefined> = [];
    const recording: OnnxRuntimeLike = { Tensor: ort.Tensor, InferenceSession: { create: (model, options) => (seen.push(options), ort.InferenceSession.create(model, options)) } };
    const bytes = exportResNetToOnnx(basic);
    for (const allowSpinning of [undefined, true]) {
      const onnx = await Extractor.create(recording, bytes, { ...THREADS, allowSpinning, ...(allowSpinning ? { sessionOptions: { logSeverityLevel: 3 } } : {}) });
      const images = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      for (const e of await levelErrors(onnx, basic, images)) expect(e).toBeLessThan(1e-4);
      images.dispose();
      onnx.dispose();
    }
    expect(seen.map((o) => o?.extra)).toEqual([{ session: { intra_op: { allow_spinning: '0' } } }, { session: { intra_op: { allow_spinning: '1' } } }]);
    // More session options pass through underneath thfr's.
    expect(seen.map((o) => (o as { logSeverityLevel?: number } | undefined)?.logSeverityLevel)).toEqual([undefined, 3]);
  });

  it('runs any input size on the default (size-agnostic) graph, int32 images included', async () => {
    const odd = tf.randomUniform([1, 50, 38, 3], 0, 256, 'int32', 9) as tf.Tensor4D;
    const errors = await levelErrors(basicOnnx, basic, odd);
    odd.dispose();
    for (const e of errors) expect(e).toBeLessThan(1e-4);
  });

  it('equals a wide Bottleneck ResNet (v1.5, width_per_group 128) within 1e-4', async () => {
    const wide = createRandomResNet(SMALL_WIDE, { seed: 22, levels: ['layer1', 'layer2', 'layer3', 'layer4'] });
    const onnx = await createOnnxFeatureExtractor(wide, THREADS);
    const images = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 10) as tf.Tensor4D;
    const errors = await levelErrors(onnx, wide, images);
    tf.dispose(images);
    onnx.dispose();
    wide.dispose();
    expect(errors.length).toBe(4);
    for (const e of errors) expect(e).toBeLessThan(1e-4);
  });

  it('would not pass with the wrong preprocessing: the check can fail', async () => {
    // The same weights exported as if they were a caffe-preprocessed network give features far from tfjs's.
    const bytes = exportResNetToOnnx(Object.assign(Object.create(Object.getPrototypeOf(basic)), basic, { preprocessing: 'caffe' }) as ResNetBackbone);
    const wrong = await createOnnxFeatureExtractor(bytes, THREADS);
    const images = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    const errors = await levelErrors(wrong, basic, images);
    images.dispose();
    wrong.dispose();
    expect(Math.min(...errors)).toBeGreaterThan(1e-2);
  });

  it('refuses the synchronous extract() and bad inputs with one error naming the input and what it expects', async () => {
    const images = tf.zeros([1, 64, 64, 3]) as tf.Tensor4D;
    expect(() => basicOnnx.extract(images)).toThrow(/runs on onnxruntime, whose run\(\) is asynchronous: call extractFeatures\(backbone, images\)/);
    const rgba = tf.zeros([1, 64, 64, 4]) as tf.Tensor4D;
    await expect(basicOnnx.extractAsync(rgba)).rejects.toThrow(/input 'images': expected \[B, H, W, 3\] RGB images \(float32 in \[0, 1\] or int32 0\.\.255\), got \[1, 64, 64, 4\] float32/);
    const fixed = await createOnnxFeatureExtractor(basic, { ...THREADS, imageSize: 64 });
    const wrongSize = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    await expect(fixed.extractAsync(wrongSize)).rejects.toThrow(/input 'images': expected \[B, 64, 64, 3\] .*this graph was exported for a fixed size.*got \[1, 32, 32, 3\] float32/);
    const ok = await fixed.extractAsync(images);
    expect(ok.map((t) => t.shape)).toEqual([[1, 16, 16, 8], [1, 8, 8, 16], [1, 4, 4, 32]]);
    tf.dispose([...ok, images, rgba, wrongSize]);
    fixed.dispose();
    await fixed.released;
  });

  it('leaks no tfjs tensors over repeated calls, create and dispose; refuses calls after dispose()', async () => {
    const images = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 12) as tf.Tensor4D;
    const ints = tf.randomUniform([1, 64, 64, 3], 0, 256, 'int32', 13) as tf.Tensor4D;
    await expectNoLeak(async () => tf.dispose(await basicOnnx.extractAsync(images)), 3, 'extractAsync (float32)');
    await expectNoLeak(async () => tf.dispose(await extractFeatures(basicOnnx, ints)), 3, 'extractFeatures (int32)');
    await expectNoLeak(async () => {
      const extractor = await createOnnxFeatureExtractor(basic, THREADS);
      tf.dispose(await extractor.extractAsync(images));
      extractor.dispose();
      await extractor.released;
      await expect(extractor.extractAsync(images)).rejects.toThrow(/extractAsync\(\) called after dispose\(\)/);
    }, 2, 'create + extract + dispose');
    tf.dispose([images, ints]);
  });

  it('loads an exported .onnx file with the identity it was exported with, and names a bad file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'thfr-onnx-'));
    try {
      const path = join(dir, 'backbone.onnx');
      writeFileSync(path, exportResNetToOnnx(basic));
      const loaded = await loadOnnxFeatureExtractor(path, THREADS);
      expect(loaded.identity).toEqual(basic.identity);
      loaded.dispose();
      writeFileSync(join(dir, 'junk.onnx'), 'not a model');
      await expect(loadOnnxFeatureExtractor(join(dir, 'junk.onnx'))).rejects.toThrow(/junk\.onnx: not (an ONNX model|a thfr ONNX backbone)/);
      await expect(loadOnnxFeatureExtractor(join(dir, 'missing.onnx'))).rejects.toThrow(/cannot read '.*missing\.onnx'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accelerateWithOnnx: async extraction on onnxruntime, sync on tfjs, one identity, and dispose frees both', async () => {
    const own = createRandomResNet(SMALL_BASIC, { seed: 22 });
    const before = tf.memory().numTensors;
    const accelerated = await accelerateWithOnnx(own, THREADS);
    expect(accelerated.identity).toEqual(own.identity);
    expect(accelerated.levels).toEqual(own.levels);
    expect(accelerated.tfjs).toBe(own);
    const images = tf.randomUniform([2, 64, 64, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const [viaOnnx, viaTfjs, direct] = [await extractFeatures(accelerated, images), accelerated.extract(images), await accelerated.onnx.extractAsync(images)];
    for (let k = 0; k < viaOnnx.length; k++) {
      expect(await relativeError(viaOnnx[k], viaTfjs[k])).toBeLessThan(1e-4);
      expect(await relativeError(viaOnnx[k], direct[k])).toBe(0); // extractFeatures took the onnxruntime path
    }
    tf.dispose([images, ...viaOnnx, ...viaTfjs, ...direct]);
    accelerated.dispose();
    await accelerated.onnx.released;
    expect(tf.memory().numTensors).toBeLessThan(before); // the tfjs backbone's weights were freed too
    const other = createRandomResNet(SMALL_BASIC, { seed: 23 });
    expect(() => new OnnxAcceleratedBackbone(other, basicOnnx)).toThrow(/the ONNX backbone .* is not the tfjs one/);
    other.dispose();
  });

  it('equals the default resnet50_imagenet_v1 (Keras v1, caffe preprocessing) at 128 px within 1e-4', async () => {
    const resnet50 = (await loadDefaultBackbone()) as ResNetBackbone;
    try {
      const onnx = await createOnnxFeatureExtractor(resnet50, THREADS);
      expect(onnx.identity).toEqual(resnet50.identity);
      expect(onnx.identity.architecture).toBe('resnet50_imagenet_v1');
      expect(onnx.info.preprocessing).toBe('caffe');
      const images = toyBatch(128);
      const errors = await levelErrors(onnx, resnet50, images);
      images.dispose();
      onnx.dispose();
      expect(errors.length).toBe(3);
      for (const e of errors) expect(e).toBeLessThan(1e-4);
      console.log(`resnet50_imagenet_v1 on onnxruntime vs tfjs-wasm, 2 images at 128 px: relative errors ${errors.map((e) => e.toExponential(2)).join(', ')}`);
    } finally {
      resnet50.dispose();
    }
  });
});
