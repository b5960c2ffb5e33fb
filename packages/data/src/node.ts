// @thfr/data/node: file-system access (Node only). Everything of '@thfr/data' is re-exported for convenience.
import { decodeImage } from './decode-image.js';
import type { RgbImage } from './image-types.js';
import { maxImagePixelsFromEnv, readFileNamed } from './node-files.js';

export * from './index.js';
export { loadCategory, detectLayout } from './category-loader.js';
export type { CategoryData, CategoryLayout, ImageRecord, LoadCategoryOptions, TestRecord } from './category-loader.js';
export { writeSyntheticCategory } from './synthetic-writer.js';

/**
 * Reads and decodes a PNG or JPEG file to RGB; every error names the file. Images over `maxPixels`
 * (default THFR_MAX_IMAGE_PIXELS or DEFAULT_MAX_IMAGE_PIXELS) are refused from their header.
 */
export async function readImageFile(path: string, options: { maxPixels?: number } = {}): Promise<RgbImage> {
  return decodeImage(await readFileNamed(path, 'Image'), path, { maxPixels: options.maxPixels ?? maxImagePixelsFromEnv() });
}
export { maxImagePixelsFromEnv } from './node-files.js';
export { REAL_PHOTO_ASSETS_DIR, loadRealPhotoSources, writeRealPhotoCategory } from './real-photo-node.js';
