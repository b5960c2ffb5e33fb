/**
 * Conv2DBackpropFilter for tfjs-backend-webgpu as a split-K matrix product. tfjs' own kernel gives each thread one
 * filter element and loops it over every output position (65,536 multiply-adds per thread for a 64x64 map at batch
 * 16): on an H200 it took 1.32 s of a THFR training step's 1.7 s of kernel time. Here:
 *   patches [rows, kh*kw*ci] (one WGSL im2col shader; the input itself for 1x1 stride-1 convs),
 *   split into S slabs of L rows: [S, L, K] and dy [S, L, co],
 *   one batched matMul with transposeA ([S, K, co]: S times the workgroups of a single product), summed over S.
 * Rows are processed in chunks of at most `maxChunkBytes` of patches, so no buffer outgrows a browser's
 * maxStorageBufferBindingSize. The backend is typed structurally: this package imports no backend.
 */
import { tf } from '@thfr/tensor';
import type { Tensor, Tensor2D, Tensor4D } from '@thfr/tensor';
import { borrow, type KernelArgs } from './composed-kernel.js';
import { flatProgram, type WebGpuBackendLike } from './webgpu-program.js';
import { replaceKernel } from './replace-kernel.js';
import { registerWebGpuConvInputGradient } from './conv-input-gradient-webgpu.js';

export interface WebGpuFilterGradientOptions {
  /** Rows per slab of the split-K product (L). Default 2048 (measured on an H200: docs/benchmarks.md). */
  rowsPerSlab?: number;
  /** Largest patch matrix built at once, in bytes. Default 128 MiB (WebGPU's default maxStorageBufferBindingSize). */
  maxChunkBytes?: number;
  /** Backend to register for. Default 'webgpu'. */
  backendName?: string;
}

/** im2col of NHWC x for rows [rowOffset, rowOffset + outputRows): column k = (tapRow * kw + tapColumn) * ci + c; rows past `rows` are zero. */
function patchesProgram(outputRows: number, columns: number) {
  return flatProgram([outputRows, columns], 'thfrConvPatches', ['x'],
    'inHeight : i32, inWidth : i32, inChannels : i32, outHeight : i32, outWidth : i32, filterWidth : i32, strideHeight : i32, strideWidth : i32, padTop : i32, padLeft : i32, rows : i32, columns : i32, rowOffset : i32,', `
        let n = index / uniforms.columns + uniforms.rowOffset;
        let k = index % uniforms.columns;
        var v = 0.0;
        if (n < uniforms.rows) {
          let c = k % uniforms.inChannels;
          let tap = k / uniforms.inChannels;
          let tapRow = tap / uniforms.filterWidth;
          let tapColumn = tap % uniforms.filterWidth;
          let ox = n % uniforms.outWidth;
          let rest = n / uniforms.outWidth;
          let oy = rest % uniforms.outHeight;
          let b = rest / uniforms.outHeight;
          let iy = oy * uniforms.strideHeight + tapRow - uniforms.padTop;
          let ix = ox * uniforms.strideWidth + tapColumn - uniforms.padLeft;
          if (iy >= 0 && iy < uniforms.inHeight && ix >= 0 && ix < uniforms.inWidth) {
            v = x[((b * uniforms.inHeight + iy) * uniforms.inWidth + ix) * uniforms.inChannels + c];
          }
        }
        setOutputAtIndex(index, v);`);
}

/**
 * Sum over the leading axis of [S, N] (flattened [S, K, co]): one thread per output element reads S values N apart,
 * neighbouring threads neighbouring addresses. tf.sum over axis 0 would first transpose the whole stack (the reduced
 * axis must be innermost for tfjs' reduction), a copy as large as the stack.
 */
function leadingAxisSumProgram(slabs: number, n: number) {
  return flatProgram([n], 'thfrLeadingAxisSum', ['stack'], 'slabs : i32, n : i32,', `
        var acc = 0.0;
        for (var s = 0; s < uniforms.slabs; s++) { acc += stack[s * uniforms.n + index]; }
        setOutputAtIndex(index, acc);`);
}

/** Largest power of two <= `limit` that divides n (1 when n is odd). */
function powerOfTwoDivisor(n: number, limit: number): number {
  let d = 1;
  while (d * 2 <= limit && n % (d * 2) === 0) d *= 2;
  return d;
}

/** Sum over slabs of a^T b for a [rows, K], b [rows, co] with rows a multiple of `slab`. */
function splitKProduct(gpu: WebGpuBackendLike, a: Tensor2D, b: Tensor2D, slab: number): Tensor2D {
  const rows = a.shape[0];
  if (rows === slab) return tf.matMul(a, b, true, false);
  const slabs = rows / slab;
  const [k, co] = [a.shape[1], b.shape[1]];
  const partial = tf.matMul(tf.reshape(a, [slabs, slab, k]), tf.reshape(b, [slabs, slab, co]), true, false);
  const summed = gpu.runWebGPUProgram(leadingAxisSumProgram(slabs, k * co), [{ dataId: partial.dataId, shape: [slabs, k * co], dtype: 'float32' }], 'float32', [
    { type: 'int32', data: [slabs] },
    { type: 'int32', data: [k * co] },
  ]);
  return tf.reshape(tf.engine().makeTensorFromTensorInfo(summed as never), [k, co]);
}

/** Zero rows appended so that `t` [rows, c] has `rows` rows. */
function padRows(t: Tensor2D, rows: number): Tensor2D {
  return rows === t.shape[0] ? t : tf.pad(t, [[0, rows - t.shape[0]], [0, 0]]);
}

function filterGradient(args: KernelArgs, options: Required<Omit<WebGpuFilterGradientOptions, 'backendName'>>): Tensor {
  const { inputs, attrs = {}, backend } = args;
  const gpu = backend as WebGpuBackendLike;
  const { x: xInfo, dy: dyInfo } = inputs;
  if (xInfo.dtype !== 'float32' || dyInfo.dtype !== 'float32') throw new Error(`Conv2DBackpropFilter (webgpu split-K): x and dy must be float32, got ${xInfo.dtype} and ${dyInfo.dtype}`);
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter (webgpu split-K): only NHWC is supported, got '${dataFormat}'`);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(xInfo.shape as [number, number, number, number], filterShape, attrs.strides as [number, number], 1, attrs.pad as 'same', attrs.dimRoundingMode as undefined);
  const [kh, kw, ci, co] = filterShape;
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const columns = kh * kw * ci;
  return tf.tidy(() => {
    const dy = borrow<Tensor4D>(dyInfo, backend);
    // One slab when the rows fit in one; else slabs of a power-of-two row count that divides `rows` where one of
    // >= 64 rows does, or of rowsPerSlab with zero rows appended (fewer than one slab's worth).
    const divisor = powerOfTwoDivisor(rows, options.rowsPerSlab);
    const slab = rows <= options.rowsPerSlab ? rows : divisor >= 64 ? divisor : options.rowsPerSlab;
    const paddedRows = Math.ceil(rows / slab) * slab;
    const dy2 = padRows(tf.reshape(dy, [rows, co]), paddedRows);
    const identityPatches = kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 && info.padInfo.top === 0 && info.padInfo.left === 0;
    if (identityPatches) {
      const x = borrow<Tensor4D>(xInfo, backend);
      return tf.reshape(splitKProduct(gpu, padRows(tf.reshape(x, [rows, ci]), paddedRows), dy2, slab), filterShape);
    }
    // Chunks of whole slabs, each within maxChunkBytes of patches, of equal size (no small tail chunk).
    const slabs = paddedRows / slab;
    const chunks = Math.ceil(slabs / Math.max(1, Math.floor(options.maxChunkBytes / (slab * columns * 4))));
    const chunkRows = Math.ceil(slabs / chunks) * slab;
    let total: Tensor2D | undefined;
    for (let offset = 0; offset < paddedRows; offset += chunkRows) {
      const n = Math.min(chunkRows, paddedRows - offset);
      const patchesInfo = gpu.runWebGPUProgram(patchesProgram(n, columns), [xInfo], 'float32', [
        ...[info.inHeight, info.inWidth, ci, info.outHeight, info.outWidth, kw, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left, rows, columns, offset]
          .map((v) => ({ type: 'int32' as const, data: [v] })),
      ]);
      const patches = tf.engine().makeTensorFromTensorInfo(patchesInfo as never) as Tensor2D;
      const dyChunk = n === paddedRows ? dy2 : tf.slice(dy2, [offset, 0], [n, co]);
      const part = splitKProduct(gpu, patches, dyChunk, slab);
      total = total ? (tf.add(total, part) as Tensor2D) : part;
    }
    return tf.reshape(total!, filterShape);
  });
}

/**
 * Registers the split-K Conv2DBackpropFilter for tfjs-backend-webgpu. Returns a function that puts back the kernel
 * that was registered before (tfjs' own).
 */
export function registerWebGpuConvFilterGradient(options: WebGpuFilterGradientOptions = {}): () => void {
  const backendName = options.backendName ?? 'webgpu';
  const rowsPerSlab = options.rowsPerSlab ?? 2048;
  const maxChunkBytes = options.maxChunkBytes ?? 128 * 2 ** 20;
  if (!Number.isInteger(rowsPerSlab) || rowsPerSlab < 1) throw new RangeError(`registerWebGpuConvFilterGradient: rowsPerSlab must be a positive integer, got ${rowsPerSlab}`);
  if (!(maxChunkBytes > 0)) throw new RangeError(`registerWebGpuConvFilterGradient: maxChunkBytes must be positive, got ${maxChunkBytes}`);
  return replaceKernel('Conv2DBackpropFilter', backendName, (args: KernelArgs) => filterGradient(args, { rowsPerSlab, maxChunkBytes }));
}

/**
 * Registers both of thfr's WebGPU convolution gradients (this split-K filter gradient and conv-input-gradient-webgpu's
 * input gradient): what each runtime's initRuntime does on webgpu. Returns a function that puts tfjs' kernels back.
 */
export function registerWebGpuConvGradients(backendName = 'webgpu'): () => void {
  const restoreFilter = registerWebGpuConvFilterGradient({ backendName });
  const restoreInput = registerWebGpuConvInputGradient(backendName);
  return () => {
    restoreInput();
    restoreFilter();
  };
}
