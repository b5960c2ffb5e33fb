import { MetricInputError } from './errors.js';

// Float32 scores are compared through their bit patterns mapped to unsigned integers that sort in
// the same order as the floats. A Uint32Array sorts natively (no comparator, no index array), which
// is what lets pixel metrics run on 113 M pixels with 4 bytes of extra memory per pixel.

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** Order-preserving uint32 key of a float32 bit pattern (-0 is mapped like +0 so that they tie). */
export function bitsToKey(bits: number): number {
  if (bits === 0x80000000) bits = 0;
  return bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

/** Order-preserving uint32 key of a number rounded to float32. */
export function floatToKey(value: number): number {
  scratchFloat[0] = value;
  return bitsToKey(scratchBits[0]);
}

/** The float32 value whose key is `key`. */
export function keyToFloat(key: number): number {
  scratchBits[0] = key & 0x80000000 ? (key & 0x7fffffff) >>> 0 : ~key >>> 0;
  return scratchFloat[0];
}

/** Bit patterns of a Float32Array, viewed without copying. */
export function bitsOf(map: Float32Array): Uint32Array {
  return new Uint32Array(map.buffer, map.byteOffset, map.length);
}

/** Throws unless the float32 bit pattern is finite (exponent not all ones). */
export function assertFiniteBits(bits: number, what: string, index: number): void {
  if ((bits & 0x7f800000) === 0x7f800000) {
    scratchBits[0] = bits;
    throw new MetricInputError(`${what}: expected finite scores, found ${scratchFloat[0]} at pixel ${index}`);
  }
}

/** 2^21: composite keys are `key * ID_SPACE + id`, exact in a double since 32 + 21 = 53 bits. */
export const ID_SPACE = 2 ** 21;
