/**
 * Where thfr's loops let kernels chosen by timing (@thfr/tensor's tunePendingKernels, a runtime's 'auto' kernels) time
 * the shapes they met: after each feature-cache batch, after the first training step of a run and at each epoch's
 * end, and after each prediction batch. A registered stand-in tuner logs when it is called, next to the progress.
 */
import { afterEach, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf, registerKernelTuner } from '@thfr/tensor';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { trainThfr, type ThfrConfig } from '../src/index.js';

const backbone = tinyBackbone();
// 7 images in batches of 2: 3 steps per epoch (the last batch of 1 merged), 2 epochs.
const tiny: Partial<ThfrConfig> = { imageSize: 64, decoderBlocks: [1, 1, 1], epochs: 2, batchSize: 2, seed: 5 };

let unregister: (() => void) | undefined;
afterEach(() => unregister?.());

describe('the loops call tunePendingKernels between steps', () => {
  it('after each feature batch, after the first training step and at each epoch end, after each prediction batch', async () => {
    await tf.setBackend('cpu');
    const log: string[] = [];
    let where = 'start';
    unregister = registerKernelTuner({ pendingCount: 1, tune: async () => { log.push(`tune after ${where}`); } });
    const result = await trainThfr(backbone, toyImages(7, 64, 2), {
      config: tiny,
      // Read the loss only at epoch ends: the first step's tuning must not wait for it.
      lossReadEvery: 100,
      onProgress: (p) => {
        where = `${p.phase} ${p.done}`;
        if (p.phase === 'features' || p.phase === 'train') log.push(where);
      },
    });
    const train = log.filter((entry) => entry.includes('train'));
    expect(train).toEqual([
      'train 1', 'tune after train 1', 'train 2', 'train 3', 'tune after train 3',
      'train 4', 'train 5', 'train 6', 'tune after train 6',
    ]);
    // Feature batches of 2 over 7 images: 4 batches, each followed by a tuning call (before its progress report).
    expect(log.slice(0, 8)).toEqual([
      'tune after start', 'features 2', 'tune after features 2', 'features 4',
      'tune after features 4', 'features 6', 'tune after features 6', 'features 7',
    ]);
    const calls = log.length;
    where = 'predict';
    await result.model.predict(toyImages(3, 64, 9), { batchSize: 2 });
    expect(log.slice(calls)).toEqual(['tune after predict', 'tune after predict']);
    result.model.dispose();
  });

  it('costs nothing and changes nothing when no tuner is registered', async () => {
    await tf.setBackend('cpu');
    const withTuner = registerKernelTuner({ pendingCount: 1, tune: async () => undefined });
    const tuned = await trainThfr(backbone, toyImages(7, 64, 2), { config: tiny });
    withTuner();
    const plain = await trainThfr(backbone, toyImages(7, 64, 2), { config: tiny });
    expect(tuned.lossHistory).toEqual(plain.lossHistory);
    tuned.model.dispose();
    plain.model.dispose();
  });
});
