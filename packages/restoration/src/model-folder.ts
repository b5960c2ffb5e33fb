/**
 * The model folder every restoration detector (THFR, RD4AD) saves: manifest.json (format 'thfr-model') +
 * weights.bin (+ map-statistics.bin with per-position map normalization, + THFR's bank.bin) + extra files, each
 * named with its size and SHA-256. This file holds the parts that do not depend on the method: building the manifest, checking it, and rebuilding the network
 * from it. Browser-safe: files are read through a `readFile(path)` callback (fs in Node, fetch in a browser).
 */
import type { BackboneIdentity, FeatureExtractor } from '@thfr/backbone';
import type { MapPositionStatistics } from '@thfr/postprocess';
import { fileRef, verifyFileRef, type FileRef } from '@thfr/detector';
import type { NormalStatistics } from './calibration.js';
import { CONFIG_FIELDS_ADDED_LATER, type RestorationConfig } from './config.js';
import { measureLevelsAsync, type LevelGeometry } from './geometry.js';
import { FILE_REF_SPEC, TENSOR_ENTRY_SPEC, validateEach, validateFields, type ObjectSpec } from './manifest-schema.js';
import type { RestorationNetwork } from './optimise.js';
import type { RestorationModel, TrainingSummary } from './restoration-model.js';
import { packTensors, unpackTensors, type PackedTensorEntry } from './tensor-pack.js';

export const MODEL_FORMAT = 'thfr-model';
/** Bumped on any incompatible change of the folder layout or the networks' parameter names. */
export const MODEL_FORMAT_VERSION = 1;

export type ModelFileRef = FileRef;

/** manifest.json of a saved restoration model folder; `config` is the method's whole config. */
export interface ModelManifest<C extends RestorationConfig = RestorationConfig> {
  format: typeof MODEL_FORMAT;
  version: number;
  /** The registry name of the method that saved it ('thfr', 'rd4ad'); absent in older folders (= 'thfr' or 'rd4ad' by config). */
  method?: string;
  createdAt: string;
  config: C;
  backbone: BackboneIdentity;
  levels: LevelGeometry[];
  weights: ModelFileRef & { tensors: PackedTensorEntry[] };
  /** THFR's template bank (its manifest is @thfr/template-bank's). */
  bank?: ModelFileRef & { manifest: Record<string, unknown> };
  normalStatistics?: NormalStatistics;
  /** map-statistics.bin (config.mapNormalization 'per-position' or 'texture'): float32 mean then std, height x width each. */
  mapStatistics?: ModelFileRef & { height: number; width: number; count: number };
  training?: TrainingSummary;
  /** Other files saved in the folder (e.g. backbone/weights.bin), checked by size and SHA-256 on load. */
  extraFiles?: ModelFileRef[];
}

/** A model as files: the manifest and the binary files it names. */
export interface SerializedModel<C extends RestorationConfig = RestorationConfig> {
  manifest: ModelManifest<C>;
  files: Map<string, Uint8Array>;
}

/** Who reads a folder, for messages: 'THFR' / '@thfr/model', 'RD4AD' / '@thfr/rd4ad'. */
export interface FolderReader {
  label: string;
  packageName: string;
}

/** The manifest and weights.bin of a restoration model; methods add their own parts (THFR: bank.bin). */
export async function serializeRestorationModel<C extends RestorationConfig>(model: RestorationModel<C>, options: { method?: string } = {}): Promise<SerializedModel<C>> {
  const files = new Map<string, Uint8Array>();
  const weights = await packTensors(model.network.stateDict());
  files.set('weights.bin', weights.buffer);
  const manifest: ModelManifest<C> = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    ...(options.method ? { method: options.method } : {}),
    createdAt: new Date().toISOString(),
    config: model.config,
    backbone: model.backbone.identity,
    levels: model.levels,
    weights: { ...(await fileRef('weights.bin', weights.buffer)), tensors: weights.entries },
    normalStatistics: model.normalStatistics,
    training: model.training,
  };
  if (model.mapStatistics) {
    const { height, width, count, mean, std } = model.mapStatistics;
    const bytes = new Uint8Array(Float32Array.from([...mean, ...std]).buffer);
    files.set(MAP_STATISTICS_FILE, bytes);
    manifest.mapStatistics = { ...(await fileRef(MAP_STATISTICS_FILE, bytes)), height, width, count };
  }
  return { manifest, files };
}

const MAP_STATISTICS_FILE = 'map-statistics.bin';

/** Reads map-statistics.bin, checking its size against the manifest's height x width. */
function decodeMapStatistics(ref: NonNullable<ModelManifest['mapStatistics']>, bytes: Uint8Array, where: string): MapPositionStatistics {
  const pixels = ref.height * ref.width;
  if (bytes.byteLength !== pixels * 8) throw new Error(`${where}/${ref.path}: expected ${pixels * 8} bytes (float32 mean and std of ${ref.height}x${ref.width} pixels), got ${bytes.byteLength}`);
  const values = new Float32Array(bytes.slice().buffer);
  const std = values.slice(pixels);
  const bad = std.findIndex((v) => !(v > 0 && Number.isFinite(v)));
  if (bad >= 0) throw new Error(`${where}/${ref.path}: std at pixel ${bad} is ${std[bad]}, expected a finite value > 0`);
  return { height: ref.height, width: ref.width, count: ref.count, mean: values.slice(0, pixels), std };
}

/** The fields of manifest.json every reader checks; a missing or mistyped one is named in the error. */
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
  mapStatistics: { optional: { ...FILE_REF_SPEC, height: 'integer', width: 'integer', count: 'integer' } },
  training: { optional: 'object' },
  extraFiles: { optional: 'array' },
};

/** Checks the manifest's format, version and every shared field before anything is allocated. */
export function parseRestorationManifest(json: unknown, where: string, reader: FolderReader): ModelManifest<RestorationConfig> {
  const m = json as Partial<ModelManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== MODEL_FORMAT) throw new Error(`${where} is not a ${reader.label} model manifest (format '${(m as { format?: string } | null)?.format ?? 'missing'}', expected '${MODEL_FORMAT}')`);
  if (m.version !== MODEL_FORMAT_VERSION) throw new Error(`${where} has model format version ${m.version}; this ${reader.packageName} reads version ${MODEL_FORMAT_VERSION}`);
  validateFields(m, MANIFEST_SPEC, where);
  validateEach(m.weights!.tensors, TENSOR_ENTRY_SPEC, where, 'weights.tensors');
  validateEach(m.levels!, { name: 'string', channels: 'integer', size: 'integer' }, where, 'levels');
  validateEach(m.extraFiles ?? [], FILE_REF_SPEC, where, 'extraFiles');
  return m as ModelManifest<RestorationConfig>;
}

function sameIdentity(a: BackboneIdentity, b: BackboneIdentity): boolean {
  return a.architecture === b.architecture && a.weights === b.weights && a.taps.join('|') === b.taps.join('|');
}

/** What a method gives the folder reader: its config from the manifest and its network for that config. */
export interface RestorationMethodParts<C extends RestorationConfig> {
  resolveConfig(saved: Record<string, unknown>): C;
  buildNetwork(levels: LevelGeometry[], config: C): RestorationNetwork;
}

/** A checked manifest with the method's config, the measured levels and the network holding the saved weights. */
export interface RestoredParts<C extends RestorationConfig> {
  manifest: ModelManifest<C>;
  config: C;
  levels: LevelGeometry[];
  network: RestorationNetwork;
  /** The per-position map statistics the folder holds (config.mapNormalization 'per-position' or 'texture'). */
  mapStatistics?: MapPositionStatistics;
  /** Reads another file the manifest names, checked by size and SHA-256. */
  readPart(ref: ModelFileRef): Promise<Uint8Array>;
}

/**
 * Rebuilds a method's network from a parsed manifest and its files. The backbone must be the one the model
 * was trained with: same architecture, weights and taps, and the same level shapes. The caller owns the
 * returned network (and disposes it if it fails to read its own parts).
 */
export async function restoreNetwork<C extends RestorationConfig>(manifest: ModelManifest<RestorationConfig>, readFile: (path: string) => Promise<Uint8Array>, backbone: FeatureExtractor, where: string, method: RestorationMethodParts<C>): Promise<RestoredParts<C>> {
  if (!sameIdentity(manifest.backbone, backbone.identity)) {
    throw new Error(`${where} was trained with backbone ${JSON.stringify(manifest.backbone)}, but the given backbone is ${JSON.stringify(backbone.identity)}`);
  }
  const config = method.resolveConfig({ ...CONFIG_FIELDS_ADDED_LATER, ...(manifest.config as unknown as Record<string, unknown>) });
  const levels = await measureLevelsAsync(backbone, config.imageSize);
  if (JSON.stringify(levels) !== JSON.stringify(manifest.levels)) {
    throw new Error(`${where}: the backbone's levels ${JSON.stringify(levels)} differ from the saved ${JSON.stringify(manifest.levels)}`);
  }
  const readPart = async (ref: ModelFileRef): Promise<Uint8Array> => {
    const bytes = await readFile(ref.path);
    await verifyFileRef(ref, bytes, `${where}/${ref.path}`);
    return bytes;
  };
  let mapStatistics: MapPositionStatistics | undefined;
  if (manifest.mapStatistics) {
    const ref = manifest.mapStatistics;
    if (ref.height !== config.imageSize || ref.width !== config.imageSize) {
      throw new Error(`${where}/manifest.json: mapStatistics are ${ref.height}x${ref.width}, the model's maps ${config.imageSize}x${config.imageSize}`);
    }
    mapStatistics = decodeMapStatistics(ref, await readPart(ref), where);
  } else if (config.mapNormalization !== 'none') {
    throw new Error(`${where}/manifest.json: the config's mapNormalization is '${config.mapNormalization}' but the manifest names no mapStatistics file`);
  }
  const network = method.buildNetwork(levels, config);
  try {
    const weights = unpackTensors(manifest.weights.tensors, await readPart(manifest.weights), `${where}/${manifest.weights.path}`);
    try {
      network.loadStateDict(weights, `${where}/${manifest.weights.path}`);
    } finally {
      weights.forEach((t) => t.dispose());
    }
  } catch (error) {
    network.dispose();
    throw error;
  }
  return { manifest: { ...manifest, config } as ModelManifest<C>, config, levels, network, mapStatistics, readPart };
}

/**
 * Fetches a model folder served over HTTP(S) (browser or Node fetch): `${url}/manifest.json`, then the files
 * it names through `open(manifest, readFile, where)`, reporting loaded bytes of weights (+ bank, map statistics).
 */
export async function fetchModelFolder<M>(url: string, reader: FolderReader, open: (manifest: ModelManifest<RestorationConfig>, readFile: (path: string) => Promise<Uint8Array>, where: string) => Promise<M>, options: { onProgress?: (loadedBytes: number, totalBytes: number) => void; fetch?: typeof fetch } = {}): Promise<M> {
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
  const manifest = parseRestorationManifest(json, `${base}manifest.json`, reader);
  const total = manifest.weights.bytes + (manifest.bank?.bytes ?? 0) + (manifest.mapStatistics?.bytes ?? 0);
  let loaded = 0;
  return open(manifest, async (path) => {
    const r = await fetchFn(`${base}${path}`);
    if (!r.ok) throw new Error(`${base}${path}: HTTP ${r.status}`);
    const bytes = new Uint8Array(await r.arrayBuffer());
    loaded += bytes.byteLength;
    options.onProgress?.(loaded, total);
    return bytes;
  }, base.replace(/\/$/, ''));
}

