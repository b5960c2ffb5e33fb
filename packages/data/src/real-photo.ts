// Real-photo categories: MVTec-AD-like texture categories and an MVTec-LOCO-like object category built
// deterministically from the photographs in assets/real-photos/ (scikit-image's sample images, exported by
// fixtures/make_real_photos.py). Browser-safe: the photos come in as RealPhotoSources; '@thfr/data/node'
// loads them from the package (loadRealPhotoSources) and writes categories to disk (writeRealPhotoCategory).
import type { GrayImage, RgbImage } from './image-types.js';
import { Random, mixSeed } from './prng.js';
import {
  REAL_LOCO_DEFECTS_CONFIG,
  REAL_LOCO_LOGICAL_DEFECTS,
  REAL_LOCO_STRUCTURAL_DEFECTS,
  renderLocoCoinsImage,
  type RealLocoDefect,
} from './real-photo-loco.js';
import { addSensorNoise } from './real-photo-raster.js';
import { REAL_TEXTURE_DEFECT_TYPES, renderTextureImage, type RealTextureDefect } from './real-photo-texture.js';
import type { RealPhotoCategorySpec, RealPhotoOptions, RealPhotoSources } from './real-photo-types.js';
import type { DefectConfig, RenderedImage, SyntheticCategory } from './synthetic-types.js';

const DONORS = ['gravel', 'brick', 'ihc', 'coffee', 'chelsea', 'hubble'] as const;
const donorsFor = (photo: string) => DONORS.filter((d) => d !== photo);

/** The real-photo categories by name. */
export const REAL_PHOTO_CATEGORIES: Readonly<Record<string, RealPhotoCategorySpec>> = {
  'real-texture-gravel': {
    kind: 'texture', photo: 'gravel', cropFraction: 0.5, maxAngle: Math.PI, flips: true, window: 1, donors: donorsFor('gravel'),
    about: 'gray gravel (CC0Textures Gravel04): crops at any rotation',
  },
  'real-texture-brick': {
    kind: 'texture', photo: 'brick', cropFraction: 0.45, maxAngle: 0.05, flips: true, window: 0.5, donors: donorsFor('brick'),
    about: 'a gray brick wall (CC0Textures Bricks25): crops within ±3° of upright, so the bond pattern is regular',
  },
  'real-texture-ihc': {
    kind: 'texture', photo: 'ihc', cropFraction: 0.5, maxAngle: Math.PI, flips: true, window: 1, donors: donorsFor('ihc'),
    about: 'colour tissue (immunohistochemistry, brown DAB and blue hematoxylin): crops at any rotation',
  },
  'real-loco-coins': {
    kind: 'loco', background: 'moon',
    about: 'six Pompeii coins (skimage coins) on a stone surface (skimage moon): three large on top, three small below',
  },
};

export const REAL_PHOTO_CATEGORY_NAMES: readonly string[] = Object.keys(REAL_PHOTO_CATEGORIES);

// Each image has its own random streams derived from (seed, category, split, index): the base stream draws
// the normal image, the defect stream the defect, so a test image minus its defect is a normal image.
const SPLIT_TRAIN = 1;
const SPLIT_VALIDATION = 2;
const SPLIT_TEST = 3;
const STREAM_DEFECT = 11;
const STREAM_NOISE = 12;

function categoryHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function checkCount(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`real-photo generator: ${what} must be a non-negative integer, got ${value}`);
  return value;
}

export type ResolvedRealPhotoOptions = Required<RealPhotoOptions> & { spec: RealPhotoCategorySpec };

/** Resolves the defaults of RealPhotoOptions and checks them. */
export function resolveRealPhotoOptions(opts: RealPhotoOptions): ResolvedRealPhotoOptions {
  const spec = Object.hasOwn(REAL_PHOTO_CATEGORIES, opts.category) ? REAL_PHOTO_CATEGORIES[opts.category] : undefined;
  if (!spec) {
    throw new Error(`real-photo generator: unknown category ${JSON.stringify(opts.category)} (choose from ${REAL_PHOTO_CATEGORY_NAMES.join(', ')})`);
  }
  if (spec.kind === 'texture' && opts.validationCount) {
    throw new Error(
      `real-photo generator: validationCount is only for LOCO categories (${opts.category} has the MVTec AD layout, ` +
        "which has no validation folder; use loadCategory's validationFraction)",
    );
  }
  const size = opts.size ?? 256;
  if (!Number.isInteger(size) || size < 32) throw new Error(`real-photo generator: size must be an integer >= 32, got ${size}`);
  return {
    category: opts.category,
    spec,
    seed: opts.seed ?? 0,
    trainCount: checkCount('trainCount', opts.trainCount ?? 100),
    testCount: checkCount('testCount', opts.testCount ?? 60),
    validationCount: checkCount('validationCount', opts.validationCount ?? (spec.kind === 'loco' ? 20 : 0)),
    size,
    name: opts.name ?? opts.category,
  };
}

/** The defect of test image `index`: every third image is normal, the others cycle through the defect types. */
export function realPhotoTestPlan(kind: 'texture' | 'loco', index: number): { defectType: string; defect?: RealTextureDefect | RealLocoDefect } {
  if (index % 3 === 0) return { defectType: 'good' };
  if (kind === 'texture') {
    const k = Math.floor(index / 3) * 2 + (index % 3) - 1;
    const t = REAL_TEXTURE_DEFECT_TYPES[k % REAL_TEXTURE_DEFECT_TYPES.length];
    return { defectType: t, defect: t };
  }
  const round = Math.floor(index / 3);
  if (index % 3 === 1) return { defectType: 'logical_anomalies', defect: REAL_LOCO_LOGICAL_DEFECTS[round % REAL_LOCO_LOGICAL_DEFECTS.length] };
  return { defectType: 'structural_anomalies', defect: REAL_LOCO_STRUCTURAL_DEFECTS[round % REAL_LOCO_STRUCTURAL_DEFECTS.length] };
}

/** The defects_config.json of a LOCO category (undefined for texture categories). */
export function realPhotoDefectsConfig(category: string): DefectConfig[] | undefined {
  const spec = Object.hasOwn(REAL_PHOTO_CATEGORIES, category) ? REAL_PHOTO_CATEGORIES[category] : undefined;
  return spec?.kind === 'loco' ? REAL_LOCO_DEFECTS_CONFIG.map((d) => ({ ...d })) : undefined;
}

/**
 * Renders one image of a category: split 'train' | 'validation' | 'test', its index, and optionally a defect.
 * Without a defect it is the normal image the defective one was painted on (the same base stream).
 */
export function renderRealPhotoImage(
  opts: RealPhotoOptions,
  sources: RealPhotoSources,
  split: 'train' | 'validation' | 'test',
  index: number,
  defect?: RealTextureDefect | RealLocoDefect,
): RenderedImage {
  const o = resolveRealPhotoOptions(opts);
  const splitId = split === 'train' ? SPLIT_TRAIN : split === 'validation' ? SPLIT_VALIDATION : SPLIT_TEST;
  const cat = categoryHash(o.category);
  const streams = {
    base: new Random(mixSeed(o.seed, cat, splitId, index)),
    defect: new Random(mixSeed(o.seed, cat, splitId, index, STREAM_DEFECT)),
  };
  const rendered =
    o.spec.kind === 'texture'
      ? renderTextureImage(o.spec, sources, o.size, streams, defect as RealTextureDefect | undefined)
      : renderLocoCoinsImage(o.spec, sources, o.size, streams, defect as RealLocoDefect | undefined);
  // Sensor noise last, from its own stream: identical in a defective image and its normal twin.
  const noise = new Random(mixSeed(o.seed, cat, splitId, index, STREAM_NOISE));
  addSensorNoise(rendered.image, noise.next, 4);
  return rendered;
}

export interface RealPhotoEntry {
  split: 'train' | 'validation' | 'test';
  index: number;
  /** 'good' for normal images, else the test folder name. */
  defectType: string;
  image: RgbImage;
  masks: GrayImage[];
  defectNames: string[];
}

/** Yields the images of a category one at a time (train, validation, test). */
export function* iterateRealPhotoCategory(opts: RealPhotoOptions, sources: RealPhotoSources): Generator<RealPhotoEntry> {
  const o = resolveRealPhotoOptions(opts);
  for (let i = 0; i < o.trainCount; i++) yield { split: 'train', index: i, defectType: 'good', ...renderRealPhotoImage(o, sources, 'train', i) };
  for (let i = 0; i < o.validationCount; i++) {
    yield { split: 'validation', index: i, defectType: 'good', ...renderRealPhotoImage(o, sources, 'validation', i) };
  }
  for (let i = 0; i < o.testCount; i++) {
    const plan = realPhotoTestPlan(o.spec.kind, i);
    yield { split: 'test', index: i, defectType: plan.defectType, ...renderRealPhotoImage(o, sources, 'test', i, plan.defect) };
  }
}

/**
 * Generates a whole real-photo category in memory (the SyntheticCategory shape; `kind` is 'ad' for texture
 * categories and 'loco' for object categories). Same options and sources give identical pixels.
 */
export function generateRealPhotoCategory(opts: RealPhotoOptions, sources: RealPhotoSources): SyntheticCategory {
  const o = resolveRealPhotoOptions(opts);
  const category: SyntheticCategory = { name: o.name, kind: o.spec.kind === 'loco' ? 'loco' : 'ad', train: [], validation: [], test: [] };
  for (const e of iterateRealPhotoCategory(o, sources)) {
    if (e.split === 'train') category.train.push(e.image);
    else if (e.split === 'validation') category.validation.push(e.image);
    else category.test.push({ image: e.image, defectType: e.defectType, masks: e.masks, defectNames: e.defectNames });
  }
  const config = realPhotoDefectsConfig(o.category);
  if (config) category.defectsConfig = config;
  return category;
}
