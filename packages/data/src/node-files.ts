// Node file helpers shared by the loader and the writer. Symlinked files and folders are followed;
// a dangling link or a loop of links is an error naming the link.
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_IMAGE_PIXELS } from './image-limits.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Why a symlink cannot be followed: an error naming the link and its target. */
async function brokenLinkError(path: string, error: NodeJS.ErrnoException): Promise<Error> {
  const target = await readlink(path).catch(() => '?');
  if (error.code === 'ELOOP') return new Error(`Symlink loop: ${path} -> ${target} never reaches a file or folder`);
  if (error.code === 'ENOENT') return new Error(`Dangling symlink: ${path} -> ${target} (the target does not exist)`);
  return new Error(`Symlink ${path} -> ${target} cannot be followed (${error.message})`);
}

/** What an entry is once symlinks are followed. */
async function entryKind(dir: string, entry: Dirent): Promise<'file' | 'dir' | 'other'> {
  if (!entry.isSymbolicLink()) return entry.isFile() ? 'file' : entry.isDirectory() ? 'dir' : 'other';
  const path = join(dir, entry.name);
  try {
    const s = await stat(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch (error) {
    throw await brokenLinkError(path, error as NodeJS.ErrnoException);
  }
}

/** If `path` is a symlink that cannot be followed, the error that says so (else undefined). */
export async function brokenLink(path: string): Promise<Error | undefined> {
  try {
    if (!(await lstat(path)).isSymbolicLink()) return undefined;
    await stat(path);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !(await lstat(path).then(() => true, () => false))) return undefined;
    return brokenLinkError(path, error as NodeJS.ErrnoException);
  }
}

/** Image file names in `dir` (symlinked files included), sorted numeric-aware, so 2.png < 10.png. */
export async function listImages(dir: string): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => isImageName(e.name) && !e.name.startsWith('.'));
  const kinds = await Promise.all(entries.map((e) => entryKind(dir, e)));
  return entries.filter((_, i) => kinds[i] === 'file').map((e) => e.name).sort(naturalCompare);
}

/** Folder names in `dir` (symlinked folders included), sorted. */
export async function listSubdirectories(dir: string): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  const kinds = await Promise.all(entries.map((e) => entryKind(dir, e)));
  return entries.filter((_, i) => kinds[i] === 'dir').map((e) => e.name).sort(naturalCompare);
}

/** The image size limit in Node: THFR_MAX_IMAGE_PIXELS if set (a positive integer), else the default. */
export function maxImagePixelsFromEnv(): number {
  const raw = process.env.THFR_MAX_IMAGE_PIXELS;
  if (raw === undefined || raw === '') return DEFAULT_MAX_IMAGE_PIXELS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`THFR_MAX_IMAGE_PIXELS must be a positive integer, got '${raw}'`);
  return value;
}

export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Reads a file; a missing file gets an error that names it and says what it was for. */
export async function readFileNamed(path: string, what: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') {
      const broken = await brokenLink(path); // a dangling link or a loop is named as such
      if (broken) throw broken;
    }
    if (code === 'ENOENT') throw new Error(`${what} not found: ${path}`);
    if (code === 'EISDIR') throw new Error(`${what} is a directory, expected a file: ${path}`);
    throw new Error(`${what} could not be read: ${path} (${(e as Error).message})`);
  }
}

/** Runs `task` over `items` with at most `limit` in flight, keeping the order of results. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
