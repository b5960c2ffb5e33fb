// @thfr/data/node: file-system access (Node only). Everything of '@thfr/data' is re-exported for convenience.
import { decodeImage } from './decode-image.js';
import type { RgbImage } from './image-types.js';
import { readFileNamed } from './node-files.js';

export * from './index.js';
export { loadCategory, detectLayout } from './category-loader.js';
export type { CategoryData, CategoryLayout, ImageRecord, LoadCategoryOptions, TestRecord } from './category-loader.js';
export { writeSyntheticCategory } from './synthetic-writer.js';

/** Reads and decodes a PNG or JPEG file to RGB; every error names the file. */
export async function readImageFile(path: string): Promise<RgbImage> {
  return decodeImage(await readFileNamed(path, 'Image'), path);
}
