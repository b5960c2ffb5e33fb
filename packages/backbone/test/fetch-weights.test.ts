import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChecksumMismatchError, fetchWeights } from '../src/node.js';
import { fetchBytes } from '../src/fetch-bytes.js';
import { loadResNetFromUrl } from '../src/resnet-loaders.js';
import '@tensorflow/tfjs-backend-cpu';
import { readParityFixture } from './fixtures.js';

const fixture = readParityFixture('resnet18_narrow');
const payload = new Uint8Array(fixture.safetensors);
const payloadSha = createHash('sha256').update(payload).digest('hex');

/** A local server: serves `payload` with Range support; `cutNext` makes the next plain GET die halfway. */
let server: Server;
let base = '';
let cutNext = false;
let ignoreRange = false;
const requests: Array<{ url: string; range?: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const range = req.headers.range;
    requests.push({ url: req.url ?? '', range });
    if (req.url === '/missing.safetensors') {
      res.writeHead(404).end();
      return;
    }
    const match = /^bytes=(\d+)-$/.exec(range ?? '');
    if (match && !ignoreRange) {
      const start = Number(match[1]);
      if (start >= payload.byteLength) {
        res.writeHead(416).end();
        return;
      }
      res.writeHead(206, { 'Content-Length': payload.byteLength - start, 'Content-Range': `bytes ${start}-${payload.byteLength - 1}/${payload.byteLength}` });
      res.end(payload.subarray(start));
      return;
    }
    res.writeHead(200, { 'Content-Length': payload.byteLength });
    if (cutNext) {
      cutNext = false;
      // Send about half, flush it, then drop the connection.
      res.write(payload.subarray(0, 150_000), () => setTimeout(() => res.destroy(), 50));
      return;
    }
    res.end(payload);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let cacheDir: string;
beforeEach(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'thfr-backbone-cache-'));
  requests.length = 0;
  cutNext = false;
  ignoreRange = false;
  return () => rmSync(cacheDir, { recursive: true, force: true });
});

describe('fetchWeights', () => {
  it('downloads, verifies the checksum, reports progress and then serves from the cache', async () => {
    const progress: Array<[number, number | undefined]> = [];
    const path = await fetchWeights(`${base}/w.safetensors`, { cacheDir, sha256: payloadSha, onProgress: (r, t) => progress.push([r, t]) });
    expect(path).toBe(join(cacheDir, 'w.safetensors'));
    expect(Buffer.compare(readFileSync(path), payload)).toBe(0);
    expect(existsSync(`${path}.part`)).toBe(false);
    expect(progress.at(-1)).toEqual([payload.byteLength, payload.byteLength]);
    await fetchWeights(`${base}/w.safetensors`, { cacheDir, sha256: payloadSha });
    expect(requests.length).toBe(1);
  });

  it('resumes an interrupted download with an HTTP Range request on the .part file', async () => {
    cutNext = true;
    await expect(fetchWeights(`${base}/w.safetensors`, { cacheDir, sha256: payloadSha })).rejects.toThrow(/download interrupted after \d+ .*call again to resume/);
    const partSize = statSync(join(cacheDir, 'w.safetensors.part')).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThan(payload.byteLength);
    const progress: number[] = [];
    const path = await fetchWeights(`${base}/w.safetensors`, { cacheDir, sha256: payloadSha, onProgress: (r) => progress.push(r) });
    expect(requests.at(-1)?.range).toBe(`bytes=${partSize}-`);
    expect(progress[0]).toBeGreaterThan(partSize);
    expect(Buffer.compare(readFileSync(path), payload)).toBe(0);
    expect(existsSync(`${path}.part`)).toBe(false);
  });

  it('restarts from zero when the server ignores the Range header', async () => {
    cutNext = true;
    await expect(fetchWeights(`${base}/w.safetensors`, { cacheDir })).rejects.toThrow(/interrupted/);
    ignoreRange = true;
    const path = await fetchWeights(`${base}/w.safetensors`, { cacheDir, sha256: payloadSha });
    expect(Buffer.compare(readFileSync(path), payload)).toBe(0);
  });

  it('throws a checksum mismatch naming both digests, and leaves nothing in the cache', async () => {
    const wrong = '0'.repeat(64);
    const error = await fetchWeights(`${base}/w.safetensors`, { cacheDir, sha256: wrong }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect((error as Error).message).toContain(`expected ${wrong}, got ${payloadSha}`);
    expect(existsSync(join(cacheDir, 'w.safetensors'))).toBe(false);
    expect(existsSync(join(cacheDir, 'w.safetensors.part'))).toBe(false);
  });

  it('reports HTTP errors and bad checksums arguments', async () => {
    await expect(fetchWeights(`${base}/missing.safetensors`, { cacheDir })).rejects.toThrow(/HTTP 404/);
    await expect(fetchWeights(`${base}/w.safetensors`, { cacheDir, sha256: 'abc' })).rejects.toThrow(/must be 64 hex digits/);
  });
});

describe('fetchBytes (browser path)', () => {
  it('streams with progress', async () => {
    const seen: number[] = [];
    const bytes = await fetchBytes(`${base}/w.safetensors`, { onProgress: (r, t) => (seen.push(r), expect(t).toBe(payload.byteLength)) });
    expect(Buffer.compare(bytes, payload)).toBe(0);
    expect(seen.at(-1)).toBe(payload.byteLength);
  });

  it('loadResNetFromUrl builds the ResNet with the sha256 identity of the fetched bytes', async () => {
    let last = 0;
    const backbone = await loadResNetFromUrl(`${base}/w.safetensors`, fixture.meta.spec, { onProgress: (r) => (last = r) });
    expect(last).toBe(payload.byteLength);
    expect(backbone.identity.weights).toBe(`sha256:${payloadSha}`);
    expect(backbone.levels.map((l) => l.channels)).toEqual([8, 16, 32]);
    backbone.dispose();
    await expect(loadResNetFromUrl(`${base}/missing.safetensors`, 'resnet18')).rejects.toThrow(/missing\.safetensors\): HTTP 404/);
  });
});
