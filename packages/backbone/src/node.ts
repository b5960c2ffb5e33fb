/**
 * @thfr/backbone/node — Node-only loaders: weights from files, a resumable checksummed download cache, the
 * offline pretrained default (nsfwjs's MobileNetV2 / InceptionV3) and its export for browsers.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { tf } from '@thfr/tensor';
import { DEFAULT_BACKBONE_NAME, DEFAULT_BACKBONES, type DefaultBackboneName } from './default-backbones.js';
import { buildTappedLayersBackbone, type KerasArtifacts } from './keras-backbone.js';
import { base64ToBytes, extractUmdExport } from './js-literal.js';
import type { LayersBackbone } from './layers-adapter.js';
import { serializeLayersBackbone } from './layers-export.js';
import { loadResNetFromSafetensors, type SafetensorsLoadOptions } from './resnet-loaders.js';
import type { ResNetBackbone } from './resnet.js';
import type { ResNetArchitecture, ResNetSpec } from './resnet-spec.js';

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

/** The installed nsfwjs package folder (its `exports` map blocks deep imports, so walk up from its entry). */
export function nsfwjsPackageDir(): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve('nsfwjs'));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'nsfwjs') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('nsfwjs: package.json not found above its entry point');
    dir = parent;
  }
}

/** Reads nsfwjs's UMD model files (model.min.js + shards) by parsing their literals; nothing is evaluated. */
export async function readNsfwjsModel(name: DefaultBackboneName | 'mobilenet_v2_mid'): Promise<KerasArtifacts> {
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
  name?: DefaultBackboneName;
  /** Override the taps (layer names of the Keras model). */
  taps?: string[];
  /** Fixed input [height, width] (default: free). */
  inputSize?: [number | null, number | null];
  /** Resize taps to ceil(H/stride) x ceil(W/stride) (default: on for inception_v3, off for mobilenet_v2). */
  resizeToStride?: boolean;
}

/** The offline pretrained backbone (nsfwjs 4.4.0's ImageNet-initialised InceptionV3 by default, or MobileNetV2). */
export async function loadDefaultBackbone(options: DefaultBackboneOptions = {}): Promise<LayersBackbone> {
  const info = DEFAULT_BACKBONES[options.name ?? DEFAULT_BACKBONE_NAME];
  if (!info) throw new Error(`loadDefaultBackbone: unknown name '${options.name}' (expected ${Object.keys(DEFAULT_BACKBONES).join(' or ')})`);
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
  const source = owned ? await loadDefaultBackbone(backbone as DefaultBackboneOptions | undefined) : (backbone as LayersBackbone);
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
