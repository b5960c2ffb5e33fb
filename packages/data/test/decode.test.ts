import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImage, decodeMask, decodePng, encodePng } from '../src/index.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'png', 'expected.json'), 'utf8')) as {
  width: number;
  height: number;
  images: Record<string, { rgb?: number[]; mask?: number[]; width?: number; height?: number }>;
};
const read = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));

describe('decodeImage / decodeMask against Python-made fixtures', () => {
  for (const [name, ref] of Object.entries(expected.images)) {
    if (name === 'photo_jpg') continue;
    const file = `png/${name}.png`;
    if (ref.rgb) {
      it(`decodes ${file} to RGB`, () => {
        const img = decodeImage(read(file), file);
        expect([img.width, img.height]).toEqual([ref.width ?? expected.width, ref.height ?? expected.height]);
        expect(Array.from(img.data)).toEqual(ref.rgb);
      });
    }
    if (ref.mask) {
      it(`decodes ${file} as a mask (raw values)`, () => {
        const mask = decodeMask(read(file), file);
        expect(Array.from(mask.data)).toEqual(ref.mask);
      });
    }
  }

  it('decodes a JPEG close to libjpeg (Pillow)', () => {
    const ref = expected.images.photo_jpg;
    const img = decodeImage(read('photo.jpg'), 'photo.jpg');
    expect([img.width, img.height]).toEqual([ref.width, ref.height]);
    let sumAbs = 0;
    let maxAbs = 0;
    img.data.forEach((v, i) => {
      const d = Math.abs(v - ref.rgb![i]);
      sumAbs += d;
      maxAbs = Math.max(maxAbs, d);
    });
    // Different IDCT/upsampling implementations: a level or two apart, never more than a few.
    expect(sumAbs / img.data.length).toBeLessThan(1.5);
    expect(maxAbs).toBeLessThanOrEqual(8);
  });

  it('reports bit depth, colour type and palette of a 16-bit and a palette PNG', () => {
    const p16 = decodePng(read('png/rgb16.png'), 'rgb16');
    expect([p16.bitDepth, p16.colorType, p16.channels]).toEqual([16, 2, 3]);
    const pal = decodePng(read('png/palette4.png'), 'palette4');
    expect([pal.bitDepth, pal.colorType, pal.channels, pal.palette?.length]).toEqual([4, 3, 1, 48]);
  });
});

describe('encodePng', () => {
  const width = 13;
  const height = 9;
  const rgb = new Uint8Array(width * height * 3).map((_, i) => (i * 37 + ((i / 7) | 0) * 11) & 0xff);

  it('round-trips RGB, gray and RGBA through pngjs (an independent decoder) and through decodeImage', () => {
    for (const channels of [1, 3, 4] as const) {
      const data = new Uint8Array(width * height * channels).map((_, i) => (i * 53 + 7) & 0xff);
      const bytes = encodePng({ width, height, data, channels });
      const ref = PNG.sync.read(Buffer.from(bytes));
      expect([ref.width, ref.height]).toEqual([width, height]);
      for (let p = 0; p < width * height; p++) {
        for (let c = 0; c < 3; c++) {
          const src = channels === 1 ? data[p] : data[p * channels + c];
          expect(ref.data[p * 4 + c]).toBe(src);
        }
      }
    }
    expect(Array.from(decodeImage(encodePng({ width, height, data: rgb }), 'x').data)).toEqual(Array.from(rgb));
  });

  it('decodes PNGs written by pngjs, including 16-bit and gray ones', () => {
    const png = new PNG({ width, height, colorType: 2, bitDepth: 16, inputHasAlpha: false });
    const src16 = new Uint16Array(width * height * 4).map((_, i) => (i * 977) & 0xffff);
    for (let i = 3; i < src16.length; i += 4) src16[i] = 0xffff;
    (png as unknown as { data: Uint16Array }).data = src16;
    const bytes16 = PNG.sync.write(png, { colorType: 2, bitDepth: 16, inputHasAlpha: true });
    const img16 = decodeImage(new Uint8Array(bytes16), 'pngjs16');
    for (let p = 0; p < width * height; p++) {
      for (let c = 0; c < 3; c++) expect(img16.data[p * 3 + c]).toBe(src16[p * 4 + c] >> 8);
    }
    const gray = new PNG({ width, height });
    gray.data = Buffer.from(new Uint8Array(width * height * 4).map((_, i) => (i % 4 === 3 ? 255 : ((i >> 2) * 3) & 0xff)));
    const bytesGray = PNG.sync.write(gray, { colorType: 0 });
    expect(decodePng(new Uint8Array(bytesGray), 'g').colorType).toBe(0);
    const mask = decodeMask(new Uint8Array(bytesGray), 'g');
    expect(Array.from(mask.data)).toEqual(Array.from({ length: width * height }, (_, p) => (p * 3) & 0xff));
  });

  it('rejects data whose length matches no channel count', () => {
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8Array(5) })).toThrow(/expected 1, 3 or 4 channels/);
  });
});

describe('decode errors name the file and the problem', () => {
  const good = encodePng({ width: 16, height: 16, data: new Uint8Array(16 * 16 * 3).fill(90) });

  it('corrupt PNG (a flipped byte fails the CRC)', () => {
    const bad = good.slice();
    bad[40] ^= 0xff;
    expect(() => decodeImage(bad, 'broken.png')).toThrow(/broken\.png: corrupt PNG \(CRC mismatch/);
  });

  it('truncated PNG', () => {
    for (const cut of [20, 45, good.length - 6]) {
      expect(() => decodeImage(good.subarray(0, cut), 'cut.png')).toThrow(/cut\.png: truncated PNG/);
    }
  });

  it('truncated and corrupt JPEG', () => {
    const jpg = read('photo.jpg');
    expect(() => decodeImage(jpg.subarray(0, Math.floor(jpg.length * 0.7)), 'cut.jpg')).toThrow(/cut\.jpg: truncated JPEG/);
    expect(() => decodeImage(jpg.subarray(0, 100), 'head.jpg')).toThrow(/head\.jpg: truncated JPEG/);
  });

  it('not an image / empty file', () => {
    expect(() => decodeImage(new TextEncoder().encode('hello world'), 'notes.txt')).toThrow(/notes\.txt: not a PNG or JPEG/);
    expect(() => decodeImage(new Uint8Array(0), 'empty.png')).toThrow(/empty\.png: empty file/);
  });

  it('a colour mask has unexpected channels', () => {
    const colour = encodePng({ width: 2, height: 1, data: new Uint8Array([0, 0, 0, 255, 0, 0]) });
    expect(() => decodeMask(colour, 'm.png')).toThrow(/m\.png: unexpected mask channels.*pixel 1,0 is 255,0,0/);
    const grayRgb = encodePng({ width: 2, height: 1, data: new Uint8Array([0, 0, 0, 7, 7, 7]) });
    expect(Array.from(decodeMask(grayRgb, 'ok.png').data)).toEqual([0, 7]);
  });

  it('a JPEG written by jpeg-js decodes to the right size', () => {
    const raw = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 4).fill(128) };
    const img = decodeImage(new Uint8Array(jpeg.encode(raw, 90).data), 'gray.jpg');
    expect([img.width, img.height, img.data.length]).toEqual([8, 8, 192]);
    expect(Math.abs(img.data[0] - 128)).toBeLessThanOrEqual(2);
  });
});
