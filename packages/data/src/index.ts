// @thfr/data: browser-safe image decoding/encoding, resizing and the synthetic dataset generator.
// Node-only file access (loadCategory, readImageFile, writeSyntheticCategory) lives in '@thfr/data/node'.
export type { RgbImage, GrayImage, ChannelImage } from './image-types.js';
export { decodeImage, decodeMask } from './decode-image.js';
export { decodePng, type DecodedPng, type PngColorType } from './png-decode.js';
export { encodePng, type EncodePngOptions } from './png-encode.js';
export { resizeRgb, resizeGray, resizeMask } from './resize.js';
export { generateSyntheticCategory } from './synthetic.js';
export type { DefectConfig, SyntheticOptions, SyntheticCategory, SyntheticTestImage } from './synthetic-types.js';
export { AD_DEFECT_TYPES } from './synthetic-ad.js';
export { LOCO_DEFECTS_CONFIG, LOCO_LOGICAL_DEFECTS, LOCO_STRUCTURAL_DEFECTS } from './synthetic-loco.js';
export { decodeImageInBrowser } from './browser-decode.js';
