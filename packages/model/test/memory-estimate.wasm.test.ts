/**
 * Training memory: the estimate follows the network and the run, and a configuration that cannot fit the wasm
 * heap fails before any feature is computed, with the estimate in the message (not a wasm crash).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initRuntime } from '@thfr/runtime-node';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { tf } from '@thfr/tensor';
import { DEFAULT_CONFIG, PAPER_CONFIG, TrainingMemoryError, WASM_HEAP_LIMIT_BYTES, assertTrainingFits, countNetworkParameters, estimateTrainingMemory, resolveConfig, trainThfr, type TrainProgress } from '../src/index.js';

const RESNET50_LEVELS = (size: number) => [
  { name: 'layer1', channels: 256, size: size / 4 },
  { name: 'layer2', channels: 512, size: size / 8 },
  { name: 'layer3', channels: 1024, size: size / 16 },
];

beforeAll(async () => {
  await initRuntime({ prefer: ['wasm'] });
});

describe('training memory estimate', () => {
  it('counts parameters, the feature cache and activations, and scales with batch and width', () => {
    const config = resolveConfig({});
    const levels = RESNET50_LEVELS(config.imageSize);
    const params = countNetworkParameters(levels, config);
    const e = estimateTrainingMemory(levels, config, 30, params);
    expect(e.parameterBytes).toBe(params * 16);
    expect(e.featureCacheBytes).toBe(30 * (64 * 64 * 256 + 32 * 32 * 512 + 16 * 16 * 1024) * 4); // 256 px
    expect(e.backendBytes).toBe(e.parameterBytes + e.activationBytes);
    expect(e.totalBytes).toBe(e.backendBytes + e.featureCacheBytes);
    const doubled = estimateTrainingMemory(levels, { ...config, batchSize: 2 * config.batchSize }, 30, params);
    expect(doubled.activationBytes).toBeCloseTo(2 * e.activationBytes, 0);
    const wider = resolveConfig({ codeWidthRatio: 0.5 });
    expect(countNetworkParameters(levels, wider)).toBeGreaterThan(params * 1.5);
  });

  it('the default config on ResNet-50 features fits the wasm heap; the paper config at 256 px does not', () => {
    const fits = estimateTrainingMemory(RESNET50_LEVELS(DEFAULT_CONFIG.imageSize), DEFAULT_CONFIG, 60, countNetworkParameters(RESNET50_LEVELS(DEFAULT_CONFIG.imageSize), DEFAULT_CONFIG));
    expect(fits.backendBytes).toBeLessThan(WASM_HEAP_LIMIT_BYTES * 0.75);
    expect(() => assertTrainingFits(fits, 'wasm')).not.toThrow();
    const paper = estimateTrainingMemory(RESNET50_LEVELS(256), PAPER_CONFIG, 60, countNetworkParameters(RESNET50_LEVELS(256), PAPER_CONFIG));
    expect(paper.backendBytes).toBeGreaterThan(WASM_HEAP_LIMIT_BYTES);
    expect(() => assertTrainingFits(paper, 'wasm')).toThrow(TrainingMemoryError);
  });

  it('the feature cache is host memory: a large training set at 256 px does not count against the wasm heap', () => {
    const levels = RESNET50_LEVELS(256);
    const config = resolveConfig({ imageSize: 256, batchSize: 4 });
    const few = estimateTrainingMemory(levels, config, 40, countNetworkParameters(levels, config));
    const many = estimateTrainingMemory(levels, config, 1000, countNetworkParameters(levels, config));
    expect(many.featureCacheBytes).toBeGreaterThan(WASM_HEAP_LIMIT_BYTES); // 7.3 MB per image
    expect(many.backendBytes).toBe(few.backendBytes);
    expect(() => assertTrainingFits(many, 'wasm')).not.toThrow();
  });

  it("counts THFR's template bank on the backend: the estimate equals the trained bank's bytes (none without template)", async () => {
    const backbone = tinyBackbone();
    const images = toyImages(5, 64, 2);
    const estimates: Array<{ perImageBackendBytes: number }> = [];
    const { model } = await trainThfr(backbone, images, { config: { imageSize: 64, epochs: 1, batchSize: 4 }, onMemoryEstimate: (e) => estimates.push(e) });
    expect(estimates[0].perImageBackendBytes).toBe(model.bank!.memoryBytes());
    model.dispose();
    const plain = await trainThfr(backbone, images, { config: { imageSize: 64, epochs: 1, batchSize: 4, template: false }, onMemoryEstimate: (e) => estimates.push(e) });
    expect(estimates[1].perImageBackendBytes).toBe(0);
    plain.model.dispose();
    backbone.dispose();
  });

  it('refuses a run that cannot fit before computing any feature, and leaks nothing', async () => {
    expect(tf.getBackend()).toBe('wasm');
    // 1024 channels at the deepest level and batch 64 at 256 px: far beyond 4 GiB.
    const backbone = tinyBackbone([256, 512, 1024]);
    const before = tf.memory().numTensors;
    const phases: TrainProgress['phase'][] = [];
    const run = trainThfr(backbone, toyImages(4, 256, 1), { config: { imageSize: 256, batchSize: 64, codeWidthRatio: 1 }, onProgress: (p) => phases.push(p.phase) });
    await expect(run).rejects.toThrow(TrainingMemoryError);
    await expect(run).rejects.toThrow(/needs about \d+\.\d\d GiB of wasm memory .* more than the 4\.00 GiB the wasm backend can address\. Lower batchSize/);
    expect(phases).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
    backbone.dispose();
  });
});
