/**
 * @thfr/detector/node — what every method's Node entry shares to save and load a model folder:
 * crash-safe folder replacement (writeFolderAtomically / recoverInterruptedSave) that refuses to replace
 * anything but a previous output of the same kind (checkOutputPath), and reading a folder's manifest.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifestJson, verifyFileRef, type FileRef } from './manifest.js';
import { recoverInterruptedSave } from './atomic-folder.js';

export { writeFolderAtomically, recoverInterruptedSave, FAULT_STEPS } from './atomic-folder.js';
export type { WriteFolderOptions, Recovery, FaultStep } from './atomic-folder.js';
export { checkOutputPath, canonicalPath, OutputPathError } from './output-guard.js';
export type { OutputKind, OutputCheckOptions, OutputRefusal, OutputState } from './output-guard.js';

/**
 * Reads `dir/manifest.json` as a JSON object (after recovering an interrupted save), with errors that
 * say the folder is not a saved model. The method's own parser checks the fields.
 */
export async function readFolderManifest(dir: string, what = 'saved model'): Promise<Record<string, unknown>> {
  await recoverInterruptedSave(dir);
  const path = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`${dir} is not a ${what}: ${path} is missing`);
  }
  return parseManifestJson(text, path);
}

/** Reads a file a manifest names and checks its size and SHA-256. */
export async function readCheckedFile(dir: string, ref: FileRef, manifestPath = join(dir, 'manifest.json')): Promise<Uint8Array> {
  const path = join(dir, ref.path);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch {
    throw new Error(`${path} is missing (named in ${manifestPath})`);
  }
  await verifyFileRef(ref, bytes, path, manifestPath);
  return bytes;
}
