import type { ResolvedKeyReduction } from './key-reduction.js';

export type TemplateStorage = 'float32' | 'float16';

export const MANIFEST_FORMAT = 'thfr-template-bank';
export const MANIFEST_VERSION = 1;

export interface BufferSection {
  name: string;
  dtype: 'float32' | 'float16';
  byteOffset: number;
  byteLength: number;
}

/** JSON-safe description of a serialised bank; the numbers live in one binary buffer. */
export interface TemplateBankManifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  size: number;
  keyDim: number;
  /** Per-image shape of the keys the bank was built from (queries must have it). */
  keyInputShape: number[];
  keyReduction: ResolvedKeyReduction;
  storage: TemplateStorage;
  levels: Array<{ name: string; shape: number[] }>;
  /** For each template, its index in the bank it was first built from (changed by subsample/subset). */
  sourceIndices: number[];
  /** 'keys' (float32, L2-normalised, [size, keyDim]) then one section per level ([size, H, W, C]). */
  sections: BufferSection[];
  byteLength: number;
}

/** The plain-array form of a bank that serialisation reads and writes. */
export interface BankData {
  keyInputShape: number[];
  keyReduction: ResolvedKeyReduction;
  keyDim: number;
  size: number;
  storage: TemplateStorage;
  keys: Float32Array;
  levels: Array<{ name: string; shape: number[]; data: Float32Array | Uint16Array }>;
  sourceIndices: Int32Array;
}

const align4 = (n: number): number => (n + 3) & ~3;

export function encodeBank(data: BankData): { manifest: TemplateBankManifest; buffer: Uint8Array } {
  const arrays: Array<{ name: string; array: Float32Array | Uint16Array }> = [{ name: 'keys', array: data.keys }, ...data.levels.map((l) => ({ name: `level:${l.name}`, array: l.data }))];
  const sections: BufferSection[] = [];
  let offset = 0;
  for (const { name, array } of arrays) {
    sections.push({ name, dtype: array instanceof Float32Array ? 'float32' : 'float16', byteOffset: offset, byteLength: array.byteLength });
    offset = align4(offset + array.byteLength);
  }
  const buffer = new Uint8Array(offset);
  arrays.forEach(({ array }, i) => buffer.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), sections[i].byteOffset));
  const manifest: TemplateBankManifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    size: data.size,
    keyDim: data.keyDim,
    keyInputShape: [...data.keyInputShape],
    keyReduction: { ...data.keyReduction },
    storage: data.storage,
    levels: data.levels.map((l) => ({ name: l.name, shape: [...l.shape] })),
    sourceIndices: Array.from(data.sourceIndices),
    sections,
    byteLength: offset,
  };
  return { manifest, buffer };
}

function fail(message: string): never {
  throw new Error(`template bank manifest: ${message}`);
}

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

export function decodeBank(manifestInput: unknown, bufferInput: ArrayBuffer | ArrayBufferView): BankData {
  const m = (typeof manifestInput === 'string' ? JSON.parse(manifestInput) : manifestInput) as Partial<TemplateBankManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== MANIFEST_FORMAT) fail(`expected format '${MANIFEST_FORMAT}', got ${JSON.stringify(m && (m as { format?: unknown }).format)}`);
  if (m.version !== MANIFEST_VERSION) fail(`unsupported version ${JSON.stringify(m.version)} (this library reads version ${MANIFEST_VERSION})`);
  if (!isPositiveInt(m.size) || !isPositiveInt(m.keyDim)) fail(`size and keyDim must be positive integers, got ${m.size} and ${m.keyDim}`);
  if (m.storage !== 'float32' && m.storage !== 'float16') fail(`storage must be 'float32' or 'float16', got ${JSON.stringify(m.storage)}`);
  if (!Array.isArray(m.keyInputShape) || !m.keyInputShape.every(isPositiveInt)) fail('keyInputShape must be an array of positive integers');
  if (!m.keyReduction || typeof m.keyReduction !== 'object') fail('keyReduction is missing');
  if (!Array.isArray(m.levels) || !Array.isArray(m.sections) || m.sections.length !== m.levels.length + 1) fail('expected one buffer section for the keys and one per level');
  if (!Array.isArray(m.sourceIndices) || m.sourceIndices.length !== m.size) fail(`sourceIndices must list ${m.size} indices`);

  const bytes = bufferInput instanceof ArrayBuffer ? new Uint8Array(bufferInput) : new Uint8Array(bufferInput.buffer, bufferInput.byteOffset, bufferInput.byteLength);
  if (bytes.byteLength !== m.byteLength) fail(`buffer has ${bytes.byteLength} bytes but the manifest describes ${m.byteLength}`);

  const read = (index: number, expectedElements: number, dtype: 'float32' | 'float16'): Float32Array | Uint16Array => {
    const s = (m.sections as BufferSection[])[index];
    const bytesPerElement = dtype === 'float32' ? 4 : 2;
    if (s.dtype !== dtype) fail(`section '${s.name}' has dtype ${s.dtype}, expected ${dtype}`);
    if (s.byteLength !== expectedElements * bytesPerElement) fail(`section '${s.name}' has ${s.byteLength} bytes, expected ${expectedElements * bytesPerElement}`);
    if (s.byteOffset < 0 || s.byteOffset % 4 !== 0 || s.byteOffset + s.byteLength > bytes.byteLength) fail(`section '${s.name}' lies outside the ${bytes.byteLength}-byte buffer`);
    // Copy: the caller keeps the buffer, and its offset may not be aligned for a typed-array view.
    const copy = bytes.slice(s.byteOffset, s.byteOffset + s.byteLength);
    return dtype === 'float32' ? new Float32Array(copy.buffer) : new Uint16Array(copy.buffer);
  };

  const keys = read(0, m.size * m.keyDim, 'float32') as Float32Array;
  const levels = m.levels.map((level, i) => {
    if (!Array.isArray(level.shape) || level.shape.length !== 3 || !level.shape.every(isPositiveInt)) fail(`level '${level.name}' shape must be [H, W, C], got ${JSON.stringify(level.shape)}`);
    const elements = (m.size as number) * level.shape[0] * level.shape[1] * level.shape[2];
    return { name: String(level.name), shape: [...level.shape], data: read(i + 1, elements, m.storage as TemplateStorage) };
  });
  return {
    keyInputShape: [...m.keyInputShape],
    keyReduction: { ...m.keyReduction },
    keyDim: m.keyDim,
    size: m.size,
    storage: m.storage,
    keys,
    levels,
    sourceIndices: Int32Array.from(m.sourceIndices),
  };
}
