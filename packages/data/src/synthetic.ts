// generateSyntheticCategory: deterministic MVTec-AD-like and MVTec-LOCO-like categories for tests, demos and benches.
import { Random, mixSeed } from './prng.js';
import { AD_DEFECT_TYPES, makeAdMaterial, renderAdImage } from './synthetic-ad.js';
import { LOCO_DEFECTS_CONFIG, LOCO_LOGICAL_DEFECTS, LOCO_STRUCTURAL_DEFECTS, renderLocoImage } from './synthetic-loco.js';
import type { SyntheticCategory, SyntheticOptions } from './synthetic-types.js';
import type { GrayImage, RgbImage } from './image-types.js';

// Each image has its own random stream derived from (seed, split, index), so changing one count never
// changes the images of another split.
const SPLIT_TRAIN = 1;
const SPLIT_VALIDATION = 2;
const SPLIT_TEST = 3;
const MATERIAL = 4;

function checkCount(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`generateSyntheticCategory: ${what} must be a non-negative integer, got ${value}`);
  return value;
}

/** Resolves the defaults of SyntheticOptions (shared with writeSyntheticCategory). */
export function resolveSyntheticOptions(opts: SyntheticOptions): Required<SyntheticOptions> {
  if (opts.kind !== 'ad' && opts.kind !== 'loco') {
    throw new Error(`generateSyntheticCategory: kind must be 'ad' or 'loco', got ${JSON.stringify(opts.kind)}`);
  }
  if (opts.kind === 'ad' && opts.validationCount) {
    throw new Error(
      "generateSyntheticCategory: validationCount is only for kind 'loco' (MVTec AD has no validation folder; " +
        "use loadCategory's validationFraction to carve one from train)",
    );
  }
  const size = opts.size ?? 256;
  if (!Number.isInteger(size) || size < 32) throw new Error(`generateSyntheticCategory: size must be an integer >= 32, got ${size}`);
  return {
    kind: opts.kind,
    seed: opts.seed ?? 0,
    trainCount: checkCount('trainCount', opts.trainCount ?? 100),
    testCount: checkCount('testCount', opts.testCount ?? 60),
    validationCount: checkCount('validationCount', opts.validationCount ?? (opts.kind === 'loco' ? 20 : 0)),
    size,
    name: opts.name ?? `synthetic-${opts.kind}`,
  };
}

/**
 * The defect of test image `index`: every third image is normal, the others cycle through the defect
 * types so that each type appears as soon as the test set has a few images.
 */
export function syntheticTestPlan(kind: 'ad' | 'loco', index: number): { defectType: string; defect?: string } {
  if (index % 3 === 0) return { defectType: 'good' };
  const k = Math.floor(index / 3) * 2 + (index % 3) - 1;
  if (kind === 'ad') {
    const t = AD_DEFECT_TYPES[k % AD_DEFECT_TYPES.length];
    return { defectType: t, defect: t };
  }
  if (index % 3 === 1) {
    return { defectType: 'logical_anomalies', defect: LOCO_LOGICAL_DEFECTS[Math.floor(index / 3) % LOCO_LOGICAL_DEFECTS.length] };
  }
  return { defectType: 'structural_anomalies', defect: LOCO_STRUCTURAL_DEFECTS[Math.floor(index / 3) % LOCO_STRUCTURAL_DEFECTS.length] };
}

export interface SyntheticEntry {
  split: 'train' | 'validation' | 'test';
  /** Index within the split. */
  index: number;
  /** 'good' for normal images, else the test folder name. */
  defectType: string;
  image: RgbImage;
  masks: GrayImage[];
  defectNames: string[];
}

/** Yields the images of a category one at a time (train, validation, test), so writers need not hold them all. */
export function* iterateSyntheticCategory(opts: SyntheticOptions): Generator<SyntheticEntry> {
  const o = resolveSyntheticOptions(opts);
  const material = o.kind === 'ad' ? makeAdMaterial(new Random(mixSeed(o.seed, MATERIAL))) : undefined;
  const render = (split: number, index: number, defect?: string) => {
    const rng = new Random(mixSeed(o.seed, split, index));
    return o.kind === 'ad'
      ? renderAdImage(o.size, material!, rng, defect as (typeof AD_DEFECT_TYPES)[number] | undefined)
      : renderLocoImage(o.size, rng, defect as Parameters<typeof renderLocoImage>[2]);
  };
  for (let i = 0; i < o.trainCount; i++) yield { split: 'train', index: i, defectType: 'good', ...render(SPLIT_TRAIN, i) };
  for (let i = 0; i < o.validationCount; i++) {
    yield { split: 'validation', index: i, defectType: 'good', ...render(SPLIT_VALIDATION, i) };
  }
  for (let i = 0; i < o.testCount; i++) {
    const plan = syntheticTestPlan(o.kind, i);
    yield { split: 'test', index: i, defectType: plan.defectType, ...render(SPLIT_TEST, i, plan.defect) };
  }
}

/** Generates a whole category in memory. Same options (and seed) give identical pixels. */
export function generateSyntheticCategory(opts: SyntheticOptions): SyntheticCategory {
  const o = resolveSyntheticOptions(opts);
  const category: SyntheticCategory = { name: o.name, kind: o.kind, train: [], validation: [], test: [] };
  for (const e of iterateSyntheticCategory(o)) {
    if (e.split === 'train') category.train.push(e.image);
    else if (e.split === 'validation') category.validation.push(e.image);
    else category.test.push({ image: e.image, defectType: e.defectType, masks: e.masks, defectNames: e.defectNames });
  }
  if (o.kind === 'loco') category.defectsConfig = LOCO_DEFECTS_CONFIG.map((d) => ({ ...d }));
  return category;
}
