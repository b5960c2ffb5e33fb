// The whole inference as one graph on onnxruntime-node's WebGPU execution provider (Dawn inside onnxruntime's own
// binary: no tfjs backend involved): the GPU path for Node services. Here Dawn runs on SwiftShader (Debian's
// chromium ships its Vulkan driver); skipped where neither it nor VK_ICD_FILENAMES gives Dawn an adapter.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { closeness } from '@thfr/tensor/testing';
import { createRandomResNet } from '@thfr/backbone';
import { toyImages } from '@thfr/backbone/testing';
import { imagesToTensor, trainThfr } from '@thfr/model';
import { loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import { accelerateInferenceWithOnnx } from '../src/node.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const icd = process.env.VK_ICD_FILENAMES || (existsSync(SWIFTSHADER_ICD) ? SWIFTSHADER_ICD : '');
type BackendList = () => Array<{ name: string; bundled: boolean }>;
const ortWebGpu = await loadOnnxRuntimeNode().then(
  (ort) => ((ort as unknown as { listSupportedBackends?: BackendList }).listSupportedBackends?.() ?? []).some((b) => b.name === 'webgpu' && b.bundled),
  () => false,
);
const skipReason = !ortWebGpu ? 'onnxruntime-node without its WebGPU execution provider' : !icd ? `no Vulkan driver for Dawn: ${SWIFTSHADER_ICD} is absent and VK_ICD_FILENAMES is unset` : '';

const size = 64;
const narrow = { block: 'bottleneck', layers: [1, 1, 1, 1], widths: [8, 16, 32, 64], stemWidth: 8, widthPerGroup: 64, strideOn: 'conv1x1', convBias: true } as const;
const backbone = createRandomResNet({ ...narrow, layers: [...narrow.layers], widths: [...narrow.widths] }, { seed: 3, levels: ['layer1', 'layer2', 'layer3'] });

beforeAll(async () => {
  await tf.setBackend('cpu');
  if (icd) process.env.VK_ICD_FILENAMES = icd; // read by the Vulkan loader when onnxruntime's Dawn starts
});
afterAll(() => backbone.dispose());

describe.skipIf(Boolean(skipReason))(`the one graph on onnxruntime-node's WebGPU execution provider${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it("THFR: predict's maps, scores and templates as on tfjs, through accelerateInferenceWithOnnx({ executionProviders: ['webgpu'] })", async () => {
    const { model } = await trainThfr(backbone, toyImages(6, size, 21), { config: { imageSize: size, decoderBlocks: [1, 1, 1], epochs: 1, batchSize: 3, seed: 5, templateMinAlignment: 0 } });
    const images = imagesToTensor(toyImages(3, size, 22), size);
    const folder = await mkdtemp(join(tmpdir(), 'thfr-webgpu-profile-'));
    try {
      const expected = await model.predictTensors(images, { excludeTemplates: [0, undefined, 2] });
      // Profiled: onnxruntime drops an execution provider that cannot run a node to its CPU one without an error;
      // its profile (written when the session is released) names the provider of each node.
      const runner = await accelerateInferenceWithOnnx(model, backbone, { executionProviders: ['webgpu'], sessionOptions: { enableProfiling: true, profileFilePrefix: join(folder, 'profile') } });
      expect(model.networkEngine).not.toBe('tfjs');
      const got = await model.predictTensors(images, { excludeTemplates: [0, undefined, 2] });
      expect(closeness(await got.map.data(), await expected.map.data()).maxRel).toBeLessThan(1e-4);
      expect(closeness(await got.scores.data(), await expected.scores.data()).maxRel).toBeLessThan(1e-4);
      for (let i = 0; i < got.levelMaps.length; i++) expect(closeness(await got.levelMaps[i].data(), await expected.levelMaps[i].data()).maxRel, `level ${i}`).toBeLessThan(1e-4);
      expect(got.extras.map((e) => e.template)).toEqual(expected.extras.map((e) => e.template));
      expect(got.extras[0].template).not.toBe(0);
      tf.dispose([got.map, got.scores, ...got.levelMaps, expected.map, expected.scores, ...expected.levelMaps]);
      model.usePipelineRunner(undefined);
      runner.dispose();
      await runner.released;
      const events = JSON.parse(readFileSync(join(folder, readdirSync(folder)[0]), 'utf8')) as Array<{ cat?: string; args?: { op_name?: string; provider?: string } }>;
      const providers = (op: string) => [...new Set(events.filter((e) => e.cat === 'Node' && e.args?.op_name === op).map((e) => e.args?.provider))];
      for (const op of ['Conv', 'ConvTranspose', 'MatMul']) expect(providers(op), op).toEqual(['WebGpuExecutionProvider']);
    } finally {
      images.dispose();
      model.dispose();
      await rm(folder, { recursive: true, force: true });
    }
  }, 120_000);
});
