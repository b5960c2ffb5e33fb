/**
 * A register-tiled fp32 GEMM in WGSL for tfjs-backend-webgpu: C[batch] = A[batch] x B[batch] (+ bias, ReLU), where A is
 * a matrix (either orientation) or the implicit im2col of an NHWC convolution input, so that one shader serves
 * BatchMatMul, Conv2D and FusedConv2D.
 *
 * Why: tfjs' matMul and conv2d programs tile 32x32 outputs over 64 threads (4x4 per thread); on an H200 they ran at
 * 1.2-1.4 TFLOP/s (docs/benchmarks.md, seventh session), where cuDNN in fp32 was 2.3x faster on the same backbone.
 * This kernel tiles 128x128 (or 64x64 for small outputs) over 256 threads, 8x8 (or 4x4) outputs per thread held in
 * registers, a k-slab of 8 staged through workgroup memory as vec4s, and the next slab's global loads issued before
 * the current slab's multiply-adds so that their latency hides behind them: at the 128 tile, twice as many
 * multiply-adds per value read from workgroup memory as tfjs' tiling, and 4x the outputs per workgroup. Every size is a compile-time constant (the shader key carries them), so
 * the im2col index arithmetic divides by constants and guards vanish where the tiles fit.
 *
 * The sums run in the same order for every output (k ascending, one fma per k), independent of the tiling.
 */
import { tf } from '@thfr/tensor';
import type { WebGpuProgramLike } from './webgpu-program.js';

/** A matrix operand: A is [batch, m, k] ([batch, k, m] transposed), B is [batch, k, n] ([batch, n, k] transposed). */
export interface GemmMatrixOperand {
  kind: 'matrix';
  transposed: boolean;
  /** The operand has one matrix, shared by every batch entry. */
  broadcast: boolean;
}

/** The sizes of an NHWC convolution y = conv(x, w) that the GEMM reads: tfjs' Conv2DInfo fields (without the batch). */
export const GEMM_CONV_FIELDS = ['inHeight', 'inWidth', 'inChannels', 'outHeight', 'outWidth', 'outChannels', 'filterHeight', 'filterWidth',
  'strideHeight', 'strideWidth', 'dilationHeight', 'dilationWidth'] as const;

/** x [batch, inHeight, inWidth, inChannels], w [filterHeight, filterWidth, inChannels, outChannels], padding top and left. */
export type GemmConvGeometry = Pick<ReturnType<typeof tf.backend_util.computeConv2DInfo>, typeof GEMM_CONV_FIELDS[number]> & { padTop: number; padLeft: number };

/** The GEMM's view of tfjs' convolution info. */
export function gemmConvGeometry(info: ReturnType<typeof tf.backend_util.computeConv2DInfo>): GemmConvGeometry {
  const sizes = Object.fromEntries(GEMM_CONV_FIELDS.map((field) => [field, info[field]])) as Pick<GemmConvGeometry, typeof GEMM_CONV_FIELDS[number]>;
  return { ...sizes, padTop: info.padInfo.top, padLeft: info.padInfo.left };
}

/** A of y = conv(x, w) as the im2col of x (input 'A'): row = output pixel, column = (kh, kw, ci). */
export interface GemmIm2colOperand extends GemmConvGeometry {
  kind: 'im2col';
}

/**
 * A of dx = conv2DBackpropInput(dy, w) gathered from dy (input 'A'): row = input pixel, column = (kh, kw, co), the
 * value dy at the output pixel that tap (kh, kw) of that input pixel feeds, zero where none does (strides).
 */
export interface GemmCol2imOperand extends GemmConvGeometry {
  kind: 'col2im';
}

/** B of the input gradient: B(k = (kh, kw, co), n = ci) = w[kh, kw, ci, co], read from the filter as it is. */
export interface GemmFilterTransposedOperand {
  kind: 'filterTransposed';
  inChannels: number;
  outChannels: number;
}

export interface TiledGemmSpec {
  batch: number;
  m: number;
  n: number;
  k: number;
  a: GemmMatrixOperand | GemmIm2colOperand | GemmCol2imOperand;
  b: GemmMatrixOperand | GemmFilterTransposedOperand;
  /** A bias of n values added to every row (input 'bias'). */
  bias: boolean;
  activation: 'linear' | 'relu';
  /** Output rows and columns per workgroup: 128 (8x8 per thread) or 64 (4x4 per thread). */
  tile: 64 | 128;
  /** The program's output shape (its element count is batch x m x n, row-major). */
  outputShape: number[];
}

const THREADS_PER_SIDE = 16;
const THREADS = THREADS_PER_SIDE * THREADS_PER_SIDE;
/** The k-slab staged in workgroup memory per step: 2 x 8 x 128 floats = 8 KiB at the largest tile. */
const SLAB = 8;

/** Picks the tile: 128 where the output gives at least `minWorkgroups` workgroups of it, else 64. */
export function chooseGemmTile(batch: number, m: number, n: number, minWorkgroups = 128): 64 | 128 {
  return batch * Math.ceil(m / 128) * Math.ceil(n / 128) >= minWorkgroups ? 128 : 64;
}

/**
 * The WGSL that loads this thread's share of one k-slab of an operand into registers `${prefix}0..` (zero outside the
 * matrix). `rows` is the operand's outer size (m for A, n for B); the slab is `tile` outer x SLAB inner values, `per`
 * per thread, each thread on consecutive elements of the operand's contiguous dimension.
 */
function matrixSlabLoad(name: string, prefix: string, operand: GemmMatrixOperand | GemmFilterTransposedOperand, outer: number, inner: number, tile: number, per: number, outerBase: string): { setup: string; load: string; store: string } {
  // innerMajor: the contiguous dimension is k (A not transposed; B transposed; the filter, along co).
  const innerMajor = operand.kind === 'filterTransposed' || (name === 'A') !== operand.transposed;
  // The flat index of (outer o, inner i); the filter [kh, kw, ci, co] is B(k = (kh, kw, co), n = ci).
  const indexOf = (o: string, i: string) => {
    if (operand.kind === 'filterTransposed') {
      const { inChannels: ci, outChannels: co } = operand;
      return `((${i} / ${co}u) * ${ci}u + ${o}) * ${co}u + ${i} % ${co}u`;
    }
    const base = operand.broadcast ? '0u' : `batch * ${outer * inner}u`;
    return innerMajor ? `${base} + ${o} * ${inner}u + ${i}` : `${base} + ${i} * ${outer}u + ${o}`;
  };
  const lanes = innerMajor ? SLAB / per : tile / per;
  const setup = innerMajor
    ? `let ${prefix}Outer = localIndex / ${lanes}u;
      let ${prefix}Inner = (localIndex % ${lanes}u) * ${per}u;`
    : `let ${prefix}Inner = localIndex / ${lanes}u;
      let ${prefix}Outer = (localIndex % ${lanes}u) * ${per}u;`;
  const element = (j: number) => {
    const o = innerMajor ? `${prefix}Outer` : `(${prefix}Outer + ${j}u)`;
    const i = innerMajor ? `(k0 + ${prefix}Inner + ${j}u)` : `(k0 + ${prefix}Inner)`;
    const index = indexOf(`(${outerBase} + ${o})`, i);
    const guards = [];
    if (outer % tile !== 0) guards.push(`${outerBase} + ${o} < ${outer}u`);
    if (inner % SLAB !== 0) guards.push(`${i} < ${inner}u`);
    const read = `${name}[${index}]`;
    return guards.length ? `select(0.0, ${read}, ${guards.join(' && ')})` : read;
  };
  // WGSL's select evaluates both operands; an index past the buffer reads zero or a value in bounds (robust buffer
  // access), and the select discards it.
  const load = Array.from({ length: per }, (_, j) => `${prefix}${j} = ${element(j)};`).join('\n        ');
  const slot = (j: number) => innerMajor
    ? [`(${prefix}Inner + ${j}u)`, `${prefix}Outer`]
    : [`${prefix}Inner`, `(${prefix}Outer + ${j}u)`];
  const sub = `${name.toLowerCase()}Sub`;
  const store = Array.from({ length: per }, (_, j) => {
    const [k, o] = slot(j);
    return `${sub}[${k} * ${tile / 4}u + ${o} / 4u][${o} % 4u] = ${prefix}${j};`;
  }).join('\n        ');
  return { setup, load, store };
}

/**
 * The same for A gathered from an NHWC tensor `A`: x for the im2col of a forward convolution, dy for the input
 * gradient (col2im). This thread's row (a pixel) is fixed for the whole loop, so its coordinates are computed once.
 */
function convolutionSlabLoad(conv: GemmIm2colOperand | GemmCol2imOperand, m: number, k: number, tile: number, per: number): { setup: string; load: string; store: string } {
  const lanes = SLAB / per;
  const forward = conv.kind === 'im2col';
  // Rows are pixels of y (forward) or of dx (input gradient); the values come from x or from dy.
  const [rowHeight, rowWidth] = forward ? [conv.outHeight, conv.outWidth] : [conv.inHeight, conv.inWidth];
  const [sourceHeight, sourceWidth, sourceChannels] = forward ? [conv.inHeight, conv.inWidth, conv.inChannels] : [conv.outHeight, conv.outWidth, conv.outChannels];
  const { filterWidth: FW, strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = conv;
  const setup = `let aOuter = localIndex / ${lanes}u;
      let aInner = (localIndex % ${lanes}u) * ${per}u;
      let aRow = rowBase + aOuter;
      let aPixel = min(aRow, ${m - 1}u);
      let aX = i32(aPixel % ${rowWidth}u);
      let aY = i32((aPixel / ${rowWidth}u) % ${rowHeight}u);
      let aBase = (aPixel / ${rowWidth * rowHeight}u) * ${sourceHeight * sourceWidth * sourceChannels}u;
      let aRowValid = ${m % tile !== 0 ? `aRow < ${m}u` : 'true'};`;
  // Where tap (kh, kw) of this row's pixel reads the source: forward, x at (y * s - pad + kh * d); input gradient, the
  // output pixel (y + pad - kh * d) / s that the tap feeds, where that divides.
  const position = forward
    ? `let sy = aY * ${SH} - ${conv.padTop} + i32(tap / ${FW}u) * ${DH};
        let sx = aX * ${SW} - ${conv.padLeft} + i32(tap % ${FW}u) * ${DW};
        let reached = true;`
    : `let ny = aY + ${conv.padTop} - i32(tap / ${FW}u) * ${DH};
        let nx = aX + ${conv.padLeft} - i32(tap % ${FW}u) * ${DW};
        let reached = ny >= 0 && nx >= 0 && ny % ${SH} == 0 && nx % ${SW} == 0;
        let sy = select(-1, ny / ${SH}, reached);
        let sx = select(-1, nx / ${SW}, reached);`;
  const tap = `let channel = col % ${sourceChannels}u;
        let tap = col / ${sourceChannels}u;
        ${position}
        let valid = aRowValid && reached && col < ${k}u && sy >= 0 && sy < ${sourceHeight} && sx >= 0 && sx < ${sourceWidth};
        let offset = aBase + (u32(max(sy, 0)) * ${sourceWidth}u + u32(max(sx, 0))) * ${sourceChannels}u + channel;`;
  // The taps of consecutive columns share (kh, kw) when the channels come in multiples of `per`: one decomposition.
  const load = sourceChannels % per === 0
    ? `{
        let col = k0 + aInner;
        ${tap}
        ${Array.from({ length: per }, (_, j) => `a${j} = select(0.0, A[offset + ${j}u], valid);`).join('\n        ')}
      }`
    : Array.from({ length: per }, (_, j) => `{
        let col = k0 + aInner + ${j}u;
        ${tap}
        a${j} = select(0.0, A[offset], valid);
      }`).join('\n      ');
  const store = Array.from({ length: per }, (_, j) => `aSub[(aInner + ${j}u) * ${tile / 4}u + aOuter / 4u][aOuter % 4u] = a${j};`).join('\n        ');
  return { setup, load, store };
}

/** The WGSL of `spec` (tfjs adds the bindings, the uniforms and the entry point that calls main). */
function tiledGemmSource(spec: TiledGemmSpec): string {
  const { m, n, k, tile } = spec;
  const perThread = tile / THREADS_PER_SIDE; // outputs per thread along each side: 8 or 4
  const vectorsPerSide = perThread / 4; // vec4 blocks per thread along each side: 2 or 1
  const perLoad = (tile * SLAB) / THREADS; // values each thread loads per slab and operand: 4 or 2
  const slabs = Math.ceil(k / SLAB);
  const aLoad = spec.a.kind === 'matrix'
    ? matrixSlabLoad('A', 'a', spec.a, m, k, tile, perLoad, 'rowBase')
    : convolutionSlabLoad(spec.a, m, k, tile, perLoad);
  const bLoad = matrixSlabLoad('B', 'b', spec.b, n, k, tile, perLoad, 'colBase');
  const registers = (prefix: string) => Array.from({ length: perLoad }, (_, j) => `var ${prefix}${j} = 0.0;`).join(' ');

  // Thread (tx, ty) owns rows ty*4 + i + (tile/2) * block and the same pattern of columns with tx: blocks of 4 spread
  // across the tile so that a warp's reads of a k-row of aSub/bSub are broadcasts or consecutive vec4s.
  const accumulators: string[] = [];
  for (let r = 0; r < perThread; r++) for (let c = 0; c < vectorsPerSide; c++) accumulators.push(`acc${r}_${c}`);
  const multiplyAdds = Array.from({ length: SLAB }, (_, kk) => {
    const aVectors = Array.from({ length: vectorsPerSide }, (_, blk) => `let av${blk} = aSub[${kk * (tile / 4)}u + ${blk * (tile / 8)}u + ty];`);
    const bVectors = Array.from({ length: vectorsPerSide }, (_, blk) => `let bv${blk} = bSub[${kk * (tile / 4)}u + ${blk * (tile / 8)}u + tx];`);
    const fmas: string[] = [];
    for (let r = 0; r < perThread; r++) {
      for (let c = 0; c < vectorsPerSide; c++) fmas.push(`acc${r}_${c} = fma(vec4<f32>(av${Math.floor(r / 4)}[${r % 4}]), bv${c}, acc${r}_${c});`);
    }
    return `{
          ${[...aVectors, ...bVectors].join('\n          ')}
          ${fmas.join('\n          ')}
        }`;
  }).join('\n        ');

  const epilogue: string[] = [];
  for (let r = 0; r < perThread; r++) {
    const row = `rowBase + ty * 4u + ${(r % 4) + Math.floor(r / 4) * (tile / 2)}u`;
    for (let c = 0; c < vectorsPerSide; c++) {
      const col = `colBase + tx * 4u + ${c * (tile / 2)}u`;
      epilogue.push(`store(${row}, ${col}, acc${r}_${c});`);
    }
  }
  const colGuard = n % tile !== 0 ? `col + j < ${n}u` : '';
  const activate = spec.activation === 'relu' ? 'v = max(v, 0.0);' : '';
  const addBias = spec.bias ? 'v = v + bias[col + j];' : '';

  return `
      var<workgroup> aSub : array<vec4<f32>, ${(SLAB * tile) / 4}>;
      var<workgroup> bSub : array<vec4<f32>, ${(SLAB * tile) / 4}>;

      fn store(row : u32, col : u32, value : vec4<f32>) {
        // The row count comes as a uniform: a shader that reads no uniform loses its binding under layout 'auto'.
        if (i32(row) >= uniforms.rows) { return; }
        let batchOffset = workgroupId.z * ${m * n}u;
        for (var j = 0u; j < 4u; j++) {
          ${colGuard ? `if (!(${colGuard})) { return; }` : ''}
          var v = value[j];
          ${addBias}
          ${activate}
          result[batchOffset + row * ${n}u + col + j] = v;
        }
      }

      fn main() {
        let batch = workgroupId.z;
        let rowBase = workgroupId.y * ${tile}u;
        let colBase = workgroupId.x * ${tile}u;
        let tx = localIndex % ${THREADS_PER_SIDE}u;
        let ty = localIndex / ${THREADS_PER_SIDE}u;
        ${aLoad.setup}
        ${bLoad.setup}
        ${registers('a')}
        ${registers('b')}
        ${accumulators.map((a) => `var ${a} = vec4<f32>(0.0);`).join(' ')}
        var k0 = 0u;
        ${aLoad.load}
        ${bLoad.load}
        for (var slab = 0u; slab < ${slabs}u; slab++) {
          ${aLoad.store}
          ${bLoad.store}
          workgroupBarrier();
          k0 = k0 + ${SLAB}u;
          if (slab + 1u < ${slabs}u) {
            ${aLoad.load}
            ${bLoad.load}
          }
          ${multiplyAdds}
          workgroupBarrier();
        }
        ${epilogue.join('\n        ')}
      }`;
}

/**
 * A tfjs program (one output) computing `spec`; inputs A, B (and bias), uniform rows = m. The WGSL is generated only
 * when tfjs compiles the program (the first call of each shape): a kernel call itself builds just this object.
 */
export function tiledGemmProgram(spec: TiledGemmSpec): WebGpuProgramLike {
  const { batch, m, n, k, tile } = spec;
  const shaderKey = ['thfrGemm', tile, batch, m, n, k, JSON.stringify(spec.a), JSON.stringify(spec.b), spec.bias, spec.activation].join('_');
  const rank = spec.outputShape.length;
  return {
    outputShape: spec.outputShape,
    shaderKey,
    dispatchLayout: { x: [rank - 1], y: Array.from({ length: rank - 1 }, (_, i) => i) } as { x: number[] },
    dispatch: [Math.ceil(n / tile), Math.ceil(m / tile), batch],
    variableNames: spec.bias ? ['A', 'B', 'bias'] : ['A', 'B'],
    workgroupSize: [THREADS, 1, 1],
    size: false,
    uniforms: 'rows : i32,',
    getUserCode: () => tiledGemmSource(spec),
  };
}
