import { sha256Hex } from './hash.js';

/** A file a manifest names: its path inside the model folder, size and SHA-256. */
export interface FileRef {
  path: string;
  bytes: number;
  sha256: string;
}

/** The fields every saved detector's manifest.json shares. */
export interface DetectorManifestHeader {
  /** Folder format, e.g. 'thfr-model' or 'thfr-patchcore'; bumped versions are refused by name. */
  format: string;
  version: number;
  /** The registry name of the method that wrote it ('thfr', 'rd4ad', 'patchcore', ...). */
  method?: string;
  createdAt: string;
  /** The backbone it was fitted with: opened again (same folder or the offline default) on load. */
  backbone: { architecture: string; weights: string; taps: string[] };
}

/** The FileRef of `bytes` stored at `path`. */
export async function fileRef(path: string, bytes: Uint8Array | string): Promise<FileRef> {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  return { path, bytes: data.byteLength, sha256: await sha256Hex(data) };
}

/**
 * Checks bytes read for `ref` by size and SHA-256; `where` names the file in the error (e.g. its full path).
 * `corruptHint` is appended to a checksum mismatch (e.g. 'the checkpoint is corrupt').
 */
export async function verifyFileRef(ref: FileRef, bytes: Uint8Array, where: string, manifestName = 'the manifest', corruptHint?: string): Promise<void> {
  if (bytes.byteLength !== ref.bytes) throw new Error(`${where} has ${bytes.byteLength} bytes, ${manifestName} says ${ref.bytes} (truncated or replaced file)`);
  const digest = await sha256Hex(bytes);
  if (digest !== ref.sha256) throw new Error(`${where}: checksum mismatch (sha256 ${digest}, ${manifestName} says ${ref.sha256})${corruptHint ? `: ${corruptHint}` : ''}`);
}

/** Parses manifest JSON text (or passes an object through) with an error that names `source`. */
export function parseManifestJson(value: unknown, source = 'manifest.json'): Record<string, unknown> {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${source}: expected a JSON object`);
  return parsed as Record<string, unknown>;
}
