import { tf } from '@thfr/tensor';
import type { BackboneIdentity, FeatureExtractor } from '@thfr/backbone';
import { fileRef, parseManifestJson, verifyFileRef, type FileRef } from '@thfr/detector';
import { resolvePadimConfig, type PadimConfig } from './config.js';
import { Padim, type PadimFitSummary } from './padim.js';

export const PADIM_FORMAT = 'thfr-padim';
export const PADIM_FORMAT_VERSION = 1;
export const STATISTICS_FILE = 'gaussians.bin';

/** manifest.json of a saved PaDiM folder; gaussians.bin is the means then the precisions, little-endian float32. */
export interface PadimManifest {
  format: typeof PADIM_FORMAT;
  version: number;
  method: 'padim';
  createdAt: string;
  config: PadimConfig;
  backbone: BackboneIdentity;
  layers: number[];
  channels: number[];
  grid: [number, number];
  statistics: FileRef;
  fit?: PadimFitSummary;
  extraFiles?: FileRef[];
}

function toLittleEndian(parts: Float32Array[]): Uint8Array {
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total * 4);
  const view = new DataView(out.buffer);
  let i = 0;
  for (const part of parts) for (const v of part) view.setFloat32(4 * i++, v, true);
  return out;
}

export async function serializePadim(model: Padim): Promise<{ manifest: PadimManifest; bytes: Uint8Array }> {
  const stats = model.statistics;
  if (!stats) throw new Error('serializePadim: the model is not fitted');
  const bytes = toLittleEndian([(await stats.mean.data()) as Float32Array, (await stats.precision.data()) as Float32Array]);
  const manifest: PadimManifest = {
    format: PADIM_FORMAT, version: PADIM_FORMAT_VERSION, method: 'padim', createdAt: new Date().toISOString(),
    config: model.config, backbone: model.backbone.identity, layers: model.layers, channels: Array.from(model.channels), grid: stats.grid,
    statistics: await fileRef(STATISTICS_FILE, bytes), fit: model.fitSummary,
  };
  return { manifest, bytes };
}

export function parsePadimManifest(value: unknown, source = 'manifest.json'): PadimManifest {
  const m = parseManifestJson(value, source) as Partial<PadimManifest>;
  if (m.format !== PADIM_FORMAT) throw new Error(`${source} is not a PaDiM manifest (format '${String(m.format)}', expected '${PADIM_FORMAT}')`);
  if (m.version !== PADIM_FORMAT_VERSION) throw new Error(`${source}: PaDiM format version ${String(m.version)}; this @thfr/padim reads version ${PADIM_FORMAT_VERSION}`);
  if (!Array.isArray(m.channels) || !Array.isArray(m.grid) || !m.statistics || !m.backbone) throw new Error(`${source}: 'channels', 'grid', 'statistics' and 'backbone' are required`);
  return m as PadimManifest;
}

export async function deserializePadim(manifest: PadimManifest, bytes: Uint8Array, backbone: FeatureExtractor, source = 'PaDiM model'): Promise<Padim> {
  const a = manifest.backbone;
  const b = backbone.identity;
  if (a.architecture !== b.architecture || a.weights !== b.weights || a.taps.join('|') !== b.taps.join('|')) {
    throw new Error(`${source} was fitted with backbone ${JSON.stringify(a)}, the given backbone is ${JSON.stringify(b)}`);
  }
  await verifyFileRef(manifest.statistics, bytes, `${source}/${manifest.statistics.path}`);
  const [h, w] = manifest.grid;
  const d = manifest.channels.length;
  const p = h * w;
  if (bytes.byteLength !== (p * d + p * d * d) * 4) throw new Error(`${source}: ${manifest.statistics.path} has ${bytes.byteLength} bytes, expected ${(p * d + p * d * d) * 4} for ${p} positions x ${d} channels`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = Float32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
  const model = new Padim(backbone, resolvePadimConfig(manifest.config), Int32Array.from(manifest.channels));
  model.setStatistics(tf.tensor2d(values.subarray(0, p * d), [p, d]), tf.tensor3d(values.subarray(p * d), [p, d, d]), [h, w]);
  model.fitSummary = manifest.fit;
  return model;
}
