/**
 * IEEE 754 binary16 ("half") <-> binary32 conversion on plain typed arrays. tfjs has no float16 dtype,
 * so half-precision storage lives on the JS side as Uint16Array bit patterns.
 *
 * Encoding follows NumPy's npy_floatbits_to_halfbits bit for bit: round to nearest, ties to even,
 * gradual underflow to subnormals, overflow to +-inf, NaN keeps its top payload bits (and stays NaN).
 */

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** Half bit pattern of one float32 given by its bits. */
export function float32BitsToFloat16Bits(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  let exponent = f & 0x7f800000;
  if (exponent >= 0x47800000) {
    // Overflow (|x| >= 65520 rounds past the largest half) or inf / NaN.
    if (exponent === 0x7f800000) {
      const significand = f & 0x007fffff;
      if (significand !== 0) {
        let nan = 0x7c00 + (significand >>> 13);
        if (nan === 0x7c00) nan++; // payload only in the dropped bits: keep it a NaN
        return sign + nan;
      }
      return sign + 0x7c00;
    }
    return sign + 0x7c00;
  }
  if (exponent <= 0x38000000) {
    // Subnormal half (or zero). Below 2^-25 everything rounds to zero.
    if (exponent < 0x33000000) return sign;
    exponent >>>= 23;
    let significand = 0x00800000 + (f & 0x007fffff);
    significand >>>= 113 - exponent;
    // Ties to even: the shift above can drop up to 11 bits, so look at them in the original too.
    if ((significand & 0x00003fff) !== 0x00001000 || (f & 0x000007ff) !== 0) significand += 0x00001000;
    // A carry out of the significand turns the result into the smallest normal, which is correct.
    return sign + (significand >>> 13);
  }
  const halfExponent = (exponent - 0x38000000) >>> 13;
  let significand = f & 0x007fffff;
  if ((significand & 0x00003fff) !== 0x00001000) significand += 0x00001000;
  // A carry propagates into the exponent; from the largest exponent it gives inf, as it should.
  return sign + ((significand >>> 13) + halfExponent);
}

/** Half bit pattern of one number (rounded to float32 first, as a Float32Array store would). */
export function toFloat16Bits(value: number): number {
  scratchFloat[0] = value;
  return float32BitsToFloat16Bits(scratchBits[0]);
}

let decodeTable: Float32Array | undefined;

/** All 65,536 half values as float32 (exact: every half is a float32), built once on first use. */
function halfToFloatTable(): Float32Array {
  if (decodeTable) return decodeTable;
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exponent = (h >>> 10) & 0x1f;
    const significand = h & 0x03ff;
    if (exponent === 0) {
      // Zero or subnormal: significand * 2^-24, exact in float32.
      table[h] = (significand * 2 ** -24) * (sign ? -1 : 1);
    } else if (exponent === 0x1f) {
      bits[h] = (sign | 0x7f800000 | (significand << 13)) >>> 0;
    } else {
      bits[h] = (sign | ((exponent + 112) << 23) | (significand << 13)) >>> 0;
    }
  }
  decodeTable = table;
  return table;
}

/** Float value of one half bit pattern. */
export function fromFloat16Bits(half: number): number {
  return halfToFloatTable()[half & 0xffff];
}

/** Encodes float32 values as half bit patterns (round to nearest even). */
export function encodeFloat16(values: Float32Array, out = new Uint16Array(values.length)): Uint16Array {
  if (out.length !== values.length) throw new RangeError(`encodeFloat16: output length ${out.length} != input length ${values.length}`);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) out[i] = float32BitsToFloat16Bits(bits[i]);
  return out;
}

/** Decodes half bit patterns to float32 values (exact). */
export function decodeFloat16(halves: Uint16Array, out = new Float32Array(halves.length)): Float32Array {
  if (out.length !== halves.length) throw new RangeError(`decodeFloat16: output length ${out.length} != input length ${halves.length}`);
  // Copied as bits: a float round trip through a JS number may quiet signalling NaNs (V8's optimised code
  // does, nondeterministically), and numpy keeps them.
  const table = halfToFloatTable();
  const tableBits = new Uint32Array(table.buffer, table.byteOffset, table.length);
  const outBits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < halves.length; i++) outBits[i] = tableBits[halves[i]];
  return out;
}
