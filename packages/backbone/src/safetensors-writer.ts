/** Writes the safetensors format (the reader is safetensors.ts): float tensors as F32 or F16. */

export interface SafetensorsTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** number -> IEEE 754 binary16 bits, rounding to nearest even; overflow gives +-Infinity. */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Encodes tensors as a safetensors file (8-byte header length, JSON header, data; 8-byte aligned header). */
export function encodeSafetensors(tensors: SafetensorsTensor[], dtype: 'F32' | 'F16', metadata: Record<string, string> = {}): Uint8Array {
  const width = dtype === 'F16' ? 2 : 4;
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.values.length) throw new Error(`encodeSafetensors: '${t.name}' has ${t.values.length} values for shape [${t.shape.join(', ')}]`);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + count * width] };
    offset += count * width;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - (headerText.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const t of tensors) {
    for (let i = 0; i < t.values.length; i++, at += width) {
      if (dtype === 'F16') view.setUint16(at, floatToHalf(t.values[i]), true);
      else view.setFloat32(at, t.values[i], true);
    }
  }
  return out;
}
