/** Builds safetensors bytes by hand (independent of the parser under test). */
export function makeSafetensors(tensors: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let at = 8 + json.byteLength;
  for (const t of Object.values(tensors)) {
    out.set(t.bytes, at);
    at += t.bytes.byteLength;
  }
  return out;
}

export const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

