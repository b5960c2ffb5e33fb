/**
 * @thfr/patchcore/node — saving and loading PatchCore folders (manifest.json + memory-bank.bin),
 * crash-safely through @thfr/detector/node's writeFolderAtomically, which refuses to replace anything but a
 * previous PatchCore folder (a file, a foreign folder or a THFR model is left untouched).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeatureExtractor } from '@thfr/backbone';
import { fileRef, presetOf, type DetectorMethod } from '@thfr/detector';
import { readCheckedFile, readFolderManifest, recoverInterruptedSave, writeFolderAtomically, type OutputKind } from '@thfr/detector/node';
import { PatchCore } from './patchcore.js';
import type { PatchCoreConfig } from './config.js';
import { deserializePatchCore, parsePatchCoreManifest, serializePatchCore, PATCHCORE_FORMAT, type PatchCoreManifest } from './serialization.js';

/** What savePatchCore may replace: a folder whose manifest.json has format PATCHCORE_FORMAT. */
export const PATCHCORE_OUTPUT: OutputKind = { label: 'PatchCore model', marker: 'manifest.json', format: PATCHCORE_FORMAT };

/** Writes `dir/manifest.json` + `dir/memory-bank.bin`, replacing `dir` only once both are complete. */
export async function savePatchCore(model: PatchCore, dir: string, options: { extraFiles?: Map<string, Uint8Array | string> } = {}): Promise<PatchCoreManifest> {
  const { manifest, bank } = await serializePatchCore(model);
  const extra = [...(options.extraFiles ?? [])];
  if (extra.length > 0) manifest.extraFiles = await Promise.all(extra.map(([path, content]) => fileRef(path, content)));
  const files = new Map<string, Uint8Array | string>([...extra, [manifest.bank.path, bank], ['manifest.json', JSON.stringify(manifest, null, 2)]]);
  await writeFolderAtomically(dir, files, { kind: PATCHCORE_OUTPUT, who: 'savePatchCore' });
  return manifest;
}

/** Loads a folder written by savePatchCore, with the backbone it was fitted with. */
export async function loadPatchCore(dir: string, backbone: FeatureExtractor): Promise<PatchCore> {
  await recoverInterruptedSave(dir);
  const manifestPath = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    throw new Error(`${dir} is not a saved PatchCore model: ${manifestPath} is missing`);
  }
  const manifest = parsePatchCoreManifest(text, manifestPath);
  for (const ref of manifest.extraFiles ?? []) await readCheckedFile(dir, ref, manifestPath);
  const bankPath = join(dir, manifest.bank.path);
  let bank: Uint8Array;
  try {
    bank = new Uint8Array(await readFile(bankPath));
  } catch {
    throw new Error(`${bankPath} is missing (named in ${manifestPath})`);
  }
  return deserializePatchCore(manifest, bank, backbone, dir);
}

/**
 * PatchCore's presets, as overrides of its default config: 'default' (256 px, coreset ratio 0.1), 'fast' (128 px,
 * the restoration methods' quick preset) and 'paper' (ratio 0.01).
 */
export const PATCHCORE_PRESETS: Record<string, Partial<PatchCoreConfig>> = { default: {}, fast: { imageSize: 128 }, paper: { coresetRatio: 0.01 } };

/** PatchCore in a method registry (@thfr/detector's DetectorMethod), with PATCHCORE_PRESETS. */
export const PATCHCORE_METHOD: DetectorMethod<FeatureExtractor, PatchCore> = {
  name: 'patchcore',
  summary: 'PatchCore (CVPR 2022): nearest-neighbour patch features against a coreset memory bank',
  create: (backbone, options = {}) => {
    return new PatchCore(backbone, { ...presetOf(PATCHCORE_PRESETS, options.preset, 'patchcore'), ...(options.config as Partial<PatchCoreConfig>) });
  },
  recognizes: (manifest) => manifest.format === PATCHCORE_FORMAT,
  inspect: async (dir) => parsePatchCoreManifest(await readFolderManifest(dir, 'saved PatchCore model'), join(dir, 'manifest.json')),
  save: (detector, dir, options) => savePatchCore(detector, dir, options),
  load: (dir, backbone) => loadPatchCore(dir, backbone),
};
