// Types of the real-photo generator: categories built from the photographs in assets/real-photos/.
import type { GrayImage, RgbImage } from './image-types.js';

/** One coin of coins.png (assets/real-photos/coins.json, written by fixtures/make_real_photos.py). */
export interface CoinCutout {
  id: number;
  /** Bounding box in photo pixels (x1, y1 exclusive). */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Centroid and equivalent radius in photo pixels. */
  cx: number;
  cy: number;
  radius: number;
}

/** The decoded photos every real-photo category draws from (loadRealPhotoSources in '@thfr/data/node'). */
export interface RealPhotoSources {
  /** RGB photos by name: gravel, brick, ihc, moon, coffee, chelsea, hubble. */
  photos: Record<string, RgbImage>;
  /** skimage's coins photo: gray levels and an alpha channel that is opaque on the coins. */
  coins: { gray: GrayImage; alpha: GrayImage; cutouts: CoinCutout[] };
}

export interface RealPhotoOptions {
  /** Category name, one of REAL_PHOTO_CATEGORY_NAMES (e.g. 'real-texture-gravel', 'real-loco-coins'). */
  category: string;
  /** Seed of the whole category (default 0). */
  seed?: number;
  /** Normal training images (default 100). */
  trainCount?: number;
  /** Test images, a third of them normal (default 60). */
  testCount?: number;
  /** Normal validation images; LOCO categories only (default 20). */
  validationCount?: number;
  /** Square image side in pixels (default 256). */
  size?: number;
  /** Folder name written by writeRealPhotoCategory (default: the category name). */
  name?: string;
}

/** A texture category: rotated, jittered crops of one photo; structural defects painted on them. */
export interface TextureCategorySpec {
  kind: 'texture';
  /** The texture photo. */
  photo: string;
  /** Crop side as a fraction of the photo's shorter side (before the ±4 % scale jitter). */
  cropFraction: number;
  /** Rotations are uniform in [-maxAngle, maxAngle] radians. */
  maxAngle: number;
  /** Mirror half of the crops. */
  flips: boolean;
  /** Crop centres lie within this fraction of the range that keeps the crop inside the photo (0-1). */
  window: number;
  /** Photos a pasted patch comes from. */
  donors: readonly string[];
  about: string;
}

/** A LOCO-style object category: cut-outs of real objects at fixed slots on a real background. */
export interface LocoCategorySpec {
  kind: 'loco';
  background: string;
  about: string;
}

export type RealPhotoCategorySpec = TextureCategorySpec | LocoCategorySpec;
