// The bad-input corpus of issue 14, generated at test time and run end to end: every file goes from disk
// through the loaders into a trained model. Each bad file must fail with the exact error class and a
// message naming the file (or the field), and every failing path that touches tensors runs through
// expectNoLeak. Unusual but valid files (16-bit, palette, gray, gray+alpha, RGBA, 1-bit, mixed sizes)
// must load to the right RGB and predict. Cases already held elsewhere are not repeated here:
// symlinks and loops, missing/mis-sized/colour/LOCO masks, the image size limit (data/test/reliability.test.ts,
// data/test/loader.test.ts); missing manifest fields, checkpoint checksums, resume (model/test/reliability.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { encodePng, type RgbImage } from '@thfr/data';
import { loadCategory, readImageFile, writeSyntheticCategory } from '@thfr/data/node';
import { loadModelFromUrl, resolveConfig, trainThfr, type ThfrConfig, type ThfrModel, type TrainingCheckpoint } from '../src/index.js';
import { CHECKPOINT_FORMAT_VERSION, ManifestFieldError, loadCheckpoint, loadModel, saveCheckpoint, saveModel } from '../src/node.js';
import { MODEL_FORMAT_VERSION } from '../src/serialization.js';

const backbone = tinyBackbone();
const tiny: Partial<ThfrConfig> = { imageSize: 64, decoderBlocks: [1, 1, 1], epochs: 1, batchSize: 4, seed: 3 };
let dir: string;
let model: ThfrModel;
let modelDir: string;

type ErrorClass = new (...args: never[]) => Error;

/** Awaits `call`, which must throw an instance of exactly `cls` whose message contains (or matches) `message`. */
async function failsWith(call: () => Promise<unknown>, cls: ErrorClass, message: string | RegExp): Promise<void> {
  const error = await call().then(() => undefined, (e: unknown) => e);
  expect(error, `expected ${cls.name}: ${String(message)}`).toBeInstanceOf(Error);
  expect((error as Error).constructor, (error as Error).message).toBe(cls);
  if (typeof message === 'string') expect((error as Error).message).toContain(message);
  else expect((error as Error).message).toMatch(message);
}

/** failsWith, run once and then three more times under expectNoLeak (tensors are involved). */
async function failsWithoutLeak(what: string, call: () => Promise<unknown>, cls: ErrorClass, message: string | RegExp): Promise<void> {
  await expectNoLeak(() => failsWith(call, cls, message), 3, what);
}

// --- a small PNG writer for the colour types and bit depths encodePng does not write ---------------------
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A PNG of raw scanlines (filter 0): `row(y)` returns the packed bytes of row y. */
function rawPng(width: number, height: number, bitDepth: number, colorType: number, row: (y: number) => Uint8Array, palette?: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([bitDepth, colorType, 0, 0, 0], 8);
  const rows: number[] = [];
  for (let y = 0; y < height; y++) rows.push(0, ...row(y));
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), ...(palette ? [chunk('PLTE', palette)] : []), chunk('IDAT', deflateSync(new Uint8Array(rows))), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An 8x6 test pattern and the RGB every valid encoding of it must decode to. */
const W = 8;
const H = 6;
const grayAt = (x: number, y: number) => (x * 29 + y * 41) % 256;
const rgbAt = (x: number, y: number) => [grayAt(x, y), (x * 13 + 7) % 256, (y * 53 + 100) % 256];
const expectedRgb = (f: (x: number, y: number) => number[]) => Uint8Array.from({ length: W * H * 3 }, (_, i) => f(Math.floor(i / 3) % W, Math.floor(i / 3 / W))[i % 3]);

const VALID: Array<{ name: string; bytes: () => Uint8Array; rgb: Uint8Array }> = [
  { name: 'rgb16.png', rgb: expectedRgb(rgbAt), bytes: () => rawPng(W, H, 16, 2, (y) => Uint8Array.from({ length: W * 6 }, (_, i) => (i % 2 === 0 ? rgbAt(Math.floor(i / 6), y)[Math.floor(i / 2) % 3] : 0xab))) },
  { name: 'gray16.png', rgb: expectedRgb((x, y) => [grayAt(x, y), grayAt(x, y), grayAt(x, y)]), bytes: () => rawPng(W, H, 16, 0, (y) => Uint8Array.from({ length: W * 2 }, (_, i) => (i % 2 === 0 ? grayAt(i / 2, y) : 0x11))) },
  { name: 'palette.png', rgb: expectedRgb((x, y) => [(x + y) * 10, 255 - (x + y) * 10, 77]), bytes: () => rawPng(W, H, 8, 3, (y) => Uint8Array.from({ length: W }, (_, x) => x + y), Uint8Array.from({ length: 16 * 3 }, (_, i) => [Math.floor(i / 3) * 10, 255 - Math.floor(i / 3) * 10, 77][i % 3])) },
  { name: 'gray8.png', rgb: expectedRgb((x, y) => [grayAt(x, y), grayAt(x, y), grayAt(x, y)]), bytes: () => rawPng(W, H, 8, 0, (y) => Uint8Array.from({ length: W }, (_, x) => grayAt(x, y))) },
  { name: 'gray-alpha.png', rgb: expectedRgb((x, y) => [grayAt(x, y), grayAt(x, y), grayAt(x, y)]), bytes: () => rawPng(W, H, 8, 4, (y) => Uint8Array.from({ length: W * 2 }, (_, i) => (i % 2 === 0 ? grayAt(i / 2, y) : 3))) },
  { name: 'rgba.png', rgb: expectedRgb(rgbAt), bytes: () => rawPng(W, H, 8, 6, (y) => Uint8Array.from({ length: W * 4 }, (_, i) => (i % 4 === 3 ? 0 : rgbAt(Math.floor(i / 4), y)[i % 4]))) },
  { name: 'gray1.png', rgb: expectedRgb((x, y) => Array(3).fill((x + y) % 2 ? 255 : 0)), bytes: () => rawPng(W, H, 1, 0, (y) => new Uint8Array([[0x55, 0xaa][y % 2]])) },
];

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'thfr-corpus-'));
  model = (await trainThfr(backbone, toyImages(6, 64, 5), { config: tiny })).model;
  modelDir = join(dir, 'model');
  await saveModel(model, modelDir);
});
afterAll(async () => {
  model?.dispose();
  backbone.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('image files, read and predicted', () => {
  /** Reads a file and predicts it: the path a user's image takes (thfr predict, examples/node). */
  const readAndPredict = (path: string) => async () => model.predict([await readImageFile(path)]);

  it('16-bit, palette, gray, gray+alpha, RGBA and 1-bit PNGs decode to the right RGB and predict without leaking', async () => {
    for (const c of VALID) {
      const path = join(dir, c.name);
      await writeFile(path, c.bytes());
      const image = await readImageFile(path);
      expect({ name: c.name, width: image.width, height: image.height }).toEqual({ name: c.name, width: W, height: H });
      expect(Array.from(image.data), c.name).toEqual(Array.from(c.rgb));
      await expectNoLeak(readAndPredict(path), 2, `predict ${c.name}`);
    }
  });

  it('images of mixed sizes in one call are each resized, and predict like the same images one by one', async () => {
    const sizes: Array<[number, number]> = [[64, 64], [100, 37], [8, 6], [257, 300]];
    const images: RgbImage[] = sizes.map(([w, h], k) => ({ width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * (k + 3)) % 251) }));
    const together = await model.predict(images);
    for (let k = 0; k < images.length; k++) expect(together.scores[k]).toBeCloseTo((await model.predict([images[k]])).scores[0], 4);
    await expectNoLeak(() => model.predict(images), 2, 'predict(mixed sizes)');
  });

  it('truncated, zero-byte, wrong-magic, corrupt, huge-header, missing and non-file inputs are named, with the exact class', async () => {
    const png = encodePng({ width: 16, height: 16, data: new Uint8Array(16 * 16 * 3).fill(90) });
    const photo = await readFile(join(import.meta.dirname, '..', '..', 'data', 'fixtures', 'photo.jpg'));
    const huge = png.slice();
    new DataView(huge.buffer).setUint32(16, 20000);
    new DataView(huge.buffer).setUint32(20, 20000);
    const corrupt = png.slice();
    corrupt[40] ^= 0xff;
    const zeroWidth = rawPng(0, 1, 8, 0, () => new Uint8Array(0));
    const badDepth = rawPng(2, 2, 5, 2, () => new Uint8Array(6)); // bit depth 5 does not exist
    const cases: Array<[string, Uint8Array, ErrorClass, (path: string) => string | RegExp]> = [
      ['truncated.png', png.subarray(0, 45), Error, (p) => `${p}: truncated PNG`],
      ['truncated.jpg', photo.subarray(0, Math.floor(photo.length * 0.7)), Error, (p) => `${p}: truncated JPEG`],
      ['zero.png', new Uint8Array(0), Error, (p) => `${p}: empty file (expected a PNG or JPEG image)`],
      ['zero.jpg', new Uint8Array(0), Error, (p) => `${p}: empty file`],
      ['gif.png', new TextEncoder().encode('GIF89a\x01\x00\x01\x00'), Error, (p) => `${p}: not a PNG or JPEG file (unrecognised signature)`],
      ['bitmap.jpg', new TextEncoder().encode('BM6\x00\x00\x00'), Error, (p) => `${p}: not a PNG or JPEG file`],
      ['html.png', new TextEncoder().encode('<!doctype html><title>404</title>'), Error, (p) => `${p}: not a PNG or JPEG file`],
      ['corrupt.png', corrupt, Error, (p) => `${p}: corrupt PNG`],
      ['huge.png', huge, RangeError, (p) => `${p}: PNG of 20000x20000 = 400000000 pixels exceeds the limit of 268435456 pixels`],
      ['zero-width.png', zeroWidth, Error, (p) => `${p}: corrupt PNG (image size 0x1)`],
      ['bad-depth.png', badDepth, Error, (p) => `${p}: corrupt PNG (bit depth 5 is invalid for colour type 2)`],
    ];
    for (const [name, bytes, cls, message] of cases) {
      const path = join(dir, name);
      await writeFile(path, bytes);
      await failsWithoutLeak(name, readAndPredict(path), cls, message(path));
    }
    await failsWithoutLeak('missing file', readAndPredict(join(dir, 'nope.png')), Error, `Image not found: ${join(dir, 'nope.png')}`);
    await mkdir(join(dir, 'folder.png'));
    await failsWith(readAndPredict(join(dir, 'folder.png')), Error, `Image is a directory, expected a file: ${join(dir, 'folder.png')}`);
    await symlink(join(dir, 'gone.png'), join(dir, 'dangling.png'));
    await failsWith(readAndPredict(join(dir, 'dangling.png')), Error, `Dangling symlink: ${join(dir, 'dangling.png')} -> ${join(dir, 'gone.png')}`);
    await symlink(join(dir, 'loop-b.png'), join(dir, 'loop-a.png'));
    await symlink(join(dir, 'loop-a.png'), join(dir, 'loop-b.png'));
    await failsWith(readAndPredict(join(dir, 'loop-a.png')), Error, `Symlink loop: ${join(dir, 'loop-a.png')}`);
  });

  it('a category of mixed image sizes and colour types loads at imageSize and predicts; a bad file in it is named', async () => {
    const root = await writeSyntheticCategory(join(dir, 'mixed'), { kind: 'ad', name: 'mixed', seed: 2, trainCount: 4, testCount: 3, size: 48 });
    await writeFile(join(root, 'train', 'good', '000.png'), VALID[0].bytes()); // 8x6, 16-bit
    await writeFile(join(root, 'train', 'good', '001.png'), VALID[2].bytes()); // palette
    await writeFile(join(root, 'train', 'good', '002.png'), encodePng({ width: 90, height: 30, data: new Uint8Array(90 * 30 * 3).fill(128) }));
    const data = await loadCategory(root, { imageSize: 64 });
    expect(data.train.map((r) => [r.originalWidth, r.originalHeight])).toEqual([[8, 6], [8, 6], [90, 30], [48, 48]]);
    expect(data.train.every((r) => r.image.width === 64 && r.image.height === 64)).toBe(true);
    await expectNoLeak(() => model.predict(data.train.map((r) => r.image)), 2, 'predict(mixed category)');
    const bad = join(root, 'train', 'good', '003.png');
    await writeFile(bad, new Uint8Array(0));
    await failsWithoutLeak('category with a zero-byte image', async () => model.predict((await loadCategory(root, { imageSize: 64 })).train.map((r) => r.image)), Error, `${bad}: empty file`);
  });
});

describe('model folders', () => {
  /** A copy of the saved model with `edit` applied to its manifest (or its files). */
  async function variant(name: string, edit: (manifest: Record<string, any>, dir: string) => Promise<unknown> | unknown): Promise<string> {
    const out = join(dir, 'variants', name);
    await cp(modelDir, out, { recursive: true });
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const replaced = await edit(manifest, out);
    if (replaced !== false) await writeFile(join(out, 'manifest.json'), typeof replaced === 'string' ? replaced : JSON.stringify(manifest));
    return out;
  }
  const load = (path: string) => () => loadModel(path, backbone).then((m) => m.dispose());

  it('loads and predicts (the reference for the cases below)', async () => {
    await expectNoLeak(async () => {
      const loaded = await loadModel(modelDir, backbone);
      try {
        expect(Array.from((await loaded.predict(toyImages(2, 64, 9))).scores)).toEqual(Array.from((await model.predict(toyImages(2, 64, 9))).scores));
      } finally {
        loaded.dispose();
      }
    }, 2, 'loadModel + predict');
  });

  it('a zero-byte, non-JSON, null, foreign-format or future-version manifest names the file', async () => {
    const m = (name: string) => join(dir, 'variants', name, 'manifest.json');
    await failsWith(load(await variant('zero', () => '')), Error, `${m('zero')} is not valid JSON`);
    await failsWith(load(await variant('html', () => '<!doctype html>')), Error, `${m('html')} is not valid JSON`);
    await failsWith(load(await variant('null', () => 'null')), Error, `${m('null')} is not a THFR model manifest (format 'missing', expected 'thfr-model')`);
    await failsWith(load(await variant('patchcore', (j) => { j.format = 'thfr-patchcore'; })), Error, `${m('patchcore')} is not a THFR model manifest (format 'thfr-patchcore', expected 'thfr-model')`);
    const future = MODEL_FORMAT_VERSION + 1;
    await failsWith(load(await variant('future', (j) => { j.version = future; })), Error, `${m('future')} has model format version ${future}; this @thfr/model reads version ${MODEL_FORMAT_VERSION}`);
    await failsWith(load(await variant('tensor-shape', (j) => { j.weights.tensors[0].shape = 'x'; })), ManifestFieldError, `${m('tensor-shape')}: field 'weights.tensors[0].shape'`);
    await failsWith(load(await variant('bank-ref', (j) => { j.bank.bytes = -4; })), ManifestFieldError, `${m('bank-ref')}: field 'bank.bytes'`);
    await failsWith(load(await variant('no-manifest', (_, d) => rm(join(d, 'manifest.json')).then(() => false))), Error, `${join(dir, 'variants', 'no-manifest')} is not a saved THFR model: ${m('no-manifest')} is missing`);
  });

  it('truncated, altered, missing or mis-described weight and bank files are refused without leaking', async () => {
    const file = (name: string, f: string) => join(dir, 'variants', name, f);
    const cut = await variant('cut', async (_, d) => { await writeFile(join(d, 'weights.bin'), (await readFile(join(d, 'weights.bin'))).subarray(0, 100)); return false; });
    await failsWithoutLeak('truncated weights.bin', load(cut), Error, new RegExp(`^${escape(file('cut', 'weights.bin'))} has 100 bytes, the manifest says \\d+ \\(truncated or replaced file\\)`));
    const flipped = await variant('flipped', async (_, d) => { const b = await readFile(join(d, 'bank.bin')); b[b.length >> 1] ^= 1; await writeFile(join(d, 'bank.bin'), b); return false; });
    await failsWithoutLeak('altered bank.bin', load(flipped), Error, `${file('flipped', 'bank.bin')}: checksum mismatch`);
    const missing = await variant('missing', (_, d) => rm(join(d, 'weights.bin')).then(() => false));
    await failsWithoutLeak('missing weights.bin', load(missing), Error, `${file('missing', 'weights.bin')} is missing (named in ${file('missing', 'manifest.json')})`);
    // The manifest describes a tensor with another element count than the bytes hold.
    const count = await variant('count', (j) => { j.weights.tensors[0].shape = [1, 2, 3, 4, 5, 6, 7]; });
    await failsWithoutLeak('mis-described tensor', load(count), Error, new RegExp(`^${escape(file('count', 'weights.bin'))}: entry '[\\w.]+' declares \\d+ bytes of float32 for shape \\[1,2,3,4,5,6,7\\]`));
    // Same element count, another shape: the network names the tensor that does not fit.
    const shape = await variant('shape', (j) => { const t = j.weights.tensors.find((e: { shape: number[] }) => e.shape.length === 4 && e.shape[0] !== e.shape[3]); t.shape = [...t.shape].reverse(); });
    await failsWithoutLeak('tensor of the wrong shape', load(shape), Error, new RegExp(`^${escape(file('shape', 'weights.bin'))} does not match the architecture: '[\\w.]+' has shape \\[[\\d,]+\\], expected \\[[\\d,]+\\]`));
    const other = tinyBackbone([8, 12, 16], 99);
    try {
      await failsWithoutLeak('another backbone', () => loadModel(modelDir, other).then((m) => m.dispose()), Error, `${modelDir} was trained with backbone`);
    } finally {
      other.dispose();
    }
  });

  it('loadModelFromUrl: a missing model or an HTML answer says "model not found at URL"; a bad file names its URL', async () => {
    const base = 'https://models.example/m/';
    const serve = (root: string, html = false): typeof fetch => (async (url: string | URL | Request) => {
      const path = String(url).slice(base.length);
      if (html) return new Response('<!doctype html><html>app</html>', { status: 200 });
      try {
        return new Response(await readFile(join(root, path)), { status: 200 });
      } catch {
        return new Response('not found', { status: 404 });
      }
    }) as typeof fetch;
    await failsWithoutLeak('404', () => loadModelFromUrl(base, backbone, { fetch: serve(join(dir, 'nowhere')) }), Error, `model not found at ${base} (${base}manifest.json: HTTP 404)`);
    await failsWithoutLeak('HTML fallback', () => loadModelFromUrl(base, backbone, { fetch: serve(modelDir, true) }), Error, `model not found at ${base}: ${base}manifest.json is not JSON (it starts with "<!doctype html>`);
    const cut = join(dir, 'variants', 'cut');
    await failsWithoutLeak('truncated weights over HTTP', () => loadModelFromUrl(base, backbone, { fetch: serve(cut) }), Error, `${base.replace(/\/$/, '')}/weights.bin has 100 bytes`);
    const remote = await loadModelFromUrl(base, backbone, { fetch: serve(modelDir) });
    try {
      expect(Array.from((await remote.predict(toyImages(2, 64, 9))).scores)).toEqual(Array.from((await model.predict(toyImages(2, 64, 9))).scores));
    } finally {
      remote.dispose();
    }
  });
});

describe('checkpoint folders', () => {
  const checkpoint = (): TrainingCheckpoint => ({
    epoch: 2, config: resolveConfig(tiny), randomState: 7, lossHistory: [0.5, 0.4],
    weights: new Map([['w', tf.tensor1d([1, 2, 3, 4])]]), optimizer: [{ name: 'w/m', tensor: tf.tensor1d([0.1, 0.2, 0.3, 0.4]) }],
  });
  let ckpt: string;
  beforeAll(async () => {
    const c = checkpoint();
    ckpt = join(dir, 'ckpt');
    await saveCheckpoint(c, ckpt);
    tf.dispose([...c.weights.values(), c.optimizer[0].tensor]);
  });
  async function variant(name: string, edit: (json: Record<string, any>, dir: string) => Promise<unknown> | unknown): Promise<string> {
    const out = join(dir, 'ckpt-variants', name);
    await cp(ckpt, out, { recursive: true });
    const json = JSON.parse(await readFile(join(out, 'checkpoint.json'), 'utf8'));
    const replaced = await edit(json, out);
    if (replaced !== false) await writeFile(join(out, 'checkpoint.json'), typeof replaced === 'string' ? replaced : JSON.stringify(json));
    return out;
  }
  const load = (path: string) => async () => {
    const c = await loadCheckpoint(path);
    tf.dispose([...c.weights.values(), ...c.optimizer.map((o) => o.tensor)]);
  };
  const file = (name: string) => join(dir, 'ckpt-variants', name, 'checkpoint.json');

  it('a zero-byte, non-JSON, foreign, future-version or mistyped checkpoint.json names the file and field', async () => {
    await expectNoLeak(load(ckpt), 2, 'loadCheckpoint');
    await failsWith(load(await variant('zero', () => '')), Error, `${file('zero')} is not valid JSON`);
    await failsWith(load(await variant('text', () => 'epoch=3')), Error, `${file('text')} is not valid JSON`);
    await failsWith(load(await variant('model', (j) => { j.format = 'thfr-model'; })), Error, `${file('model')} is not a THFR checkpoint (format 'thfr-model', expected 'thfr-checkpoint')`);
    const future = CHECKPOINT_FORMAT_VERSION + 1;
    await failsWith(load(await variant('future', (j) => { j.version = future; })), Error, `${file('future')} has checkpoint format version ${future}; this @thfr/restoration reads version ${CHECKPOINT_FORMAT_VERSION}`);
    await failsWith(load(await variant('loss', (j) => { j.lossHistory = [0.5, 'x']; })), ManifestFieldError, `${file('loss')}: field 'lossHistory'`);
  });

  it('a missing or mis-described binary is refused without leaking', async () => {
    const missing = await variant('missing', (_, d) => rm(join(d, 'optimizer.bin')).then(() => false));
    await failsWithoutLeak('missing optimizer.bin', load(missing), Error, `${join(missing, 'optimizer.bin')} is missing (named in ${file('missing')})`);
    const shape = await variant('shape', (j) => { j.weights.tensors[0].shape = [5]; });
    await failsWithoutLeak('mis-described checkpoint tensor', load(shape), Error, `${join(shape, 'weights.bin')}: entry 'w' declares 16 bytes of float32 for shape [5]`);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
