import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { defaultLossReadEvery, type TrainProgress } from '@thfr/restoration';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { trainThfr, type ThfrConfig } from '../src/index.js';

const backbone = tinyBackbone();
// 7 images in batches of 2: 4 steps per epoch (the last one of 1 merged), 3 epochs.
const tiny: Partial<ThfrConfig> = { imageSize: 64, decoderBlocks: [1, 1, 1], epochs: 3, batchSize: 2, seed: 5 };

describe('reading the loss back every k steps (lossReadEvery)', () => {
  it('trains the same model with the same losses and progress, whatever k', async () => {
    await tf.setBackend('cpu');
    const runs = [];
    for (const lossReadEvery of [1, 3, 100]) {
      const progress: TrainProgress[] = [];
      const before = tf.memory().numTensors;
      const result = await trainThfr(backbone, toyImages(7, 64, 2), { config: tiny, lossReadEvery, onProgress: (p) => { if (p.phase === 'train') progress.push(p); } });
      runs.push({ lossHistory: result.lossHistory, losses: progress.map((p) => p.loss), done: progress.map((p) => p.done), epochs: progress.map((p) => p.epoch) });
      result.model.dispose();
      expect(tf.memory().numTensors, `lossReadEvery ${lossReadEvery} leaves no tensor behind`).toBe(before);
    }
    expect(runs[0].done).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
  });

  it('still stops a diverging run, naming the step', async () => {
    // A learning rate that blows the weights up within a few steps.
    await expect(trainThfr(backbone, toyImages(7, 64, 2), { config: { ...tiny, learningRate: 1e30 }, lossReadEvery: 4 })).rejects.toThrow(/training diverged: loss is (NaN|-?Infinity) at epoch \d, step \d/);
  });

  it('defaults to one read per step on CPU backends and to 8 on GPU ones', async () => {
    expect(defaultLossReadEvery('cpu')).toBe(1);
    expect(defaultLossReadEvery('wasm')).toBe(1);
    expect(defaultLossReadEvery('webgpu')).toBe(8);
    expect(defaultLossReadEvery('webgl')).toBe(8);
    await expect(trainThfr(backbone, toyImages(7, 64, 2), { config: tiny, lossReadEvery: 0 })).rejects.toThrow(/lossReadEvery must be a positive integer/);
  });
});
