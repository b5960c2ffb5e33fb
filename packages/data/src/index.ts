// @thfr/data: browser-safe image decoding/encoding, resizing and the synthetic dataset generator.
// Node-only file access (loadCategory, readImageFile, writeSyntheticCategory) lives in '@thfr/data/node'.
export type { RgbImage, GrayImage, ChannelImage } from './image-types.js';
export { decodeImage, decodeMask, type DecodeOptions } from './decode-image.js';
export { DEFAULT_MAX_IMAGE_PIXELS, checkImagePixels, readImageDimensions, type ImageDimensions } from './image-limits.js';
export { decodePng, type DecodedPng, type PngColorType } from './png-decode.js';
export { encodePng, type EncodePngOptions } from './png-encode.js';
export { resizeRgb, resizeGray, resizeMask } from './resize.js';
export { generateSyntheticCategory } from './synthetic.js';
export type { DefectConfig, SyntheticOptions, SyntheticCategory, SyntheticTestImage } from './synthetic-types.js';
export { AD_DEFECT_TYPES } from './synthetic-ad.js';
export { LOCO_DEFECTS_CONFIG, LOCO_LOGICAL_DEFECTS, LOCO_STRUCTURAL_DEFECTS } from './synthetic-loco.js';
export { decodeImageInBrowser } from './browser-decode.js';
export {
  REAL_PHOTO_CATEGORIES,
  REAL_PHOTO_CATEGORY_NAMES,
  generateRealPhotoCategory,
  iterateRealPhotoCategory,
  realPhotoDefectsConfig,
  realPhotoTestPlan,
  renderRealPhotoImage,
  type RealPhotoEntry,
} from './real-photo.js';
export type { CoinCutout, RealPhotoCategorySpec, RealPhotoOptions, RealPhotoSources, TextureCategorySpec, LocoCategorySpec } from './real-photo-types.js';
export { REAL_TEXTURE_DEFECT_TYPES } from './real-photo-texture.js';
export { REAL_LOCO_DEFECTS_CONFIG, REAL_LOCO_LOGICAL_DEFECTS, REAL_LOCO_STRUCTURAL_DEFECTS } from './real-photo-loco.js';
