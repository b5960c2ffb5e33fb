/** @thfr/padim/node — PaDiM folders (manifest.json + gaussians.bin), saved crash-safely, and PaDiM's registry entry. */
import type { FeatureExtractor } from '@thfr/backbone';
import { fileRef, presetOf, type DetectorMethod } from '@thfr/detector';
import { readCheckedFile, readFolderManifest, writeFolderAtomically, type OutputKind } from '@thfr/detector/node';
import { join } from 'node:path';
import { Padim } from './padim.js';
import type { PadimConfig } from './config.js';
import { deserializePadim, parsePadimManifest, serializePadim, PADIM_FORMAT, type PadimManifest } from './serialization.js';

export const PADIM_OUTPUT: OutputKind = { label: 'PaDiM model', marker: 'manifest.json', format: PADIM_FORMAT };

export async function savePadim(model: Padim, dir: string, options: { extraFiles?: Map<string, Uint8Array | string> } = {}): Promise<PadimManifest> {
  const { manifest, bytes } = await serializePadim(model);
  const extra = [...(options.extraFiles ?? [])];
  if (extra.length > 0) manifest.extraFiles = await Promise.all(extra.map(([path, content]) => fileRef(path, content)));
  await writeFolderAtomically(dir, new Map<string, Uint8Array | string>([...extra, [manifest.statistics.path, bytes], ['manifest.json', JSON.stringify(manifest, null, 2)]]), { kind: PADIM_OUTPUT, who: 'savePadim' });
  return manifest;
}

export async function loadPadim(dir: string, backbone: FeatureExtractor): Promise<Padim> {
  const manifestPath = join(dir, 'manifest.json');
  const manifest = parsePadimManifest(await readFolderManifest(dir, 'saved PaDiM model'), manifestPath);
  for (const ref of manifest.extraFiles ?? []) await readCheckedFile(dir, ref, manifestPath);
  return deserializePadim(manifest, await readCheckedFile(dir, manifest.statistics, manifestPath), backbone, dir);
}

/** PaDiM's presets, as overrides of its default config ('paper' is the default: PaDiM has no training schedule). */
export const PADIM_PRESETS: Record<string, Partial<PadimConfig>> = { default: {}, fast: { imageSize: 128 }, paper: {} };

/** PaDiM in a method registry (@thfr/detector's DetectorMethod), with PADIM_PRESETS. */
export const PADIM_METHOD: DetectorMethod<FeatureExtractor, Padim> = {
  name: 'padim',
  summary: 'PaDiM (2020): a Gaussian per map position, Mahalanobis distance maps',
  create: (backbone, options = {}) => {
    return new Padim(backbone, { ...presetOf(PADIM_PRESETS, options.preset, 'padim'), ...(options.config as Partial<PadimConfig>) });
  },
  recognizes: (manifest) => manifest.format === PADIM_FORMAT,
  inspect: async (dir) => parsePadimManifest(await readFolderManifest(dir, 'saved PaDiM model'), join(dir, 'manifest.json')),
  save: (detector, dir, options) => savePadim(detector, dir, options),
  load: (dir, backbone) => loadPadim(dir, backbone),
};
