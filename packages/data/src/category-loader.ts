// loadCategory: reads an MVTec AD or MVTec LOCO AD category folder into memory (Node only).
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { decodeImage, decodeMask } from './decode-image.js';
import type { GrayImage, RgbImage } from './image-types.js';
import { Random } from './prng.js';
import { resizeMask, resizeRgb } from './resize.js';
import type { DefectConfig } from './synthetic-types.js';
import { brokenLink, isDirectory, isFile, listImages, listSubdirectories, mapLimited, maxImagePixelsFromEnv, readFileNamed } from './node-files.js';

export interface ImageRecord {
  path: string;
  /** Path relative to the category root, with '/' separators. */
  relativePath: string;
  /** The image, resized (bilinear) to imageSize x imageSize when imageSize is given. */
  image: RgbImage;
  originalWidth: number;
  originalHeight: number;
}

export interface TestRecord extends ImageRecord {
  /** The test folder: 'good' for normal images. */
  defectType: string;
  label: 0 | 1;
  /** Masks resized (nearest) like the image; [] for good images. */
  masks: GrayImage[];
  maskPaths: string[];
  anomalyKind?: 'logical' | 'structural';
}

export type CategoryLayout = 'mvtec-ad' | 'mvtec-loco';

export interface CategoryData {
  name: string;
  root: string;
  layout: CategoryLayout;
  train: ImageRecord[];
  validation: ImageRecord[];
  test: TestRecord[];
  defectsConfig?: DefectConfig[];
}

export interface LoadCategoryOptions {
  /** Resize every image (bilinear) and mask (nearest) to imageSize x imageSize. */
  imageSize?: number;
  /** 'auto' (default) detects LOCO by its validation folder, defects_config.json or anomaly folders. */
  layout?: 'auto' | CategoryLayout;
  /** MVTec AD only: the fraction of train/good moved to validation (default 0). LOCO uses its validation folder. */
  validationFraction?: number;
  /** Seed of the validation split (default 0). */
  seed?: number;
  onProgress?: (done: number, total: number) => void;
  /** Files decoded concurrently (default 8). */
  concurrency?: number;
  /** Refuse images (and masks) with more pixels, from their header (default: THFR_MAX_IMAGE_PIXELS or DEFAULT_MAX_IMAGE_PIXELS). */
  maxImagePixels?: number;
}

const LOCO_KINDS: Record<string, 'logical' | 'structural'> = {
  logical_anomalies: 'logical',
  structural_anomalies: 'structural',
};

export async function detectLayout(root: string): Promise<CategoryLayout> {
  if (
    (await isDirectory(join(root, 'validation'))) ||
    (await isFile(join(root, 'defects_config.json'))) ||
    (await isDirectory(join(root, 'test', 'logical_anomalies'))) ||
    (await isDirectory(join(root, 'test', 'structural_anomalies')))
  ) {
    return 'mvtec-loco';
  }
  return 'mvtec-ad';
}

interface PendingTest {
  path: string;
  defectType: string;
  maskPaths: string[];
  anomalyKind?: 'logical' | 'structural';
}

function toPosix(p: string): string {
  return p.split(sep).join('/');
}

async function listRequiredImages(dir: string, root: string): Promise<string[]> {
  const broken = await brokenLink(dir);
  if (broken) throw broken;
  if (!(await isDirectory(dir))) {
    throw new Error(`${root}: not an MVTec category (missing folder ${toPosix(relative(root, dir))})`);
  }
  const names = await listImages(dir);
  if (names.length === 0) throw new Error(`Empty folder: no images (*.png, *.jpg) in ${dir}`);
  return names.map((n) => join(dir, n));
}

async function findAdMasks(root: string, defect: string, imagePath: string): Promise<string[]> {
  const stem = basename(imagePath, extname(imagePath));
  const candidates = ['.png', '.jpg'].map((ext) => join(root, 'ground_truth', defect, `${stem}_mask${ext}`));
  for (const c of candidates) {
    const broken = await brokenLink(c);
    if (broken) throw broken;
    if (await isFile(c)) return [c];
  }
  throw new Error(
    `Missing mask for anomalous test image ${imagePath}: expected ${candidates[0]}`,
  );
}

async function findLocoMasks(root: string, defect: string, imagePath: string): Promise<string[]> {
  const stem = basename(imagePath, extname(imagePath));
  const dir = join(root, 'ground_truth', defect, stem);
  const broken = await brokenLink(dir);
  if (broken) throw broken;
  if (!(await isDirectory(dir))) {
    throw new Error(`Missing mask for anomalous test image ${imagePath}: expected a folder of masks ${dir}`);
  }
  const masks = await listImages(dir);
  if (masks.length === 0) throw new Error(`Missing mask for anomalous test image ${imagePath}: no mask images in ${dir}`);
  return masks.map((m) => join(dir, m));
}

async function readDefectsConfig(root: string): Promise<DefectConfig[] | undefined> {
  const path = join(root, 'defects_config.json');
  if (!(await isFile(path))) return undefined;
  const text = new TextDecoder().decode(await readFileNamed(path, 'Defects config'));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${path}: expected an array of defect entries`);
  return parsed.map((d, i) => {
    const e = d as Partial<DefectConfig>;
    if (
      typeof e?.defect_name !== 'string' ||
      typeof e.pixel_value !== 'number' ||
      typeof e.saturation_threshold !== 'number' ||
      typeof e.relative_saturation !== 'boolean'
    ) {
      throw new Error(
        `${path}: entry ${i} must have defect_name (string), pixel_value (number), saturation_threshold (number), relative_saturation (boolean)`,
      );
    }
    return {
      defect_name: e.defect_name,
      pixel_value: e.pixel_value,
      saturation_threshold: e.saturation_threshold,
      relative_saturation: e.relative_saturation,
    };
  });
}

/**
 * Checks a LOCO mask against defects_config.json before any metric sees it, so that a bad mask is named by
 * its path (sPRO only knows test images and masks by their index): every non-zero pixel must carry one
 * and the same value, and that value must be a defect's pixel_value. Empty masks pass (sPRO decides).
 */
function checkLocoMask(mask: GrayImage, maskPath: string, imagePath: string, config: readonly DefectConfig[], configPath: string): void {
  let value = 0;
  for (let i = 0; i < mask.data.length; i++) {
    const v = mask.data[i];
    if (v === 0 || v === value) continue;
    const at = `${i % mask.width},${Math.floor(i / mask.width)}`;
    if (value !== 0) {
      throw new Error(`Mask ${maskPath} (of ${imagePath}) holds two defect values, ${value} and ${v} (at pixel ${at}): a LOCO mask marks one defect, with one pixel value from ${configPath}`);
    }
    if (!config.some((d) => d.pixel_value === v)) {
      throw new Error(`Mask ${maskPath} (of ${imagePath}) has pixel value ${v} at ${at}, which matches no defect in ${configPath} (pixel values: ${config.map((d) => `${d.pixel_value} ${d.defect_name}`).join(', ')})`);
    }
    value = v;
  }
}

/** A deterministic permutation of 0..n-1 (Fisher-Yates with the package PRNG). */
function seededPermutation(n: number, seed: number): number[] {
  const rng = new Random(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Loads a category folder. Errors name the offending file: missing/empty folders, missing masks of
 * anomalous images, corrupt or truncated images, masks whose size differs from their image.
 */
export async function loadCategory(dir: string, opts: LoadCategoryOptions = {}): Promise<CategoryData> {
  const root = resolve(dir);
  const broken = await brokenLink(root);
  if (broken) throw broken;
  if (!(await isDirectory(root))) throw new Error(`Category folder not found: ${root}`);
  const { imageSize, validationFraction = 0, seed = 0, onProgress, concurrency = 8 } = opts;
  const maxPixels = opts.maxImagePixels ?? maxImagePixelsFromEnv();
  if (imageSize !== undefined && (!Number.isInteger(imageSize) || imageSize <= 0)) {
    throw new Error(`loadCategory: imageSize must be a positive integer, got ${imageSize}`);
  }
  if (imageSize !== undefined && imageSize * imageSize > maxPixels) {
    throw new RangeError(`loadCategory: imageSize ${imageSize} gives ${imageSize * imageSize} pixels per image, more than the limit of ${maxPixels} (maxImagePixels / THFR_MAX_IMAGE_PIXELS)`);
  }
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new Error(`loadCategory: validationFraction must be in [0, 1), got ${validationFraction}`);
  }
  const layout = !opts.layout || opts.layout === 'auto' ? await detectLayout(root) : opts.layout;

  const trainPaths = await listRequiredImages(join(root, 'train', 'good'), root);
  let validationPaths: string[] = [];
  if (layout === 'mvtec-loco' && (await isDirectory(join(root, 'validation', 'good')))) {
    validationPaths = await listRequiredImages(join(root, 'validation', 'good'), root);
  }

  const pendingTests: PendingTest[] = [];
  const testRoot = join(root, 'test');
  if (await isDirectory(testRoot)) {
    for (const defect of await listSubdirectories(testRoot)) {
      const isGood = defect === 'good';
      const anomalyKind = layout === 'mvtec-loco' ? LOCO_KINDS[defect] : undefined;
      for (const path of (await listImages(join(testRoot, defect))).map((n) => join(testRoot, defect, n))) {
        const maskPaths = isGood
          ? []
          : layout === 'mvtec-loco'
            ? await findLocoMasks(root, defect, path)
            : await findAdMasks(root, defect, path);
        pendingTests.push({ path, defectType: defect, maskPaths, ...(anomalyKind ? { anomalyKind } : {}) });
      }
    }
  }
  const defectsConfig = layout === 'mvtec-loco' ? await readDefectsConfig(root) : undefined;

  const total = trainPaths.length + validationPaths.length + pendingTests.length;
  let done = 0;
  const tick = () => onProgress?.(++done, total);

  const loadImage = async (path: string): Promise<ImageRecord> => {
    const decoded = decodeImage(await readFileNamed(path, 'Image'), path, { maxPixels });
    const image = imageSize ? resizeRgb(decoded, imageSize, imageSize) : decoded;
    tick();
    return {
      path,
      relativePath: toPosix(relative(root, path)),
      image,
      originalWidth: decoded.width,
      originalHeight: decoded.height,
    };
  };
  const loadTest = async (t: PendingTest): Promise<TestRecord> => {
    const decoded = decodeImage(await readFileNamed(t.path, 'Image'), t.path, { maxPixels });
    const masks: GrayImage[] = [];
    for (const maskPath of t.maskPaths) {
      const mask = decodeMask(await readFileNamed(maskPath, 'Mask'), maskPath, { maxPixels });
      if (mask.width !== decoded.width || mask.height !== decoded.height) {
        throw new Error(
          `Mask ${maskPath} is ${mask.width}x${mask.height} but its image ${t.path} is ${decoded.width}x${decoded.height}`,
        );
      }
      if (defectsConfig) checkLocoMask(mask, maskPath, t.path, defectsConfig, join(root, 'defects_config.json'));
      masks.push(imageSize ? resizeMask(mask, imageSize, imageSize) : mask);
    }
    tick();
    return {
      path: t.path,
      relativePath: toPosix(relative(root, t.path)),
      image: imageSize ? resizeRgb(decoded, imageSize, imageSize) : decoded,
      originalWidth: decoded.width,
      originalHeight: decoded.height,
      defectType: t.defectType,
      label: t.defectType === 'good' ? 0 : 1,
      masks,
      maskPaths: t.maskPaths,
      ...(t.anomalyKind ? { anomalyKind: t.anomalyKind } : {}),
    };
  };

  let train = await mapLimited(trainPaths, concurrency, loadImage);
  let validation = await mapLimited(validationPaths, concurrency, loadImage);
  const test = await mapLimited(pendingTests, concurrency, loadTest);

  if (layout === 'mvtec-ad' && validationFraction > 0) {
    const count = Math.round(train.length * validationFraction);
    if (count >= train.length) throw new Error(`loadCategory: validationFraction ${validationFraction} leaves no training image in ${root}`);
    const chosen = new Set(seededPermutation(train.length, seed).slice(0, count));
    validation = train.filter((_, i) => chosen.has(i));
    train = train.filter((_, i) => !chosen.has(i));
  }

  return {
    name: basename(root),
    root,
    layout,
    train,
    validation,
    test,
    ...(defectsConfig ? { defectsConfig } : {}),
  };
}
