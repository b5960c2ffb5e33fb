import { tf } from '@thfr/tensor';

/** Where one named tensor lives inside a packed binary file. */
export interface PackedTensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  offset: number;
  bytes: number;
}

/** Packs named tensors into one little-endian float32 buffer plus an index (like tfjs' weightsManifest). */
export async function packTensors(tensors: Iterable<[string, tf.Tensor]>): Promise<{ entries: PackedTensorEntry[]; buffer: Uint8Array }> {
  const list = [...tensors];
  const entries: PackedTensorEntry[] = [];
  let offset = 0;
  for (const [name, t] of list) {
    entries.push({ name, shape: t.shape, dtype: 'float32', offset, bytes: t.size * 4 });
    offset += t.size * 4;
  }
  const buffer = new Uint8Array(offset);
  for (let i = 0; i < list.length; i++) {
    const data = await list[i][1].data();
    buffer.set(new Uint8Array(Float32Array.from(data as Float32Array).buffer), entries[i].offset);
  }
  return { entries, buffer };
}

/** The inverse of packTensors; `what` names the file in errors. Caller owns the tensors. */
export function unpackTensors(entries: PackedTensorEntry[], buffer: Uint8Array, what: string): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const entry of entries) {
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.dtype !== 'float32' || entry.bytes !== count * 4) {
      out.forEach((t) => t.dispose());
      throw new Error(`${what}: entry '${entry.name}' declares ${entry.bytes} bytes of ${entry.dtype} for shape [${entry.shape}]`);
    }
    if (entry.offset + entry.bytes > buffer.byteLength) {
      out.forEach((t) => t.dispose());
      throw new Error(`${what} is truncated: '${entry.name}' needs bytes ${entry.offset}..${entry.offset + entry.bytes}, the file has ${buffer.byteLength}`);
    }
    const copy = buffer.slice(entry.offset, entry.offset + entry.bytes);
    out.set(entry.name, tf.tensor(new Float32Array(copy.buffer), entry.shape, 'float32'));
  }
  return out;
}
