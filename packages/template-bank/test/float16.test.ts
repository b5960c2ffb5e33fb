import { describe, expect, it } from 'vitest';
import { decodeFloat16, encodeFloat16, float32BitsToFloat16Bits, fromFloat16Bits, toFloat16Bits } from '../src/index.js';
import { loadFloat16Fixture } from './fixtures.js';

const fixture = loadFloat16Fixture();
const hex = (n: number, width: number): string => `0x${n.toString(16).padStart(width, '0')}`;

describe('float32 -> float16 (against numpy astype(float16))', () => {
  it('matches numpy bit for bit on specials, ties, subnormals, overflow and random bit patterns', () => {
    const values = new Float32Array(fixture.float32Bits.buffer.slice(0));
    const encoded = encodeFloat16(values);
    const mismatches: string[] = [];
    for (let i = 0; i < encoded.length; i++) {
      if (encoded[i] !== fixture.halfBits[i]) mismatches.push(`${hex(fixture.float32Bits[i], 8)} -> ${hex(encoded[i], 4)}, numpy ${hex(fixture.halfBits[i], 4)}`);
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(fixture.float32Bits.length).toBeGreaterThan(10_000);
  });

  it('rounds ties to even, underflows gradually and overflows to inf', () => {
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie between 1 and 1+2^-10: even is 1
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie: rounds up to the even 1+2^-9
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toFloat16Bits(2 ** -25)).toBe(0x0000); // tie with 0: even
    expect(toFloat16Bits(3 * 2 ** -25)).toBe(0x0002);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(65520)).toBe(0x7c00);
    expect(toFloat16Bits(-Infinity)).toBe(0xfc00);
    expect(toFloat16Bits(-0)).toBe(0x8000);
    expect(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN)))).toBe(true);
    expect(float32BitsToFloat16Bits(0x7f800001) & 0x7fff).not.toBe(0x7c00); // a NaN whose payload is only in dropped bits stays NaN
  });
});

describe('float16 -> float32', () => {
  it('decodes all 65,536 halves exactly as numpy does', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const decoded = new Uint32Array(decodeFloat16(all).buffer);
    const mismatches: string[] = [];
    for (let h = 0; h < 65536; h++) if (decoded[h] !== fixture.decodedBits[h]) mismatches.push(`${hex(h, 4)} -> ${hex(decoded[h], 8)}, numpy ${hex(fixture.decodedBits[h], 8)}`);
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  it('round-trips every finite half through float32', () => {
    const broken: number[] = [];
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) !== 0x7c00 && toFloat16Bits(fromFloat16Bits(h)) !== h) broken.push(h);
    }
    expect(broken).toEqual([]);
  });
});
