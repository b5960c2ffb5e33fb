import { tf } from '@thfr/tensor';
import { sha256Hex, type FileRef } from '@thfr/detector';
import type { BackboneIdentity, FeatureExtractor } from '@thfr/backbone';
import { resolvePatchCoreConfig, type PatchCoreConfig } from './config.js';
import { PatchCore, type PatchCoreFitSummary } from './patchcore.js';

export const PATCHCORE_FORMAT = 'thfr-patchcore';
/** Bumped on any incompatible change of the folder layout. */
export const PATCHCORE_FORMAT_VERSION = 1;
export const MEMORY_BANK_FILE = 'memory-bank.bin';

/** manifest.json of a saved PatchCore folder; the memory bank is raw little-endian float32 rows. */
export interface PatchCoreManifest {
  format: typeof PATCHCORE_FORMAT;
  version: number;
  /** The registry name of the method ('patchcore'). */
  method?: 'patchcore';
  createdAt: string;
  config: PatchCoreConfig;
  backbone: BackboneIdentity;
  layers: number[];
  featureDim: number;
  bank: { path: string; rows: number; dim: number; dtype: 'float32'; bytes: number; sha256: string };
  fit?: PatchCoreFitSummary;
  /** Other files saved in the folder (e.g. the exported backbone), checked by size and SHA-256 on load. */
  extraFiles?: FileRef[];
}

function littleEndianFloat32(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

/** The manifest and the memory bank bytes of a fitted model. */
export async function serializePatchCore(model: PatchCore): Promise<{ manifest: PatchCoreManifest; bank: Uint8Array }> {
  const bankTensor = model.memoryBank;
  if (!bankTensor) throw new Error('serializePatchCore: the model has no memory bank (fit it first)');
  const bank = littleEndianFloat32((await bankTensor.data()) as Float32Array);
  const manifest: PatchCoreManifest = {
    format: PATCHCORE_FORMAT,
    version: PATCHCORE_FORMAT_VERSION,
    method: 'patchcore',
    createdAt: new Date().toISOString(),
    config: model.config,
    backbone: model.backbone.identity,
    layers: model.layers,
    featureDim: model.featureDim,
    bank: { path: MEMORY_BANK_FILE, rows: bankTensor.shape[0], dim: bankTensor.shape[1], dtype: 'float32', bytes: bank.byteLength, sha256: await sha256Hex(bank) },
    fit: model.fitSummary,
  };
  return { manifest, bank };
}

/** Parses and checks a manifest (text or object); `source` names it in errors. */
export function parsePatchCoreManifest(value: unknown, source = 'manifest.json'): PatchCoreManifest {
  let manifest = value;
  if (typeof value === 'string') {
    try {
      manifest = JSON.parse(value);
    } catch (error) {
      throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
    }
  }
  const m = manifest as Partial<PatchCoreManifest>;
  if (!m || m.format !== PATCHCORE_FORMAT) throw new Error(`${source} is not a PatchCore manifest (format '${String(m?.format)}', expected '${PATCHCORE_FORMAT}')`);
  if (m.version !== PATCHCORE_FORMAT_VERSION) throw new Error(`${source}: PatchCore format version ${String(m.version)}; this @thfr/patchcore reads version ${PATCHCORE_FORMAT_VERSION}`);
  if (!m.bank || !Number.isInteger(m.bank.rows) || !Number.isInteger(m.bank.dim) || m.bank.dtype !== 'float32') throw new Error(`${source}: 'bank' must give integer rows, dim and dtype 'float32'`);
  return m as PatchCoreManifest;
}

function sameIdentity(a: BackboneIdentity, b: BackboneIdentity): boolean {
  return a.architecture === b.architecture && a.weights === b.weights && JSON.stringify(a.taps) === JSON.stringify(b.taps);
}

/** Rebuilds a PatchCore from its manifest and bank bytes, checking the backbone, sizes and checksum. */
export async function deserializePatchCore(manifest: PatchCoreManifest, bank: Uint8Array, backbone: FeatureExtractor, source = 'PatchCore model'): Promise<PatchCore> {
  if (!sameIdentity(manifest.backbone, backbone.identity)) {
    throw new Error(`${source} was fitted with backbone ${JSON.stringify(manifest.backbone)}, the given backbone is ${JSON.stringify(backbone.identity)}`);
  }
  const { rows, dim } = manifest.bank;
  if (bank.byteLength !== rows * dim * 4 || bank.byteLength !== manifest.bank.bytes) {
    throw new Error(`${source}: ${manifest.bank.path} has ${bank.byteLength} bytes, the manifest says ${manifest.bank.bytes} (${rows} x ${dim} float32)`);
  }
  if ((await sha256Hex(bank)) !== manifest.bank.sha256) throw new Error(`${source}: ${manifest.bank.path}: checksum mismatch (the file is corrupted)`);
  const model = new PatchCore(backbone, resolvePatchCoreConfig(manifest.config));
  if (model.featureDim !== dim || JSON.stringify(model.layers) !== JSON.stringify(manifest.layers)) {
    model.dispose();
    throw new Error(`${source}: the bank has ${dim}-dim rows from levels ${JSON.stringify(manifest.layers)}; this backbone and config give ${model.featureDim} from ${JSON.stringify(model.layers)}`);
  }
  const view = new DataView(bank.buffer, bank.byteOffset, bank.byteLength);
  const values = new Float32Array(rows * dim);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  model.setBank(tf.tensor2d(values, [rows, dim], 'float32'));
  model.fitSummary = manifest.fit;
  return model;
}
