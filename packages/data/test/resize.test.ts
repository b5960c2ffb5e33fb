import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resizeGray, resizeMask, resizeRgb } from '../src/index.js';

const ref = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'resize.json'), 'utf8')) as {
  width: number;
  height: number;
  rgb: number[];
  mask: number[];
  cases: Array<{ width: number; height: number; rgb: number[]; mask: number[] }>;
};

describe('resize matches Pillow', () => {
  const img = { width: ref.width, height: ref.height, data: Uint8Array.from(ref.rgb) };
  const mask = { width: ref.width, height: ref.height, data: Uint8Array.from(ref.mask) };
  for (const c of ref.cases) {
    it(`BILINEAR ${ref.width}x${ref.height} -> ${c.width}x${c.height} exactly`, () => {
      expect(Array.from(resizeRgb(img, c.width, c.height).data)).toEqual(c.rgb);
    });
    it(`NEAREST mask ${ref.width}x${ref.height} -> ${c.width}x${c.height} exactly`, () => {
      expect(Array.from(resizeMask(mask, c.width, c.height).data)).toEqual(c.mask);
    });
  }
});

describe('resize on tiny hand-checked examples', () => {
  it('enlarges a 2-pixel ramp with the triangle filter', () => {
    // Output centres at 0.25, 0.75, 1.25, 1.75 input pixels; clamped at the borders.
    const out = resizeGray({ width: 2, height: 1, data: Uint8Array.from([0, 200]) }, 4, 1);
    expect(Array.from(out.data)).toEqual([0, 50, 150, 200]);
  });

  it('averages (antialiases) when halving', () => {
    const out = resizeGray({ width: 4, height: 1, data: Uint8Array.from([0, 100, 200, 40]) }, 2, 1);
    // Window of 4 taps with weights 1/8, 3/8, 3/8, 1/8 around centres 1 and 3 (clipped at the border).
    expect(Array.from(out.data)).toEqual([Math.round((0 * 3 + 100 * 3 + 200 * 1) / 7), Math.round((100 * 1 + 200 * 3 + 40 * 3) / 7)]);
  });

  it('keeps exact mask values and copies on identity sizes', () => {
    const mask = { width: 3, height: 2, data: Uint8Array.from([0, 255, 3, 7, 0, 9]) };
    expect(Array.from(resizeMask(mask, 6, 4).data)).toEqual([0, 0, 255, 255, 3, 3, 0, 0, 255, 255, 3, 3, 7, 7, 0, 0, 9, 9, 7, 7, 0, 0, 9, 9]);
    const rgb = { width: 2, height: 2, data: Uint8Array.from({ length: 12 }, (_, i) => i * 20) };
    const same = resizeRgb(rgb, 2, 2);
    expect(Array.from(same.data)).toEqual(Array.from(rgb.data));
    expect(same.data).not.toBe(rgb.data);
  });

  it('rejects malformed input', () => {
    expect(() => resizeRgb({ width: 2, height: 2, data: new Uint8Array(11) }, 4, 4)).toThrow(/resizeRgb: expected 12 bytes/);
    expect(() => resizeMask({ width: 2, height: 2, data: new Uint8Array(4) }, 0, 4)).toThrow(/resizeMask: target size/);
  });
});
