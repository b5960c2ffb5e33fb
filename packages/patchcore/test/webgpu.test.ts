/**
 * The async-only paths on WebGPU in Node, where there is no synchronous read-back: template bank build,
 * search and greedy k-center subsampling, and PatchCore.fit (patch features + coreset) then predict.
 * Without a GPU, Dawn runs on SwiftShader's Vulkan driver (Debian's chromium package ships it; see
 * DESIGN.md "WebGPU without a GPU" and scripts/test-env.sh). Skipped, with the reason, only when that
 * driver file is absent; any other failure to get an adapter fails the test.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectClose } from '@thfr/tensor/testing';
import { initRuntime } from '@thfr/runtime-node';
import { TemplateBank } from '@thfr/template-bank';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { PatchCore } from '../src/index.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const icd = process.env.VK_ICD_FILENAMES || (existsSync(SWIFTSHADER_ICD) ? SWIFTSHADER_ICD : '');
const skipReason = icd ? '' : `no Vulkan driver for Dawn: ${SWIFTSHADER_ICD} (Debian's chromium) is absent and VK_ICD_FILENAMES is unset`;
if (skipReason) console.warn(`SKIPPING the WebGPU (SwiftShader) tests: ${skipReason}`);

const config = { imageSize: 64, layers: [0, 1], targetDim: 16, coresetRatio: 0.25, coresetProjectionDim: 0, batchSize: 4, seed: 1 };

/** Runs `fn` on cpu (the reference), then hands its result to the webgpu run. */
async function onCpu<T>(fn: () => Promise<T>): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return await fn();
  } finally {
    await tf.setBackend('webgpu');
  }
}

describe.skipIf(Boolean(skipReason))('WebGPU through Dawn on SwiftShader (async-only read-back)', () => {
  beforeAll(async () => {
    process.env.VK_ICD_FILENAMES = icd;
    const runtime = await initRuntime({ prefer: ['webgpu'], dawnOptions: ['backend=vulkan'] });
    expect(runtime.backend).toBe('webgpu');
    console.log(`webgpu adapter: ${String(runtime.description.details.adapter)}`);
  });

  it('has no synchronous read-back of GPU results (what the async-only API is for)', async () => {
    const t = tf.add(tf.randomNormal([64, 64]), tf.randomNormal([64, 64]));
    expect(() => t.dataSync()).toThrow();
    expect((await t.data()).length).toBe(64 * 64);
    t.dispose();
  });

  it('builds, searches and subsamples a template bank as on cpu', async () => {
    const run = async () => {
      const keys = tf.randomNormal([24, 4, 4, 8], 0, 1, 'float32', 5);
      const values = tf.randomNormal([24, 2, 2, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
      const bank = await TemplateBank.fromFeatures(keys, [values], { storage: 'float16' });
      const sub = await bank.subsample(0.25, { seed: 2, projectionDim: 0 });
      const found = await sub.search(keys, { topN: 2 });
      const serialized = await sub.serialize();
      const result = { sources: Array.from(sub.sourceIndices), found: found.indices.map((r) => Array.from(r)), bytes: serialized.buffer.byteLength };
      tf.dispose([keys, values]);
      bank.dispose();
      sub.dispose();
      return result;
    };
    const reference = await onCpu(run);
    const before = tf.memory().numTensors;
    const onGpu = await run();
    expect(onGpu.sources).toHaveLength(6);
    expect(onGpu).toEqual(reference);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fits PatchCore (features + greedy coreset) and predicts the same maps as on cpu', async () => {
    const backbone = tinyBackbone();
    const train = toyImages(6, 64, 3);
    const test = [...toyImages(2, 64, 8), ...toyImages(2, 64, 8, true)];
    const run = async () => {
      const model = new PatchCore(backbone, config);
      const fit = await model.fit(train);
      const prediction = await model.predict(test);
      model.dispose();
      return { fit, prediction };
    };
    const reference = await onCpu(run);
    const { fit, prediction } = await run();
    expect(fit.backend).toBe('webgpu');
    expect(fit.bankSize).toBe(reference.fit.bankSize);
    expect(fit.bankSize).toBeLessThan(fit.patches);
    expectClose(prediction.scores, reference.prediction.scores, 1e-3, 'PatchCore scores webgpu vs cpu', 1e-4);
    for (let i = 0; i < test.length; i++) expectClose(prediction.maps[i], reference.prediction.maps[i], 1e-3, `PatchCore map ${i} webgpu vs cpu`, 1e-4);
    expect(Math.min(...prediction.scores.slice(2))).toBeGreaterThan(Math.max(...prediction.scores.slice(0, 2)));
    backbone.dispose();
  });
});

it.skipIf(!skipReason)('WebGPU (SwiftShader) tests', (ctx) => ctx.skip(skipReason));
