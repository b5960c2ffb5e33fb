/**
 * @thfr/patchcore/node — saving and loading PatchCore folders (manifest.json + memory-bank.bin),
 * atomically through @thfr/model's writeFolderAtomically.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeatureExtractor } from '@thfr/backbone';
import { writeFolderAtomically } from '@thfr/model/node';
import type { PatchCore } from './patchcore.js';
import { deserializePatchCore, parsePatchCoreManifest, serializePatchCore, type PatchCoreManifest } from './serialization.js';

/** Writes `dir/manifest.json` + `dir/memory-bank.bin`, replacing `dir` only once both are complete. */
export async function savePatchCore(model: PatchCore, dir: string): Promise<PatchCoreManifest> {
  const { manifest, bank } = await serializePatchCore(model);
  await writeFolderAtomically(dir, new Map<string, Uint8Array | string>([[manifest.bank.path, bank], ['manifest.json', JSON.stringify(manifest, null, 2)]]));
  return manifest;
}

/** Loads a folder written by savePatchCore, with the backbone it was fitted with. */
export async function loadPatchCore(dir: string, backbone: FeatureExtractor): Promise<PatchCore> {
  const manifestPath = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    throw new Error(`${dir} is not a saved PatchCore model: ${manifestPath} is missing`);
  }
  const manifest = parsePatchCoreManifest(text, manifestPath);
  const bankPath = join(dir, manifest.bank.path);
  let bank: Uint8Array;
  try {
    bank = new Uint8Array(await readFile(bankPath));
  } catch {
    throw new Error(`${bankPath} is missing (named in ${manifestPath})`);
  }
  return deserializePatchCore(manifest, bank, backbone, dir);
}
