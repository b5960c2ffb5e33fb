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
 * Reads `dir/<fileName>` (default manifest.json) and parses it as JSON, any value (after recovering an interrupted
 * save), with errors that say the folder is not a `what` or that the file is not JSON. The caller's own parser
 * checks the value and its fields.
 */
export async function readFolderJson(dir: string, what = 'saved model', fileName = 'manifest.json'): Promise<unknown> {
  await recoverInterruptedSave(dir);
  const path = join(dir, fileName);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`${dir} is not a ${what}: ${path} is missing`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** `readFolderJson` of `dir/manifest.json`, which must hold a JSON object. */
export async function readFolderManifest(dir: string, what = 'saved model'): Promise<Record<string, unknown>> {
  return parseManifestJson(await readFolderJson(dir, what), join(dir, 'manifest.json'));
}

/** Reads a file a manifest names and checks its size and SHA-256 (`corruptHint`: see verifyFileRef). */
export async function readCheckedFile(dir: string, ref: FileRef, manifestPath = join(dir, 'manifest.json'), corruptHint?: string): Promise<Uint8Array> {
  const path = join(dir, ref.path);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch {
    throw new Error(`${path} is missing (named in ${manifestPath})`);
  }
  await verifyFileRef(ref, bytes, path, manifestPath, corruptHint);
  return bytes;
}
