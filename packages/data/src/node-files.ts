// Node file helpers shared by the loader and the writer.
import { readdir, readFile, stat } from 'node:fs/promises';

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

/** Image file names in `dir`, sorted (numeric-aware, so 2.png < 10.png). */
export async function listImages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && isImageName(e.name) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(naturalCompare);
}

export async function listSubdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(naturalCompare);
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
