/**
 * `thfr bench`'s count of a paper-configuration training step on webgpu (issue 16's goal: at most 1,000 dispatches),
 * counted at the WebGPU API (every compute shader, tfjs' programs and thfr's multi-output kernels alike). Without a
 * GPU, Dawn runs on SwiftShader's Vulkan driver (Debian's chromium package; scripts/test-env.sh); skipped, with the
 * reason, only when that driver file is absent.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf, THFR_ADAM_STEP, THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD } from '@thfr/tensor';
import { initRuntime } from '@thfr/runtime-node';
import { PAPER_CONFIG } from '@thfr/model';
import { countDispatches, countTrainingStepDispatches } from '../src/commands/bench-dispatches.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const icd = process.env.VK_ICD_FILENAMES || (existsSync(SWIFTSHADER_ICD) ? SWIFTSHADER_ICD : '');
const skipReason = icd ? '' : `no Vulkan driver for Dawn: ${SWIFTSHADER_ICD} (Debian's chromium) is absent and VK_ICD_FILENAMES is unset`;
if (skipReason) console.warn(`SKIPPING the WebGPU (SwiftShader) dispatch count: ${skipReason}`);

describe.skipIf(Boolean(skipReason))('training-step dispatches on webgpu (Dawn on SwiftShader)', () => {
  beforeAll(async () => {
    process.env.VK_ICD_FILENAMES = icd;
    const runtime = await initRuntime({ prefer: ['webgpu'], dawnOptions: ['backend=vulkan'] });
    expect(runtime.backend).toBe('webgpu');
  });

  it('counts the shaders that kernels run inside themselves: the fused batch norm takes 2 + 2', async () => {
    const x = tf.randomUniform([2, 4, 4, 12]);
    const [gamma, beta, mean] = [tf.ones([12]), tf.zeros([12]), tf.zeros([12])];
    const attrs = { epsilon: 1e-5, momentum: 0.1, relu: true };
    const counted = await countDispatches(() => tf.tidy(() => {
      const [y, stats, m, v] = tf.engine().runKernel(THFR_BATCH_NORM_TRAIN, { x, gamma, beta, runningMean: mean, runningVar: gamma }, attrs) as tf.Tensor[];
      const [dx] = tf.engine().runKernel(THFR_BATCH_NORM_TRAIN_GRAD, { dy: y, x, stats, gamma, y }, attrs) as tf.Tensor[];
      return tf.addN([tf.sum(dx), tf.sum(m), tf.sum(v)]);
    }));
    // Two kernels of the batch norm, three Sums and an AddN; the batch norm's kernels dispatch 2 shaders each.
    expect(counted.byKernel[THFR_BATCH_NORM_TRAIN]).toBe(1);
    expect(counted.shaders).toBe(counted.dispatches - 2 + 4);
    tf.dispose([x, gamma, beta, mean]);
  });

  it('a paper-configuration training step dispatches at most 1,000 shaders, the optimizer one THFR_ADAM_STEP per bucket', async () => {
    // WideResNet50-2's channels at 1/4 of the paper's spatial size: the count depends on the layers (and the full
    // network's optimizer buckets), not on the sizes.
    const levels = [{ name: 'layer1', size: 16, channels: 256 }, { name: 'layer2', size: 8, channels: 512 }, { name: 'layer3', size: 4, channels: 1024 }];
    const counted = await countTrainingStepDispatches(PAPER_CONFIG, levels);
    console.log(`paper step on webgpu: ${counted.dispatches} kernels, ${counted.shaders} shaders`);
    expect(counted.shaders).toBeLessThanOrEqual(1000);
    // One kernel per bucket of 2^24 values (none falls back to the element-wise ops), and no per-variable slices.
    expect(counted.optimizerBuckets).toBeGreaterThan(5);
    expect(counted.byKernel[THFR_ADAM_STEP]).toBe(counted.optimizerBuckets);
    expect(counted.byKernel.Slice ?? 0).toBe(0);
  }, 180_000);
});
