/**
 * A convolution's patch matrix (im2col) written by WebAssembly on tfjs-wasm's heap (wasm/patches.wat): one
 * `memory.copy` per tap and output pixel, where onnxruntime's strided Slices, Pad and Concat of the same matrix took
 * 3-4x the time of the product they feed (@thfr/ort-kernels). Rows (b, oy, ox), columns (i, j, c): tfjs' [kh, kw, in,
 * out] filter is then a [kh·kw·in, out] matrix as it lies.
 */
import { patchesWasmBase64 } from './wasm/patches-wasm.js';
import { wasmHeapModule, type WasmHeapModule } from './wasm-heap-module.js';

/** Where each tap reads: tfjs' Conv2DInfo, channels last. */
export interface PatchGeometry {
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
}

/** Columns of a convolution's patch matrix: kh x kw x in. */
export const patchCount = (g: PatchGeometry): number => g.filterHeight * g.filterWidth * g.inChannels;

interface PatchesExports {
  patches(x: number, out: number, batch: number, inH: number, inW: number, ch: number, outH: number, outW: number,
    kh: number, kw: number, strideH: number, strideW: number, dilationH: number, dilationW: number, padTop: number, padLeft: number): void;
  tiles(src: number, dst: number, batch: number, outH: number, outW: number, kh: number, kw: number, ch: number): void;
}

export interface WasmPatches {
  heap: WasmHeapModule<PatchesExports>;
  /** Values in the patch matrix of `batch` images: batch·outH·outW rows of kh·kw·in. */
  size(batch: number, g: PatchGeometry): number;
  /**
   * Writes the patch matrix of NHWC `x` (a view of the heap, taken after `heap.malloc` of `target`: a growing heap
   * detaches earlier views) into the heap at byte offset `target`.
   */
  write(x: Float32Array, target: number, batch: number, g: PatchGeometry): void;
  /**
   * The reverse, for filters whose taps tile the input (stride = filter size, no padding or dilation): scatters the
   * patch rows at byte offset `source` back to their blocks of NHWC `target` (a view of the heap, taken after the
   * allocations), which every block covers exactly once.
   */
  writeTiles(source: number, target: Float32Array, batch: number, g: PatchGeometry): void;
}

/**
 * Whether each input pixel lies in exactly one output pixel's patch: stride = filter size, no dilation, no padding,
 * and the taps cover the input (the 2 x 2 / stride 2 up- and down-sampling convs). `writeTiles` needs it.
 */
export function tapsTileInput(g: PatchGeometry): boolean {
  return g.strideHeight === g.filterHeight && g.strideWidth === g.filterWidth && g.dilationHeight === 1 && g.dilationWidth === 1 &&
    g.padTop === 0 && g.padLeft === 0 && g.outHeight * g.filterHeight === g.inHeight && g.outWidth * g.filterWidth === g.inWidth;
}

/** The patch writer on `backend`'s heap, or undefined (not tfjs-wasm, or an engine that does not link it). */
export function wasmPatchesFor(backend: unknown): WasmPatches | undefined {
  const heap = wasmHeapModule<PatchesExports>(backend, 'patches.wat', patchesWasmBase64);
  if (!heap) return undefined;
  return {
    heap,
    size: (batch, g) => batch * g.outHeight * g.outWidth * patchCount(g),
    write(x, target, batch, g) {
      if (x.length !== batch * g.inHeight * g.inWidth * g.inChannels) {
        throw new Error(`wasm patches: x holds ${x.length} values, expected ${batch}x${g.inHeight}x${g.inWidth}x${g.inChannels}`);
      }
      heap.exports.patches(heap.pointer(x, 'x'), target, batch, g.inHeight, g.inWidth, g.inChannels, g.outHeight, g.outWidth,
        g.filterHeight, g.filterWidth, g.strideHeight, g.strideWidth, g.dilationHeight, g.dilationWidth, g.padTop, g.padLeft);
    },
    writeTiles(source, target, batch, g) {
      if (!tapsTileInput(g)) throw new Error(`wasm patches: writeTiles needs taps that tile the input (stride = filter size, no padding), got ${JSON.stringify(g)}`);
      if (target.length !== batch * g.inHeight * g.inWidth * g.inChannels) {
        throw new Error(`wasm patches: the target holds ${target.length} values, expected ${batch}x${g.inHeight}x${g.inWidth}x${g.inChannels}`);
      }
      heap.exports.tiles(source, heap.pointer(target, 'target'), batch, g.outHeight, g.outWidth, g.filterHeight, g.filterWidth, g.inChannels);
    },
  };
}
