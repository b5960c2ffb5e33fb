// Writes one real-photo category as `thfr compare` generates it (32 train / 40 test images, 256 px; LOCO-style ones
// with 10 validation images), with another data seed: held-out data for choosing a method's settings away from the
// benchmark's own images (compare uses seed 7; docs/benchmark.md, ninth session, used 11).
//   node packages/cli/scripts/write-real-photo-category.mjs OUT_DIR CATEGORY SEED      (after `pnpm build`)
import { REAL_PHOTO_CATEGORY_NAMES, writeRealPhotoCategory } from '@thfr/data/node';
const [outDir, category, seedText] = process.argv.slice(2);
const seed = Number(seedText);
if (!outDir || !REAL_PHOTO_CATEGORY_NAMES.includes(category) || !Number.isInteger(seed)) {
  throw new Error(`usage: node packages/cli/scripts/write-real-photo-category.mjs OUT_DIR CATEGORY SEED (CATEGORY: ${REAL_PHOTO_CATEGORY_NAMES.join(', ')})`);
}
const root = await writeRealPhotoCategory(outDir, { category, seed, trainCount: 32, testCount: 40, validationCount: category.includes('loco') ? 10 : 0, size: 256 });
console.log(root);
