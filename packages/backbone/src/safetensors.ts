/**
 * A reader of the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}`, then the
 * raw little-endian tensor bytes (offsets relative to the end of the header). Floating dtypes decode to float32.
 */

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL' | string;

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range inside the data section. */
  begin: number;
  end: number;
}

/** Thrown for a file that is not valid safetensors (bad header, truncated data, inconsistent sizes). */
export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
}

const BYTES_PER_ELEMENT: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
export const FLOAT_DTYPES: readonly string[] = ['F64', 'F32', 'F16', 'BF16'];

/** A parsed safetensors file: the entries of its header and lazy float32 decoding of its floating tensors. */
export class SafetensorsFile {
  readonly entries: Map<string, SafetensorsEntry>;
  readonly metadata: Record<string, string>;
  private readonly data: Uint8Array;

  constructor(bytes: ArrayBuffer | Uint8Array, readonly source = 'safetensors data') {
    const all = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    if (all.byteLength < 8) throw new SafetensorsError(`${source}: truncated: ${all.byteLength} bytes, a safetensors file starts with an 8-byte header length`);
    const view = new DataView(all.buffer, all.byteOffset, all.byteLength);
    const headerLength = Number(view.getBigUint64(0, true));
    if (headerLength > all.byteLength - 8) {
      throw new SafetensorsError(`${source}: bad header: header length ${headerLength} exceeds the ${all.byteLength - 8} bytes after it (truncated file or not safetensors)`);
    }
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(new TextDecoder().decode(all.subarray(8, 8 + headerLength)));
    } catch (error) {
      throw new SafetensorsError(`${source}: bad header: not JSON (${(error as Error).message})`);
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError(`${source}: bad header: expected a JSON object`);
    this.data = all.subarray(8 + headerLength);
    this.metadata = (header.__metadata__ as Record<string, string>) ?? {};
    this.entries = new Map();
    const problems: string[] = [];
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const shape = info?.shape;
      const offsets = info?.data_offsets;
      if (typeof info?.dtype !== 'string' || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || !Array.isArray(offsets) || offsets.length !== 2) {
        problems.push(`'${name}': malformed header entry ${JSON.stringify(raw)}`);
        continue;
      }
      const [begin, end] = offsets as number[];
      const count = (shape as number[]).reduce((a, b) => a * b, 1);
      const width = BYTES_PER_ELEMENT[info.dtype];
      if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end >= begin)) problems.push(`'${name}': bad data_offsets [${begin}, ${end}]`);
      else if (end > this.data.byteLength) problems.push(`'${name}': data [${begin}, ${end}) lies beyond the ${this.data.byteLength} data bytes (truncated file)`);
      else if (width !== undefined && end - begin !== count * width) problems.push(`'${name}': ${end - begin} bytes for ${info.dtype} shape [${(shape as number[]).join(', ')}] (expected ${count * width})`);
      else this.entries.set(name, { name, dtype: info.dtype, shape: shape as number[], begin, end });
    }
    if (problems.length > 0) throw new SafetensorsError(`${source}: ${problems.length} bad entries: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? '; ...' : ''}`);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  info(name: string): { dtype: string; shape: number[] } | undefined {
    return this.entries.get(name);
  }

  /** Decodes tensor `name` (F64/F32/F16/BF16) to a new float32 array. */
  readFloat32(name: string): Float32Array {
    const entry = this.entries.get(name);
    if (!entry) throw new SafetensorsError(`${this.source}: no tensor named '${name}'`);
    const bytes = this.data.subarray(entry.begin, entry.end);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(count);
    switch (entry.dtype) {
      case 'F32':
        for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
        break;
      case 'F64':
        for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
        break;
      case 'F16':
        for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
        break;
      case 'BF16': {
        // bfloat16 is the upper half of a float32 bit pattern.
        const bits = new Uint32Array(1);
        const asFloat = new Float32Array(bits.buffer);
        for (let i = 0; i < count; i++) {
          bits[0] = view.getUint16(2 * i, true) << 16;
          out[i] = asFloat[0];
        }
        break;
      }
      default:
        throw new SafetensorsError(`${this.source}: tensor '${name}' has dtype ${entry.dtype}, expected a floating dtype (F32, F16, BF16 or F64)`);
    }
    return out;
  }
}

/** IEEE 754 binary16 -> number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Parses safetensors bytes (the header eagerly, the tensors lazily). */
export function parseSafetensors(bytes: ArrayBuffer | Uint8Array, source?: string): SafetensorsFile {
  return new SafetensorsFile(bytes, source);
}
