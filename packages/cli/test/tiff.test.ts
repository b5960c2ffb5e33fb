import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { decodeFloat32Tiff, encodeFloat32Tiff } from '../src/tiff.js';

describe('float32 TIFF', () => {
  it('reads a float32 TIFF written by Pillow', () => {
    const bytes = new Uint8Array(readFileSync(new URL('./fixtures/pil-float32.tiff', import.meta.url)));
    const expected = JSON.parse(readFileSync(new URL('./fixtures/pil-float32.json', import.meta.url), 'utf8'));
    const tiff = decodeFloat32Tiff(bytes, 'pil-float32.tiff');
    expect([tiff.width, tiff.height]).toEqual([expected.width, expected.height]);
    expect(Array.from(tiff.data)).toEqual(expected.values.map((v: number) => Math.fround(v)));
  });

  it('round-trips what it writes, and rejects truncated files', () => {
    const values = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 3);
    const bytes = encodeFloat32Tiff(4, 3, values);
    const back = decodeFloat32Tiff(bytes);
    expect(back.width).toBe(4);
    expect(back.height).toBe(3);
    expect(Array.from(back.data)).toEqual(Array.from(values));
    expect(() => decodeFloat32Tiff(bytes.subarray(0, bytes.length - 4), 'map.tiff')).toThrow('map.tiff is truncated');
    expect(() => encodeFloat32Tiff(4, 4, values)).toThrow('12 values for a 4x4 image');
  });
});
