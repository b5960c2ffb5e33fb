import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { halfToFloat, parseSafetensors, SafetensorsError } from '../src/safetensors.js';
import { FIXTURES } from './fixtures.js';
import { f32Bytes, makeSafetensors } from './safetensors-writer.js';

describe('safetensors reader', () => {
  it('decodes F32, F16 and BF16 exactly as torch does (fixture from make_fixtures.py)', () => {
    const file = parseSafetensors(readFileSync(join(FIXTURES, 'dtypes.safetensors')), 'dtypes.safetensors');
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'dtypes.json'), 'utf8')) as Record<string, Array<number | string>>;
    expect(file.keys().sort()).toEqual(['x_bf16', 'x_f16', 'x_f32']);
    expect(file.info('x_f16')).toMatchObject({ dtype: 'F16', shape: [3, 4] });
    for (const [key, values] of Object.entries(expected)) {
      const want = values.map((v) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number)));
      expect(Array.from(file.readFloat32(key))).toEqual(Array.from(new Float32Array(want)));
    }
  });

  it('decodes half-precision specials', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
  });

  it('rejects a truncated file, a bad header length and a non-JSON header with a clear error', () => {
    const good = makeSafetensors({ w: { dtype: 'F32', shape: [2, 2], bytes: f32Bytes([1, 2, 3, 4]) } });
    expect(() => parseSafetensors(good.subarray(0, good.byteLength - 4), 'cut.safetensors')).toThrow(/cut\.safetensors: .*'w': data \[0, 16\) lies beyond the 12 data bytes \(truncated file\)/);
    expect(() => parseSafetensors(good.subarray(0, 5), 'tiny')).toThrow(/tiny: truncated/);
    const badLength = good.slice();
    new DataView(badLength.buffer).setBigUint64(0, 10n ** 9n, true);
    expect(() => parseSafetensors(badLength, 'len')).toThrow(/len: bad header: header length 1000000000 exceeds/);
    const notJson = good.slice();
    notJson[8] = 'x'.charCodeAt(0);
    expect(() => parseSafetensors(notJson, 'nj')).toThrow(SafetensorsError);
    expect(() => parseSafetensors(notJson, 'nj')).toThrow(/nj: bad header: not JSON/);
  });

  it('rejects an entry whose byte size does not match dtype x shape', () => {
    const bytes = makeSafetensors({ w: { dtype: 'F16', shape: [3], bytes: f32Bytes([1, 2]) } });
    expect(() => parseSafetensors(bytes, 'sz')).toThrow(/'w': 8 bytes for F16 shape \[3\] \(expected 6\)/);
  });

  it('refuses to decode a non-float tensor as float', () => {
    const bytes = makeSafetensors({ n: { dtype: 'I64', shape: [1], bytes: new Uint8Array(8) } });
    expect(() => parseSafetensors(bytes, 'i').readFloat32('n')).toThrow(/tensor 'n' has dtype I64, expected a floating dtype/);
  });
});
