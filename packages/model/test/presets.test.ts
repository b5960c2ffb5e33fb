/** THFR's named presets: 'default' is the paper's 256 px sized for a CPU, 'fast' the same at 128 px, 'paper' the paper's. */
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { DEFAULT_CONFIG, FAST_CONFIG, PAPER_CONFIG, THFR_PRESETS, ThfrDetector } from '../src/index.js';
import { tinyBackbone } from '@thfr/backbone/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('THFR presets', () => {
  it("'default' trains at the paper's 256 px with the CPU-sized network; 'fast' differs only in size and batch", () => {
    expect(DEFAULT_CONFIG).toMatchObject({ imageSize: 256, batchSize: 4, codeWidthRatio: 0.25, decoderBlocks: [1, 1, 1], epochs: 20 });
    expect(FAST_CONFIG).toEqual({ ...DEFAULT_CONFIG, imageSize: 128, batchSize: 8 });
    expect(PAPER_CONFIG).toMatchObject({ imageSize: 256, batchSize: 16, codeWidthRatio: 1, decoderBlocks: [3, 4, 6], epochs: 200 });
    expect(Object.keys(THFR_PRESETS)).toEqual(['default', 'fast', 'paper']);
  });

  it('a detector built on a preset takes its sizes, overrides on top', () => {
    const backbone = tinyBackbone();
    const fast = new ThfrDetector(backbone, { baseConfig: THFR_PRESETS.fast, config: { epochs: 3 } });
    expect(fast.config).toMatchObject({ imageSize: 128, batchSize: 8, epochs: 3 });
    expect(new ThfrDetector(backbone).config.imageSize).toBe(256);
    fast.dispose();
    backbone.dispose();
  });
});
