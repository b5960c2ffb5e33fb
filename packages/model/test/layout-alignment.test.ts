// The layout check of config.templateMinAlignment: measureLayoutAlignment's formula on hand-made features, and
// training that turns the template compensation off on a texture-like set exactly as `template: false` would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { FeatureCache } from '@thfr/restoration';
import type { FeatureExtractor } from '@thfr/backbone';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { ThfrDetector, measureLayoutAlignment, resolveConfig, trainThfr, type TemplateDecision, type ThfrConfig } from '../src/index.js';
import { disposeCheckpoint, loadCheckpoint, saveCheckpoint } from '../src/node.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const backbone = tinyBackbone();
const tiny: Partial<ThfrConfig> = { imageSize: 64, decoderBlocks: [1, 1, 1], epochs: 2, batchSize: 4, seed: 3, templateMinAlignment: 0.5 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => backbone.dispose());

/**
 * A cache over hand-made features: image i's features at level k are levels[k][i] ([h, w, c] row-major); one
 * array of images gives one level.
 */
async function cacheOf(...levels: number[][][][][]): Promise<FeatureCache> {
  const count = levels[0].length;
  const fake = {
    identity: { architecture: 'fake', weights: 'none' },
    levels: levels.map((rows, k) => ({ name: `l${k + 1}`, stride: 1, channels: rows[0][0][0].length })),
    extract: (images: tf.Tensor4D) => levels.map((rows) => tf.tidy(() => {
      const [h, w, c] = [rows[0].length, rows[0][0].length, rows[0][0][0].length];
      const which = tf.cast(tf.reshape(tf.slice(images, [0, 0, 0, 0], [-1, 1, 1, 1]), [-1]), 'int32');
      return tf.gather(tf.tensor4d(rows.flat(3), [count, h, w, c]), which) as tf.Tensor4D;
    })),
  } as unknown as FeatureExtractor;
  // Each "image" carries its own index in its first pixel, so the fake backbone returns that image's rows.
  return FeatureCache.build(fake, count, 2, (start, end) => tf.tensor4d(Array.from({ length: end - start }, (_, j) => start + j).flatMap((i) => [i, 0, 0]), [end - start, 1, 1, 3]));
}

describe('measureLayoutAlignment', () => {
  it('measures each level and averages them; the neighbour is chosen on the deepest level', async () => {
    // Level 1 holds the same content at the same positions in both images, level 2 the same two features swapped.
    const cache = await cacheOf([[[[1, 0], [0, 1]]], [[[1, 0], [0, 1]]]], [[[[1, 0, 0], [0, 1, 0]]], [[[0, 1, 0], [1, 0, 0]]]]);
    try {
      const a = await measureLayoutAlignment(cache);
      expect(a.perLevel.map((v) => Number(v.toFixed(6)))).toEqual([1, -1]);
      expect(a.alignment).toBeCloseTo(0, 6);
    } finally {
      cache.dispose();
    }
  });

  it('is 1 when the neighbour holds the same content at the same positions and -1 when two positions swap', async () => {
    // 1x2 positions, 2 channels: the unit features of either position are [1, 0] and [0, 1], so anywhere = 0.5.
    const same = await cacheOf([[[[1, 0], [0, 1]]], [[[2, 0], [0, 3]]]]);
    const swapped = await cacheOf([[[[1, 0], [0, 1]]], [[[0, 1], [1, 0]]]]);
    try {
      const a = await measureLayoutAlignment(same);
      expect(a.alignment).toBeCloseTo(1, 6);
      expect(a.images).toBe(2);
      // aligned 0, anywhere 0.5: (0 - 0.5) / (1 - 0.5).
      expect((await measureLayoutAlignment(swapped)).alignment).toBeCloseTo(-1, 6);
    } finally {
      same.dispose();
      swapped.dispose();
    }
  });

  it('pairs each image with its nearest other image, evenly spaced up to maxImages, and leaks nothing', async () => {
    // Images 0 and 1 match position by position; image 2 is far from both and its nearest (image 0) is swapped.
    // Pooled over images: (0.5 + 0.5 - 0.5) / (0.5 + 0.5 + 0.5).
    const cache = await cacheOf([[[[1, 0], [0, 1]]], [[[1, 0], [0, 1.1]]], [[[0, 1], [5, 0]]]]);
    try {
      const before = tf.memory().numTensors;
      const all = await measureLayoutAlignment(cache);
      expect(tf.memory().numTensors).toBe(before);
      expect(all.alignment).toBeCloseTo(1 / 3, 6);
      expect(all.images).toBe(3);
      // Two of the three images (0 and 1), each paired with its nearest among all three: the aligned pair.
      const sampled = await measureLayoutAlignment(cache, 2);
      expect(sampled).toMatchObject({ images: 2 });
      expect(sampled.alignment).toBeCloseTo(1, 6);
      await expect(measureLayoutAlignment(cache, 1)).rejects.toThrow(/maxImages must be an integer >= 2/);
    } finally {
      cache.dispose();
    }
  });
});

/** Independent noise per image: a "texture" whose nearest neighbour shares no position with it. */
function noiseImages(count: number, size: number, seed: number): Array<{ width: number; height: number; data: Uint8Array }> {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: count }, () => ({ width: size, height: size, data: Uint8Array.from({ length: size * size * 3 }, () => Math.floor(rand() * 256)) }));
}

describe('training with templateMinAlignment', () => {
  it('keeps the template (and the papers map) on aligned objects; on a texture turns it off and standardizes the map, training exactly as template: false', async () => {
    const decisions: TemplateDecision[] = [];
    const objects = await trainThfr(backbone, toyImages(6, 64, 5), { config: tiny, onTemplateDecision: (d) => decisions.push(d) });
    const texture = await trainThfr(backbone, noiseImages(6, 64, 9), { config: tiny, onTemplateDecision: (d) => decisions.push(d) });
    const plain = await trainThfr(backbone, noiseImages(6, 64, 9), { config: { ...tiny, template: false } });
    try {
      expect(decisions.map((d) => d.template)).toEqual([true, false]);
      expect(decisions[0].alignment).toBeGreaterThan(0.5);
      expect(decisions[1].alignment).toBeLessThan(0.5);
      expect(decisions[1].threshold).toBe(0.5);
      expect(objects.model.config.template).toBe(true);
      expect(objects.model.bank).toBeDefined();
      expect(objects.model.config.mapNormalization).toBe('none');
      expect(objects.model.mapStatistics).toBeUndefined();
      expect(texture.model.config.template).toBe(false);
      expect(texture.model.bank).toBeUndefined();
      // ... and sets the texture's map (textureMapNormalization), measured on the training maps.
      expect(texture.model.config.mapNormalization).toBe('texture');
      expect(texture.model.mapStatistics?.count).toBe(6);
      // Otherwise the decision only removes the compensation: same network, same seed, same losses as asking for no template.
      expect({ ...texture.model.config, mapNormalization: 'none' }).toEqual(plain.model.config);
      expect(texture.lossHistory).toEqual(plain.lossHistory);
    } finally {
      for (const r of [objects, texture, plain]) r.model.dispose();
    }
  });

  it('a detector takes the trained config after fit, and a refit on other data decides afresh', async () => {
    const detector = new ThfrDetector(backbone, { config: { ...tiny, epochs: 1 } });
    try {
      await detector.fit(noiseImages(6, 64, 9));
      expect(detector.config.template).toBe(false);
      expect((await detector.predict(noiseImages(1, 64, 4))).scores.length).toBe(1);
      await detector.fit(toyImages(6, 64, 5));
      expect(detector.config.template).toBe(true);
      expect(detector.model.bank).toBeDefined();
    } finally {
      detector.dispose();
    }
  });

  it('resumes a run whose layout check turned the template off, to the same losses as the run uninterrupted', async () => {
    const config = { ...tiny, epochs: 3 };
    const dir = await mkdtemp(join(tmpdir(), 'thfr-layout-'));
    const full = await trainThfr(backbone, noiseImages(6, 64, 9), { config, checkpointEvery: 1, onCheckpoint: async (c) => { if (c.epoch === 1) await saveCheckpoint(c, join(dir, 'ckpt')); } });
    const checkpoint = await loadCheckpoint(join(dir, 'ckpt'));
    expect(checkpoint.config.template).toBe(false);
    const resumed = await trainThfr(backbone, noiseImages(6, 64, 9), { config, resumeFrom: checkpoint });
    // A checkpoint saved before the per-position map (its config has neither field) resumes as it was trained:
    // the papers' map everywhere, and the same losses (the map does not change training).
    const { mapNormalization: _m, textureMapNormalization: _t, ...olderConfig } = checkpoint.config as typeof checkpoint.config & { textureMapNormalization?: string };
    const older = await trainThfr(backbone, noiseImages(6, 64, 9), { config, resumeFrom: { ...checkpoint, config: olderConfig as typeof checkpoint.config } });
    expect(older.model.config.mapNormalization).toBe('none');
    expect(older.model.mapStatistics).toBeUndefined();
    expect(older.lossHistory.map((l) => l.toFixed(4))).toEqual(full.lossHistory.map((l) => l.toFixed(4)));
    older.model.dispose();
    disposeCheckpoint(checkpoint);
    await rm(dir, { recursive: true, force: true });
    try {
      expect(resumed.model.config.template).toBe(false);
      expect(resumed.model.config.mapNormalization).toBe('texture'); // the checkpoint's decision, kept
      expect(resumed.lossHistory.map((l) => l.toFixed(4))).toEqual(full.lossHistory.map((l) => l.toFixed(4)));
    } finally {
      full.model.dispose();
      resumed.model.dispose();
    }
  });

  it('0 keeps the paper behaviour: no layout check, template on', async () => {
    const phases = new Set<string>();
    let decided = false;
    const { model } = await trainThfr(backbone, noiseImages(6, 64, 9), { config: { ...tiny, epochs: 1, templateMinAlignment: 0 }, onProgress: (p) => phases.add(p.phase), onTemplateDecision: () => { decided = true; } });
    try {
      expect(phases.has('layout')).toBe(false);
      expect(decided).toBe(false);
      expect(model.config.template).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('rejects a threshold outside [0, 1]', () => {
    expect(() => resolveConfig({ templateMinAlignment: 1.5 })).toThrow(/templateMinAlignment' must be in \[0, 1\], got 1.5/);
  });
});
