/**
 * Replaces tfjs-backend-wasm's convolution, its two gradients and matMul with kernels that run onnxruntime-node's
 * native CPU code (MLAS GEMM, multi-threaded) on the tensors where they lie in the wasm heap: inputs are fed as
 * views of the heap and onnxruntime writes the output straight into a heap buffer, so nothing is copied. tfjs-wasm
 * runs a 3 x 3 conv at ~43 GFLOP/s on one thread in Node; onnxruntime at ~210 on one core and ~385 on two
 * (docs/backends.md). Everything else stays on wasm, and so does any call this file does not handle (another
 * layout, a dtype other than float32, an op too small to be worth the ~30 µs a session run costs).
 */
import { availableParallelism } from 'node:os';
import { tf } from '@thfr/tensor';
import { ortSessionOptions } from '@thfr/backbone-onnx';
import { patchCount, wasmPatchesFor, type WasmPatches } from '@thfr/runtime-common';
import { loadNativeOrt, type NativeOrt, type NativeSession, type NativeTensor } from './native-session.js';
import {
  convFilterGradientModel,
  convForwardModel,
  convInputGradientModel,
  isPointwise,
  matMulModel,
  patchProductModel,
  tilesInput,
  transposeOutputPadding,
  type ConvGeometry,
  type FeedLayout,
  type KernelModel,
} from './kernel-graphs.js';

type TensorInfo = { dataId: object; shape: number[]; dtype: string };
type KernelArgs = { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown };
type KernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** The part of tfjs-backend-wasm's BackendWasm the kernels use. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

/** The tfjs kernels this package can run on onnxruntime. */
export const ORT_KERNELS = ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul'] as const;
export type OrtKernelName = (typeof ORT_KERNELS)[number];

export interface OrtKernelOptions {
  /** The tfjs backend whose kernels are replaced (default 'wasm'; the kernels read and write its heap). */
  backendName?: string;
  /** onnxruntime's intra-op threads (default: the machine's available parallelism). */
  threads?: number;
  /**
   * Ops below this many floating-point operations stay on wasm (default 4e6): a session run costs ~30 µs, what wasm
   * needs for ~1.3 MFLOP.
   */
  minFlops?: number;
  /** Let onnxruntime's threads spin between runs (default false: they would take the core wasm runs on). */
  allowSpinning?: boolean;
  /** Which kernels to replace (default: all of ORT_KERNELS). */
  kernels?: readonly OrtKernelName[];
  /**
   * Write the patch matrix of a convolution and of its filter gradient on the wasm heap with @thfr/runtime-common's
   * wasm patches (one memory copy per tap and pixel) instead of onnxruntime's Pad, strided Slices and Concat, which
   * took 3-4x the time of the product (docs/backends.md). Default true; false keeps the patches in the graph.
   */
  wasmPatches?: boolean;
}

/** How many calls of each kernel ran on onnxruntime and how many stayed on wasm, and the sessions open. */
export interface OrtKernelStats {
  onnxruntime: Record<string, number>;
  wasm: Record<string, number>;
  /** Of the onnxruntime calls, those whose patch matrix the wasm patches wrote (option wasmPatches). */
  wasmPatches: Record<string, number>;
  sessions: number;
}

export interface OrtKernels {
  readonly kernels: readonly OrtKernelName[];
  readonly backendName: string;
  readonly threads: number;
  /** The onnxruntime-node version the kernels run on. */
  readonly onnxruntimeVersion: string;
  /** The options it was registered with (registering them again gives the same kernels). */
  readonly options: OrtKernelOptions;
  stats(): OrtKernelStats;
  /** Gives the backend its previous kernels back and releases the sessions. */
  dispose(): void;
}

let active: OrtKernels | undefined;

/** The registration in force (from `registerOrtKernels`), if any. */
export function activeOrtKernels(): OrtKernels | undefined {
  return active;
}

/**
 * Runs `fn` with the kernels registered with `options` (undefined: none, wasm's own kernels), then restores the
 * registration that was in force before, with its options (a measurement of one setting inside a run of another).
 */
export async function withOrtKernels<T>(options: OrtKernelOptions | undefined, fn: () => Promise<T>): Promise<T> {
  const before = active?.options;
  if (options) registerOrtKernels(options);
  else active?.dispose();
  try {
    return await fn();
  } finally {
    if (before) registerOrtKernels(before);
    else active?.dispose();
  }
}

/** A convolution's geometry from tfjs' own Conv2DInfo (the padding tfjs would apply, 'same' included). */
function geometry(xShape: number[], filterShape: number[], attrs: Record<string, unknown>): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number],
    (attrs.dilations as [number, number] | undefined) ?? 1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as undefined,
    false,
    'channelsLast',
  );
  return {
    inHeight: info.inHeight, inWidth: info.inWidth, inChannels: info.inChannels,
    outHeight: info.outHeight, outWidth: info.outWidth, outChannels: info.outChannels,
    filterHeight: info.filterHeight, filterWidth: info.filterWidth,
    strideHeight: info.strideHeight, strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight, dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top, padBottom: info.padInfo.bottom, padLeft: info.padInfo.left, padRight: info.padInfo.right,
  };
}

const geometryKey = (g: ConvGeometry) => Object.values(g).join(',');
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const convFlops = (batch: number, g: ConvGeometry) => 2 * batch * g.outHeight * g.outWidth * g.outChannels * g.filterHeight * g.filterWidth * g.inChannels;
const isNhwc = (attrs: Record<string, unknown>) => (attrs.dataFormat ?? 'NHWC') === 'NHWC';

/**
 * Replaces the wasm backend's Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput and BatchMatMul with kernels on
 * onnxruntime-node (see the file comment). Register tfjs-backend-wasm first (and, to train, @thfr/runtime-common's
 * `registerWasmTrainingKernels`): the kernels it replaces are kept for the calls it leaves to wasm and given back
 * by `dispose()`. Registering again replaces the previous registration. Throws when onnxruntime-node is missing.
 */
export function registerOrtKernels(options: OrtKernelOptions = {}): OrtKernels {
  const backendName = options.backendName ?? 'wasm';
  const threads = options.threads ?? availableParallelism();
  // Checks threads too (one error naming registerOrtKernels). One arena per session would keep each session's peak
  // (patch matrices of ~100 MB) for good.
  const sessionOptions = ortSessionOptions({ threads, allowSpinning: options.allowSpinning, sessionOptions: { enableCpuMemArena: false } }, 'registerOrtKernels');
  const minFlops = options.minFlops ?? 4e6;
  if (!(minFlops >= 0)) throw new Error(`registerOrtKernels: minFlops must be >= 0, got ${minFlops}`);
  const names = options.kernels ?? ORT_KERNELS;
  for (const name of names) {
    if (!(ORT_KERNELS as readonly string[]).includes(name)) throw new Error(`registerOrtKernels: unknown kernel '${name}'; one of ${ORT_KERNELS.join(', ')}`);
  }
  const ort = loadNativeOrt();
  for (const name of names) {
    if (!tf.getKernel(name, backendName)) throw new Error(`registerOrtKernels: backend '${backendName}' has no '${name}' kernel to fall back on; register the backend${name === 'Conv2DBackpropFilter' ? " and @thfr/runtime-common's registerWasmTrainingKernels()" : ''} first`);
  }
  // The kernels to fall back on are the backend's own, not a previous registration's.
  active?.dispose();
  const previous = new Map<string, KernelFunc>(names.map((name) => [name, tf.getKernel(name, backendName)!.kernelFunc as KernelFunc]));

  const sessions = new Map<string, { session: NativeSession; model: KernelModel }>();
  const session = (key: string, build: () => KernelModel): { session: NativeSession; model: KernelModel } => {
    let entry = sessions.get(key);
    if (!entry) {
      const model = build();
      entry = { session: ort.createSession(model.bytes, sessionOptions), model };
      sessions.set(key, entry);
    }
    return entry;
  };
  const counts = { onnxruntime: {} as Record<string, number>, wasm: {} as Record<string, number>, wasmPatches: {} as Record<string, number> };
  const useWasmPatches = options.wasmPatches ?? true;
  const count = (engine: 'onnxruntime' | 'wasm', name: string) => {
    counts[engine][name] = (counts[engine][name] ?? 0) + 1;
  };

  type Entry = { session: NativeSession; model: KernelModel };
  /** The inputs as onnxruntime tensors over their heap views (take them after every allocation of the call). */
  const feedsOf = (backend: WasmBackendLike, entry: Entry, inputs: Record<string, TensorInfo>): Record<string, NativeTensor> => {
    const feeds: Record<string, NativeTensor> = {};
    for (const [name, info] of Object.entries(inputs)) {
      feeds[name] = new ort.Tensor('float32', backend.typedArrayFromHeap(info), feedDims(info.shape, entry.model.inputLayout[name]));
    }
    return feeds;
  };
  /** Runs the session with its single output written into `target` (a heap view) as `dims`. */
  const runInto = (entry: Entry, feeds: Record<string, NativeTensor>, target: Float32Array, dims: number[]): void => {
    const outputName = entry.session.outputNames[0];
    const result = entry.session.run(feeds, { [outputName]: new ort.Tensor('float32', target, dims) })[outputName];
    // onnxruntime-node writes into pre-allocated outputs; copy in case a version hands back its own buffer.
    if (result && (result.data.buffer !== target.buffer || result.data.byteOffset !== target.byteOffset)) target.set(result.data);
  };
  /**
   * Runs `model` on the heap views of `inputs`, writing its single output into a new heap tensor of `outShape`. With
   * `patches`, the model's 'patches' input is the patch matrix of that tensor, written on the heap first.
   */
  const run = (backend: WasmBackendLike, entry: Entry, inputs: Record<string, TensorInfo>, outShape: number[], outDims: number[],
    patches?: { writer: WasmPatches; x: TensorInfo; batch: number; g: ConvGeometry }): TensorInfo => {
    // Allocate first: a growing heap would detach views taken before.
    const out = backend.makeOutput(outShape, 'float32');
    const count = patches ? patches.writer.size(patches.batch, patches.g) : 0;
    const scratch = patches ? patches.writer.heap.malloc(count * 4) : 0;
    try {
      const extra: Record<string, NativeTensor> = {};
      if (patches) {
        const { writer, x, batch, g } = patches;
        writer.write(backend.typedArrayFromHeap(x), scratch, batch, g);
        extra.patches = new ort.Tensor('float32', writer.heap.f32(scratch, count), [count / patchCount(g), patchCount(g)]);
      }
      runInto(entry, { ...feedsOf(backend, entry, inputs), ...extra }, backend.typedArrayFromHeap(out), outDims);
      return out;
    } finally {
      if (patches) patches.writer.heap.free(scratch);
    }
  };
  /** Runs a 'patch-gradient' model into heap scratch and scatters its rows into a new NHWC heap tensor of `outShape`. */
  const runIntoTiles = (backend: WasmBackendLike, entry: Entry, inputs: Record<string, TensorInfo>, outShape: number[], writer: WasmPatches, batch: number, g: ConvGeometry): TensorInfo => {
    const out = backend.makeOutput(outShape, 'float32');
    const count = writer.size(batch, g);
    const scratch = writer.heap.malloc(count * 4);
    try {
      const rows = batch * g.outHeight * g.outWidth;
      runInto(entry, feedsOf(backend, entry, inputs), writer.heap.f32(scratch, count), [rows, count / rows]);
      writer.writeTiles(scratch, backend.typedArrayFromHeap(out), batch, g);
      return out;
    } finally {
      writer.heap.free(scratch);
    }
  };
  /** The wasm patch writer for a convolution that needs patches (not a pointwise one), when the option allows it. */
  const patchWriter = (backend: unknown, g: ConvGeometry, kernel: string): WasmPatches | undefined => {
    if (!useWasmPatches || isPointwise(g)) return undefined;
    const writer = wasmPatchesFor(backend);
    if (writer) counts.wasmPatches[kernel] = (counts.wasmPatches[kernel] ?? 0) + 1;
    return writer;
  };

  const handlers: Record<OrtKernelName, (args: KernelArgs) => TensorInfo | undefined> = {
    Conv2D: ({ inputs: { x, filter }, attrs = {}, backend }) => {
      if (x.dtype !== 'float32' || filter.dtype !== 'float32' || !isNhwc(attrs)) return undefined;
      const g = geometry(x.shape, filter.shape, attrs);
      const batch = x.shape[0];
      if (convFlops(batch, g) < minFlops) return undefined;
      const rows = batch * g.outHeight * g.outWidth;
      const outShape = [batch, g.outHeight, g.outWidth, g.outChannels];
      const writer = patchWriter(backend, g, 'Conv2D');
      if (writer) {
        const columns = patchCount(g);
        const entry = session(`Conv2D|patches|${columns},${g.outChannels}`, () => patchProductModel('forward', columns, g.outChannels));
        return run(backend as WasmBackendLike, entry, { other: filter }, outShape, [rows, g.outChannels], { writer, x, batch, g });
      }
      const entry = session(`Conv2D|${geometryKey(g)}`, () => convForwardModel(g));
      return run(backend as WasmBackendLike, entry, { x, filter }, outShape, [rows, g.outChannels]);
    },
    Conv2DBackpropFilter: ({ inputs: { x, dy }, attrs = {}, backend }) => {
      if (x.dtype !== 'float32' || dy.dtype !== 'float32' || !isNhwc(attrs)) return undefined;
      const filterShape = attrs.filterShape as number[];
      const g = geometry(x.shape, filterShape, attrs);
      const batch = x.shape[0];
      if (convFlops(batch, g) < minFlops) return undefined;
      const columns = patchCount(g);
      const writer = patchWriter(backend, g, 'Conv2DBackpropFilter');
      if (writer) {
        const entry = session(`Conv2DBackpropFilter|patches|${columns},${g.outChannels}`, () => patchProductModel('filter-gradient', columns, g.outChannels));
        return run(backend as WasmBackendLike, entry, { other: dy }, filterShape, [columns, g.outChannels], { writer, x, batch, g });
      }
      const entry = session(`Conv2DBackpropFilter|${geometryKey(g)}`, () => convFilterGradientModel(g));
      return run(backend as WasmBackendLike, entry, { x, dy }, filterShape, [columns, g.outChannels]);
    },
    Conv2DBackpropInput: ({ inputs: { dy, filter }, attrs = {}, backend }) => {
      if (dy.dtype !== 'float32' || filter.dtype !== 'float32' || !isNhwc(attrs)) return undefined;
      const inputShape = attrs.inputShape as number[];
      const g = geometry(inputShape, filter.shape, attrs);
      const batch = inputShape[0];
      if (convFlops(batch, g) < minFlops) return undefined;
      if (!isPointwise(g) && !tilesInput(g) && !transposeOutputPadding(g)) return undefined;
      const writer = tilesInput(g) ? patchWriter(backend, g, 'Conv2DBackpropInput') : undefined;
      if (writer) {
        // Each output pixel's patch gradient (one Gemm) into heap scratch, scattered back to its block by wasm.
        const columns = patchCount(g);
        const entry = session(`Conv2DBackpropInput|tiles|${columns},${g.outChannels}`, () => patchProductModel('patch-gradient', columns, g.outChannels));
        return runIntoTiles(backend as WasmBackendLike, entry, { patches: dy, other: filter }, inputShape, writer, batch, g);
      }
      const entry = session(`Conv2DBackpropInput|${geometryKey(g)}`, () => convInputGradientModel(g));
      return run(backend as WasmBackendLike, entry, { dy, filter }, inputShape, inputShape);
    },
    BatchMatMul: ({ inputs: { a, b }, attrs = {}, backend }) => {
      if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
      const transposeA = Boolean(attrs.transposeA);
      const transposeB = Boolean(attrs.transposeB);
      const [a0, a1] = a.shape.slice(-2);
      const [b0, b1] = b.shape.slice(-2);
      const [m, k] = transposeA ? [a1, a0] : [a0, a1];
      const n = transposeB ? b0 : b1;
      const outerA = a.shape.slice(0, -2);
      const outerB = b.shape.slice(0, -2);
      const batchA = size(outerA);
      const batchB = size(outerB);
      // Equal batches or one side shared by all (what one ONNX MatMul broadcasts); tfjs' other broadcasts stay on wasm.
      if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
      if (2 * Math.max(batchA, batchB) * m * n * k < minFlops) return undefined;
      const outer = batchA >= batchB ? outerA : outerB;
      const entry = session(`BatchMatMul|${m},${k},${n},${batchA},${batchB},${transposeA},${transposeB}`, () => matMulModel(m, k, n, batchA, batchB, transposeA, transposeB));
      const outDims = batchA === 1 && batchB === 1 ? [m, n] : [Math.max(batchA, batchB), m, n];
      return run(backend as WasmBackendLike, entry, { a, b }, [...outer, m, n], outDims);
    },
  };

  for (const name of names) {
    const fallback = previous.get(name)!;
    const handle = handlers[name];
    tf.unregisterKernel(name, backendName);
    tf.registerKernel({
      kernelName: name,
      backendName,
      kernelFunc: ((args: KernelArgs) => {
        const out = handle(args);
        if (out) {
          count('onnxruntime', name);
          return out;
        }
        count('wasm', name);
        return fallback(args);
      }) as never,
    });
  }

  let disposed = false;
  const registration: OrtKernels = {
    kernels: [...names],
    backendName,
    threads,
    onnxruntimeVersion: ort.version,
    options: { ...options },
    stats: () => ({ onnxruntime: { ...counts.onnxruntime }, wasm: { ...counts.wasm }, wasmPatches: { ...counts.wasmPatches }, sessions: sessions.size }),
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const [name, kernelFunc] of previous) {
        tf.unregisterKernel(name, backendName);
        tf.registerKernel({ kernelName: name, backendName, kernelFunc: kernelFunc as never });
      }
      for (const entry of sessions.values()) entry.session.dispose();
      sessions.clear();
      if (active === registration) active = undefined;
    },
  };
  active = registration;
  return registration;
}

/** The dims a tensor is fed with (see FeedLayout). */
function feedDims(shape: number[], layout: FeedLayout | undefined): number[] {
  if (layout === 'matrix') return [size(shape.slice(0, -1)), shape[shape.length - 1]];
  if (layout === 'batched-matrix') return [size(shape.slice(0, -2)), ...shape.slice(-2)];
  return shape;
}


