// Loads the reference fixtures written by fixtures/make_fixtures.py (NumPy / scikit-learn).
import { readFileSync } from 'node:fs';

const fixturePath = (name: string): URL => new URL(`../fixtures/${name}`, import.meta.url);

export function loadJson<T>(name: string): T {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8')) as T;
}

export function loadFloat16Fixture(): { float32Bits: Uint32Array; halfBits: Uint16Array; decodedBits: Uint32Array } {
  const bytes = readFileSync(fixturePath('float16.bin'));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  let offset = 4;
  const float32Bits = new Uint32Array(count);
  for (let i = 0; i < count; i++, offset += 4) float32Bits[i] = view.getUint32(offset, true);
  const halfBits = new Uint16Array(count);
  for (let i = 0; i < count; i++, offset += 2) halfBits[i] = view.getUint16(offset, true);
  const decodedBits = new Uint32Array(65536);
  for (let i = 0; i < 65536; i++, offset += 4) decodedBits[i] = view.getUint32(offset, true);
  if (offset !== bytes.byteLength) throw new Error(`float16.bin: read ${offset} of ${bytes.byteLength} bytes`);
  return { float32Bits, halfBits, decodedBits };
}

export interface SearchFixture {
  cosine: { keyShape: number[]; keys: number[]; queries: number[]; k: number; indices: number[][]; distances: number[][] };
  euclidean: { dim: number; bank: number[]; queries: number[]; k: number; indices: number[][]; distances: number[][] };
  pooled: { keyShape: number[]; pooling: number; keys: number[]; queries: number[]; k: number; indices: number[][]; distances: number[][] };
}

export interface KCenterFixture {
  plain: { n: number; dim: number; features: number[]; start: number; count: number; selected: number[] };
  projected: { n: number; dim: number; projDim: number; features: number[]; projection: number[]; start: number; count: number; selected: number[] };
}
