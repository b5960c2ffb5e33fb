import type { GrayImage, RgbImage } from './image-types.js';

/** One entry of MVTec LOCO's defects_config.json. */
export interface DefectConfig {
  defect_name: string;
  pixel_value: number;
  saturation_threshold: number;
  relative_saturation: boolean;
}

export interface SyntheticOptions {
  kind: 'ad' | 'loco';
  /** Seed of the whole category (default 0). */
  seed?: number;
  /** Normal training images (default 100). */
  trainCount?: number;
  /** Test images, about a third of them normal (default 60). */
  testCount?: number;
  /** Normal validation images; 'loco' only (default 20), MVTec AD has no validation folder. */
  validationCount?: number;
  /** Square image side in pixels (default 256). */
  size?: number;
  /** Category name (default 'synthetic-ad' / 'synthetic-loco'). */
  name?: string;
}

export interface SyntheticTestImage {
  image: RgbImage;
  /** 'good', an AD defect folder ('scratch', 'hole', ...) or a LOCO folder ('logical_anomalies', 'structural_anomalies'). */
  defectType: string;
  /** One mask per defect (AD: a single 0/255 mask; LOCO: pixel values from defectsConfig); [] for good. */
  masks: GrayImage[];
  /** The specific defect of each mask (e.g. 'missing_component'), same order as `masks`. */
  defectNames: string[];
}

export interface SyntheticCategory {
  name: string;
  kind: 'ad' | 'loco';
  train: RgbImage[];
  validation: RgbImage[];
  test: SyntheticTestImage[];
  defectsConfig?: DefectConfig[];
}

/** What a per-kind renderer returns for one image. */
export interface RenderedImage {
  image: RgbImage;
  masks: GrayImage[];
  defectNames: string[];
}
