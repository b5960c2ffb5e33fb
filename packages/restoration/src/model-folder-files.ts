/** Node side of the restoration model folder: crash-safe writes and checked reads on disk. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileRef } from '@thfr/detector';
import { readCheckedFile, readFolderJson, writeFolderAtomically } from '@thfr/detector/node';
import type { RestorationConfig } from './config.js';
import { parseRestorationManifest, type FolderReader, type ModelManifest, type SerializedModel } from './model-folder.js';
import { MODEL_OUTPUT } from './output-kinds.js';

/**
 * Writes a serialized model folder: manifest.json + its files, plus `extraFiles` (relative paths, e.g. an
 * exported backbone under backbone/) in the same crash-safe swap. An existing `dir` is replaced only if it
 * holds a model folder; a file or any other folder is refused (OutputPathError).
 */
export async function writeModelFolder<C extends RestorationConfig>(serialized: SerializedModel<C>, dir: string, options: { extraFiles?: Map<string, Uint8Array | string>; who: string }): Promise<ModelManifest<C>> {
  const { manifest, files } = serialized;
  const extra = [...(options.extraFiles ?? [])];
  if (extra.length > 0) manifest.extraFiles = await Promise.all(extra.map(([path, content]) => fileRef(path, content)));
  const all = new Map<string, Uint8Array | string>([...extra, ...files]);
  all.set('manifest.json', JSON.stringify(manifest, null, 2));
  await writeFolderAtomically(dir, all, { kind: MODEL_OUTPUT, who: options.who });
  return manifest;
}

/** Reads and checks a model folder's manifest without loading weights, and the extra files it lists (size, SHA-256). */
export async function readModelFolderManifest(dir: string, reader: FolderReader): Promise<ModelManifest<RestorationConfig>> {
  const path = join(dir, 'manifest.json');
  const manifest = parseRestorationManifest(await readFolderJson(dir, `saved ${reader.label} model`), path, reader);
  for (const ref of manifest.extraFiles ?? []) await readCheckedFile(dir, ref, path);
  return manifest;
}

/** readFile for restoreNetwork: a file of the folder, with an error naming the manifest when it is missing. */
export function folderFileReader(dir: string): (path: string) => Promise<Uint8Array> {
  return async (path) => {
    try {
      return new Uint8Array(await readFile(join(dir, path)));
    } catch {
      throw new Error(`${join(dir, path)} is missing (named in ${join(dir, 'manifest.json')})`);
    }
  };
}
