import type { BackboneIdentity, FeatureExtractor } from '@thfr/backbone';
import { TemplateBank } from '@thfr/template-bank';
import type { TemplateBankManifest } from '@thfr/template-bank';
import { resolveConfig, PAPER_CONFIG, type ThfrConfig } from './config.js';
import type { NormalStatistics } from './calibration.js';
import { measureLevels } from './geometry.js';
import { ThfrNetwork, type LevelGeometry } from './network.js';
import { packTensors, sha256Hex, unpackTensors, type PackedTensorEntry } from './tensor-pack.js';
import { FILE_REF_SPEC, TENSOR_ENTRY_SPEC, validateEach, validateFields, type ObjectSpec } from './manifest-schema.js';
import { ThfrModel, type TrainingSummary } from './thfr-model.js';

export const MODEL_FORMAT = 'thfr-model';
/** Bumped on any incompatible change of the folder layout or the network's parameter names. */
export const MODEL_FORMAT_VERSION = 1;

export interface ModelFileRef {
  path: string;
  bytes: number;
  sha256: string;
}

/** manifest.json of a saved model folder. */
export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  version: number;
  /** The registry name of the method that saved it ('thfr', 'rd4ad'); absent in older folders (= 'thfr' or 'rd4ad' by config). */
  method?: string;
  createdAt: string;
  config: ThfrConfig;
  backbone: BackboneIdentity;
  levels: LevelGeometry[];
  weights: ModelFileRef & { tensors: PackedTensorEntry[] };
  bank?: ModelFileRef & { manifest: TemplateBankManifest };
  normalStatistics?: NormalStatistics;
  training?: TrainingSummary;
  /** Other files saved in the folder (e.g. backbone/weights.bin), checked by size and SHA-256 on load. */
  extraFiles?: ModelFileRef[];
}

/** A model as files: the manifest and the binary files it names. */
export interface SerializedModel {
  manifest: ModelManifest;
  files: Map<string, Uint8Array>;
}

export async function serializeModel(model: ThfrModel, options: { method?: string } = {}): Promise<SerializedModel> {
  const files = new Map<string, Uint8Array>();
  const weights = await packTensors(model.network.stateDict());
  files.set('weights.bin', weights.buffer);
  const manifest: ModelManifest = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    ...(options.method ? { method: options.method } : {}),
    createdAt: new Date().toISOString(),
    config: model.config,
    backbone: model.backbone.identity,
    levels: model.levels,
    weights: { path: 'weights.bin', bytes: weights.buffer.byteLength, sha256: await sha256Hex(weights.buffer), tensors: weights.entries },
    normalStatistics: model.normalStatistics,
    training: model.training,
  };
  if (model.bank) {
    const bank = await model.bank.serialize();
    files.set('bank.bin', bank.buffer);
    manifest.bank = { path: 'bank.bin', bytes: bank.buffer.byteLength, sha256: await sha256Hex(bank.buffer), manifest: bank.manifest };
  }
  return { manifest, files };
}

function sameIdentity(a: BackboneIdentity, b: BackboneIdentity): boolean {
  return a.architecture === b.architecture && a.weights === b.weights && a.taps.join('|') === b.taps.join('|');
}

/** The fields of manifest.json this package reads; a missing or mistyped one is named in the error. */
const MANIFEST_SPEC: ObjectSpec = {
  format: 'string',
  version: 'integer',
  method: { optional: 'string' },
  config: 'object',
  backbone: { architecture: 'string', weights: 'string', taps: 'string[]' },
  levels: 'array',
  weights: { ...FILE_REF_SPEC, tensors: 'array' },
  bank: { optional: { ...FILE_REF_SPEC, manifest: 'object' } },
  normalStatistics: { optional: { source: 'string', count: 'integer', imageScore: { mean: 'number', std: 'number', min: 'number', max: 'number' }, pixelMax: 'number', threshold: 'number' } },
  training: { optional: 'object' },
  extraFiles: { optional: 'array' },
};

/** Checks the manifest's format, version and every field it reads before anything is allocated. */
export function parseManifest(json: unknown, where: string): ModelManifest {
  const m = json as Partial<ModelManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== MODEL_FORMAT) throw new Error(`${where} is not a THFR model manifest (format '${(m as { format?: string } | null)?.format ?? 'missing'}', expected '${MODEL_FORMAT}')`);
  if (m.version !== MODEL_FORMAT_VERSION) throw new Error(`${where} has model format version ${m.version}; this @thfr/model reads version ${MODEL_FORMAT_VERSION}`);
  validateFields(m, MANIFEST_SPEC, where);
  validateEach(m.weights!.tensors, TENSOR_ENTRY_SPEC, where, 'weights.tensors');
  validateEach(m.levels!, { name: 'string', channels: 'integer', size: 'integer' }, where, 'levels');
  validateEach(m.extraFiles ?? [], FILE_REF_SPEC, where, 'extraFiles');
  return m as ModelManifest;
}

/**
 * Rebuilds a model from its manifest and files, read through `readFile(path)` (fs in Node, fetch in
 * a browser). The backbone must be the one the model was trained with: same architecture, weights
 * and taps, and the same level shapes.
 */
export async function deserializeModel(manifestJson: unknown, readFile: (path: string) => Promise<Uint8Array>, backbone: FeatureExtractor, where = 'model'): Promise<ThfrModel> {
  const manifest = parseManifest(manifestJson, `${where}/manifest.json`);
  if (!sameIdentity(manifest.backbone, backbone.identity)) {
    throw new Error(`${where} was trained with backbone ${JSON.stringify(manifest.backbone)}, but the given backbone is ${JSON.stringify(backbone.identity)}`);
  }
  const config = resolveConfig(manifest.config, PAPER_CONFIG);
  const levels = measureLevels(backbone, config.imageSize);
  if (JSON.stringify(levels) !== JSON.stringify(manifest.levels)) {
    throw new Error(`${where}: the backbone's levels ${JSON.stringify(levels)} differ from the saved ${JSON.stringify(manifest.levels)}`);
  }
  const read = async (ref: ModelFileRef): Promise<Uint8Array> => {
    const bytes = await readFile(ref.path);
    if (bytes.byteLength !== ref.bytes) throw new Error(`${where}/${ref.path} has ${bytes.byteLength} bytes, the manifest says ${ref.bytes} (truncated or replaced file)`);
    const digest = await sha256Hex(bytes);
    if (digest !== ref.sha256) throw new Error(`${where}/${ref.path}: checksum mismatch (sha256 ${digest}, manifest ${ref.sha256})`);
    return bytes;
  };
  const network = new ThfrNetwork(levels, config);
  let bank: TemplateBank | undefined;
  try {
    const weights = unpackTensors(manifest.weights.tensors, await read(manifest.weights), `${where}/${manifest.weights.path}`);
    try {
      network.loadStateDict(weights, `${where}/${manifest.weights.path}`);
    } finally {
      weights.forEach((t) => t.dispose());
    }
    if (config.template) {
      if (!manifest.bank) throw new Error(`${where}: the config uses templates but the manifest names no bank file`);
      bank = TemplateBank.deserialize(manifest.bank.manifest, await read(manifest.bank));
    }
    return new ThfrModel(config, backbone, levels, network, bank, manifest.normalStatistics, manifest.training);
  } catch (error) {
    network.dispose();
    bank?.dispose();
    throw error;
  }
}

/** Loads a model folder served over HTTP(S) (browser or Node fetch): `${url}/manifest.json` etc. */
export async function loadModelFromUrl(url: string, backbone: FeatureExtractor, options: { onProgress?: (loadedBytes: number, totalBytes: number) => void; fetch?: typeof fetch } = {}): Promise<ThfrModel> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const base = url.endsWith('/') ? url : `${url}/`;
  const response = await fetchFn(`${base}manifest.json`);
  if (!response.ok) throw new Error(`model not found at ${base} (${base}manifest.json: HTTP ${response.status})`);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // A static server's fallback page (index.html for every path) answers 200 with HTML.
    throw new Error(`model not found at ${base}: ${base}manifest.json is not JSON (it starts with ${JSON.stringify(text.slice(0, 40))})`);
  }
  const manifest = parseManifest(json, `${base}manifest.json`);
  const total = manifest.weights.bytes + (manifest.bank?.bytes ?? 0);
  let loaded = 0;
  return deserializeModel(manifest, async (path) => {
    const r = await fetchFn(`${base}${path}`);
    if (!r.ok) throw new Error(`${base}${path}: HTTP ${r.status}`);
    const bytes = new Uint8Array(await r.arrayBuffer());
    loaded += bytes.byteLength;
    options.onProgress?.(loaded, total);
    return bytes;
  }, backbone, base.replace(/\/$/, ''));
}
