// The page's pure parts, in Node: URL options and the overlay drawing.
import { describe, expect, it } from 'vitest';
import { readPageOptions } from '../src/query-options.js';
import { mapRange, renderOverlay } from '../src/overlay-renderer.js';
import { compareMaps } from './helpers/compare-maps.js';
import { wantsOnnxRuntime } from '../src/onnx-runtime-web.js';
import { initRuntime } from '@thfr/runtime-node';
import { createRandomResNet, type FeatureExtractor } from '@thfr/backbone';

describe('readPageOptions', () => {
  const base = 'https://example.org/app/index.html';
  it('defaults to ./model/ next to the page, the best backend and features auto', () => {
    expect(readPageOptions({ search: '' }, base)).toEqual({ modelUrl: 'https://example.org/app/model/', backend: undefined, features: 'auto', gemm: 'off' });
  });
  it('resolves ?model= against the page and adds the trailing slash', () => {
    expect(readPageOptions({ search: '?model=../models/bottle' }, base).modelUrl).toBe('https://example.org/models/bottle/');
    expect(readPageOptions({ search: '?model=https://cdn.example.com/m/' }, base).modelUrl).toBe('https://cdn.example.com/m/');
  });
  it('takes ?backend= and rejects unknown names', () => {
    expect(readPageOptions({ search: '?backend=webgl' }, base).backend).toBe('webgl');
    expect(() => readPageOptions({ search: '?backend=metal' }, base)).toThrow(/must be one of webgpu, webgl, wasm, cpu, got 'metal'/);
  });
  it('takes ?features= and rejects unknown runtimes', () => {
    expect(readPageOptions({ search: '?features=onnx' }, base).features).toBe('onnx');
    expect(readPageOptions({ search: '?features=tfjs&backend=wasm' }, base)).toMatchObject({ features: 'tfjs', backend: 'wasm' });
    expect(() => readPageOptions({ search: '?features=ort' }, base)).toThrow(/\?features= must be one of auto, onnx, tfjs, got 'ort'/);
  });
  it('takes ?gemm= and rejects anything but off, on and auto', () => {
    expect(readPageOptions({ search: '?gemm=auto' }, base).gemm).toBe('auto');
    expect(readPageOptions({ search: '?gemm=on&backend=webgpu' }, base)).toMatchObject({ gemm: 'on', backend: 'webgpu' });
    expect(() => readPageOptions({ search: '?gemm=1' }, base)).toThrow(/\?gemm= must be one of off, on, auto, got '1'/);
  });
});

describe('wantsOnnxRuntime (?features=)', () => {
  it('auto: onnxruntime-web for a ResNet on the CPU backends only; onnx: always; tfjs: never', async () => {
    await initRuntime({ prefer: ['cpu'] });
    const resnet = createRandomResNet('resnet18');
    const other = { identity: { architecture: 'mobilenet_v2' } } as unknown as FeatureExtractor;
    try {
      expect(['wasm', 'cpu', 'webgpu', 'webgl'].map((backend) => wantsOnnxRuntime('auto', backend, resnet))).toEqual([true, true, false, false]);
      expect(wantsOnnxRuntime('onnx', 'webgpu', resnet)).toBe(true);
      expect(wantsOnnxRuntime('tfjs', 'wasm', resnet)).toBe(false);
      expect(wantsOnnxRuntime('auto', 'wasm', other)).toBe(false);
      expect(() => wantsOnnxRuntime('onnx', 'wasm', other)).toThrow(/\?features=onnx: only the ResNet backbones .* 'mobilenet_v2'/);
    } finally {
      resnet.dispose();
    }
  });
});

describe('renderOverlay', () => {
  // 4x4 map with a 2x2 hot square in the middle; grey image.
  const size = 4;
  const map = Float32Array.from([0, 0, 0, 0, 0, 5, 5, 0, 0, 5, 5, 0, 0, 0, 0, 0]);
  const image = new Uint8Array(size * size * 3).fill(100);

  it('outlines exactly the pixels above the threshold that touch one below it', () => {
    const { rgba, pixelsAbove } = renderOverlay({ map, size, image, range: [0, 5], threshold: 1, alpha: 0.5 });
    expect(pixelsAbove).toBe(4);
    const white = (i: number) => rgba[4 * i] === 255 && rgba[4 * i + 1] === 255 && rgba[4 * i + 2] === 255;
    for (let i = 0; i < 16; i++) expect(white(i), `pixel ${i}`).toBe(map[i] > 1);
  });

  it('blends the colormap over the image elsewhere, and marks nothing above a high threshold', () => {
    const { rgba, pixelsAbove } = renderOverlay({ map, size, image, range: [0, 5], threshold: 10, alpha: 0.5 });
    expect(pixelsAbove).toBe(0);
    // turbo's lowest colour is (48, 18, 59): half of it plus half of grey 100.
    expect(Array.from(rgba.slice(0, 4))).toEqual([74, 59, 80, 255]);
  });

  it('finds a map range', () => {
    expect(mapRange(map)).toEqual([0, 5]);
  });
});

describe('compareMaps', () => {
  it('measures the largest difference against the expected range, and a NaN fails it', () => {
    expect(compareMaps(Float32Array.from([1, 2.5, 3]), Float32Array.from([1, 2, 3]))).toEqual({ maxAbs: 0.5, range: 2, relativeToRange: 0.25 });
    expect(compareMaps(Float32Array.from([1, NaN, 3]), Float32Array.from([1, 2, 3])).maxAbs).toBe(Infinity);
  });
});
