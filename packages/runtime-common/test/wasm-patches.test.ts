import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { wasmPatchesFor, type PatchGeometry } from '../src/index.js';

/** The patch matrix by the definition: row (b, oy, ox), columns (i, j, c), zero where a tap is in the padding. */
function referencePatches(x: Float32Array, batch: number, g: PatchGeometry): Float32Array {
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < g.outHeight; oy++) {
      for (let ox = 0; ox < g.outWidth; ox++) {
        for (let i = 0; i < g.filterHeight; i++) {
          for (let j = 0; j < g.filterWidth; j++) {
            const iy = oy * g.strideHeight + i * g.dilationHeight - g.padTop;
            const ix = ox * g.strideWidth + j * g.dilationWidth - g.padLeft;
            for (let c = 0; c < g.inChannels; c++) {
              const inside = iy >= 0 && iy < g.inHeight && ix >= 0 && ix < g.inWidth;
              out.push(inside ? x[((b * g.inHeight + iy) * g.inWidth + ix) * g.inChannels + c] : 0);
            }
          }
        }
      }
    }
  }
  return Float32Array.from(out);
}

const geometry = (over: Partial<PatchGeometry>): PatchGeometry => ({
  inHeight: 7, inWidth: 6, inChannels: 3, outHeight: 7, outWidth: 6, filterHeight: 3, filterWidth: 3,
  strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1, padTop: 1, padLeft: 1, ...over,
});

const CASES: Array<[string, PatchGeometry]> = [
  ['3x3 stride 1, padding 1', geometry({})],
  ['3x3 stride 2, padding top/left only', geometry({ outHeight: 4, outWidth: 3, strideHeight: 2, strideWidth: 2 })],
  ['5x3 dilated rows, uneven padding', geometry({ filterHeight: 5, dilationHeight: 2, padTop: 4, outHeight: 7 })],
  ['2x2 stride 2 (taps tile the input)', geometry({ inHeight: 6, outHeight: 3, outWidth: 3, filterHeight: 2, filterWidth: 2, strideHeight: 2, strideWidth: 2, padTop: 0, padLeft: 0 })],
];

/** Runs `fn` with `x` on the heap and `count` floats of scratch; returns the scratch's values. */
function onHeap(x: Float32Array, count: number, fn: (xInfo: { dataId: object; shape: number[]; dtype: 'float32' }, scratch: number) => void): Float32Array {
  const patches = wasmPatchesFor(tf.backend())!;
  const tensor = tf.tensor1d(x);
  const scratch = patches.heap.malloc(count * 4);
  try {
    fn(tensor as unknown as { dataId: object; shape: number[]; dtype: 'float32' }, scratch);
    return patches.heap.f32(scratch, count).slice();
  } finally {
    patches.heap.free(scratch);
    tensor.dispose();
  }
}

const view = (t: { dataId: object }) => (tf.backend() as unknown as { typedArrayFromHeap(info: object): Float32Array }).typedArrayFromHeap(t);

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('wasm patches (im2col on the heap)', () => {
  for (const [name, g] of CASES) {
    it(`${name}: the patch matrix by definition, bit for bit`, () => {
      const batch = 2;
      const x = Float32Array.from({ length: batch * g.inHeight * g.inWidth * g.inChannels }, (_, i) => Math.sin(i * 0.37) * 5);
      const patches = wasmPatchesFor(tf.backend())!;
      const count = patches.size(batch, g);
      const written = onHeap(x, count, (info, scratch) => patches.write(view(info), scratch, batch, g));
      expect(Array.from(written)).toEqual(Array.from(referencePatches(x, batch, g)));
    });
  }

  it('writeTiles undoes the patches of a filter that tiles the input, and refuses any other', () => {
    const [, g] = CASES[3];
    const batch = 2;
    const x = Float32Array.from({ length: batch * g.inHeight * g.inWidth * g.inChannels }, (_, i) => i + 0.5);
    const patches = wasmPatchesFor(tf.backend())!;
    const count = patches.size(batch, g);
    const target = tf.zeros([x.length]);
    onHeap(x, count, (info, scratch) => {
      patches.write(view(info), scratch, batch, g);
      patches.writeTiles(scratch, view(target), batch, g);
    });
    expect(Array.from(target.dataSync())).toEqual(Array.from(x));
    expect(() => patches.writeTiles(0, view(target), batch, CASES[1][1])).toThrow(/taps that tile the input/);
    expect(() => patches.write(new Float32Array(3), 0, batch, g)).toThrow(/x holds 3 values, expected 2x6x6x3/);
    target.dispose();
  });
});
