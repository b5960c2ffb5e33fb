import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ProgressCallback } from './fetch-bytes.js';

export interface FetchWeightsOptions {
  /** Folder of the cache (created if missing). */
  cacheDir: string;
  /** Expected sha256 (hex) of the file; verified before the download is moved into place. */
  sha256?: string;
  /** File name inside cacheDir (default: the last segment of the URL's path). */
  fileName?: string;
  onProgress?: ProgressCallback;
  fetch?: typeof globalThis.fetch;
}

/** Thrown when a downloaded file's sha256 differs from the expected one. */
export class ChecksumMismatchError extends Error {
  override readonly name = 'ChecksumMismatchError';
  constructor(readonly url: string, readonly expected: string, readonly actual: string) {
    super(`fetchWeights(${url}): sha256 mismatch: expected ${expected}, got ${actual} (the partial download was deleted)`);
  }
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/**
 * Downloads `url` into `cacheDir` and returns the file's path. A cached file (with the right checksum) is reused;
 * an interrupted download continues from its `.part` file with an HTTP Range request (or restarts if the server
 * ignores ranges); the finished file is checksum-verified and then renamed into place atomically.
 */
export async function fetchWeights(url: string, options: FetchWeightsOptions): Promise<string> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const fileName = options.fileName ?? basename(new URL(url).pathname);
  if (!fileName) throw new Error(`fetchWeights(${url}): cannot derive a file name from the URL; pass options.fileName`);
  const expected = options.sha256?.toLowerCase();
  if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) throw new Error(`fetchWeights(${url}): options.sha256 must be 64 hex digits, got '${options.sha256}'`);
  await mkdir(options.cacheDir, { recursive: true });
  const finalPath = join(options.cacheDir, fileName);
  const partPath = `${finalPath}.part`;

  if ((await sizeOf(finalPath)) !== undefined) {
    if (expected === undefined || (await sha256OfFile(finalPath)) === expected) return finalPath;
    await rm(finalPath); // a corrupt cached file: fetch again
  }

  const resumeFrom = (await sizeOf(partPath)) ?? 0;
  const headers: Record<string, string> = resumeFrom > 0 ? { Range: `bytes=${resumeFrom}-` } : {};
  const response = await doFetch(url, { headers });
  let offset: number;
  if (response.status === 206 && resumeFrom > 0) offset = resumeFrom;
  else if (response.status === 416 && resumeFrom > 0) {
    // The .part is at least as long as the file: start over rather than trust it.
    await rm(partPath);
    return fetchWeights(url, options);
  } else if (response.ok) offset = 0;
  else throw new Error(`fetchWeights(${url}): HTTP ${response.status} ${response.statusText}`);
  const length = response.headers.get('content-length');
  const total = length != null ? offset + Number(length) : undefined;

  const handle = await open(partPath, offset === 0 ? 'w' : 'a');
  let received = offset;
  try {
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await handle.write(value);
        received += value.byteLength;
        options.onProgress?.(received, total);
      }
    }
  } catch (error) {
    throw new Error(`fetchWeights(${url}): download interrupted after ${received} bytes (kept in ${partPath}; call again to resume): ${(error as Error).message}`);
  } finally {
    await handle.close();
  }
  if (total !== undefined && received !== total) {
    throw new Error(`fetchWeights(${url}): download interrupted after ${received} of ${total} bytes (kept in ${partPath}; call again to resume)`);
  }
  if (expected !== undefined) {
    const actual = await sha256OfFile(partPath);
    if (actual !== expected) {
      await rm(partPath);
      throw new ChecksumMismatchError(url, expected, actual);
    }
  }
  await rename(partPath, finalPath);
  return finalPath;
}
