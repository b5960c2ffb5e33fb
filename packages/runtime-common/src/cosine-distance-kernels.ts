/**
 * The fused 1 - cosine along channels (@thfr/tensor's THFR_COSINE_DISTANCE and its gradient) for the cpu and wasm
 * backends: one pass over both inputs forward, two backward, on the backend's own buffers (wasm: its heap, read in
 * place), where tfjs ops take nine kernels forward. On wasm the passes run in WebAssembly SIMD
 * (wasm/cosine-distance.wat) where the engine has it and the channels are a multiple of 4; elsewhere the reference
 * arithmetic of cosine-distance-kernel.ts runs on the same buffers.
 */
import { tf, THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD, cosineDistanceGradValues, cosineDistanceValues } from '@thfr/tensor';
import { replaceKernel } from './replace-kernel.js';
import { allocate, channelsOf, read, type KernelArgs, type TensorInfo } from './array-kernel-io.js';
import { cosineDistanceWasmBase64 } from './wasm/cosine-distance-wasm.js';
import { wasmHeapModule, type WasmHeapModule } from './wasm-heap-module.js';

interface CosineDistanceExports {
  forward(a: number, b: number, out: number, rows: number, ch: number, eps2: number): void;
  backward(a: number, b: number, dy: number, da: number, db: number, rows: number, ch: number, eps: number): void;
}

/** The SIMD kernels on `backend`'s heap, or undefined (not tfjs-wasm, no SIMD, a threaded build). */
export function cosineDistanceSimdFor(backend: unknown): WasmHeapModule<CosineDistanceExports> | undefined {
  return wasmHeapModule<CosineDistanceExports>(backend, 'cosine-distance.wat', cosineDistanceWasmBase64);
}

function checkInputs(a: TensorInfo, b: TensorInfo, kernel: string): number {
  const channels = channelsOf(a, kernel, 'a');
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${kernel}: a [${a.shape.join(', ')}] and b [${b.shape.join(', ')}] must have the same shape`);
  }
  return channels;
}

const epsilonOf = (attrs: KernelArgs['attrs'], kernel: string): number => {
  const epsilon = attrs?.epsilon;
  if (typeof epsilon !== 'number' || !(epsilon > 0)) throw new Error(`${kernel}: attr epsilon must be a positive number, got ${String(epsilon)}`);
  return epsilon;
};

/** One output, returned as itself (not in an array), so that runKernel gives the tensor and tf.grads can differentiate it. */
function forward({ inputs, attrs, backend }: KernelArgs, simd: boolean): TensorInfo {
  const k = THFR_COSINE_DISTANCE;
  const { a, b } = inputs;
  const channels = checkInputs(a, b, k);
  const epsilon = epsilonOf(attrs, k);
  const outputs = allocate(backend, [a.shape.slice(0, -1)]);
  const heap = simd && channels % 4 === 0 ? cosineDistanceSimdFor(backend) : undefined;
  const [distance] = outputs.arrays();
  const va = read(backend, a, k, 'a');
  const vb = read(backend, b, k, 'b');
  if (heap) {
    heap.exports.forward(heap.pointer(va, 'a'), heap.pointer(vb, 'b'), heap.pointer(distance, 'distance'), distance.length, channels, epsilon * epsilon);
  } else {
    cosineDistanceValues(va, vb, channels, epsilon, distance);
  }
  return outputs.infos()[0];
}

function backward({ inputs, attrs, backend }: KernelArgs, simd: boolean): TensorInfo[] {
  const k = THFR_COSINE_DISTANCE_GRAD;
  const { a, b, dy } = inputs;
  const channels = checkInputs(a, b, k);
  const epsilon = epsilonOf(attrs, k);
  const rows = tf.util.sizeFromShape(a.shape) / channels;
  if (tf.util.sizeFromShape(dy.shape) !== rows) throw new Error(`${k}: dy [${dy.shape.join(', ')}] must hold one value per position of a [${a.shape.join(', ')}]`);
  const outputs = allocate(backend, [a.shape, a.shape]);
  const heap = simd && channels % 4 === 0 ? cosineDistanceSimdFor(backend) : undefined;
  const [da, db] = outputs.arrays();
  const va = read(backend, a, k, 'a');
  const vb = read(backend, b, k, 'b');
  const vdy = read(backend, dy, k, 'dy');
  if (heap) {
    heap.exports.backward(heap.pointer(va, 'a'), heap.pointer(vb, 'b'), heap.pointer(vdy, 'dy'), heap.pointer(da, 'da'), heap.pointer(db, 'db'), rows, channels, epsilon);
  } else {
    cosineDistanceGradValues(va, vb, vdy, channels, epsilon, { da, db });
  }
  return outputs.infos();
}

/** Backends whose buffers these kernels read in place. */
export const ARRAY_COSINE_DISTANCE_BACKENDS = ['cpu', 'wasm'] as const;

export interface CosineDistanceKernelOptions {
  /** wasm: run the passes in WebAssembly SIMD on the heap where the engine allows it (default true); false: the reference loops. */
  wasmSimd?: boolean;
}

/**
 * Registers the fused cosine distance for `backendName` ('cpu' or 'wasm'; idempotent: a second call replaces the
 * first's), or returns [] for another backend (which keeps tfjs ops). @thfr/postprocess's cosineDistanceMap uses it
 * whenever the active backend has it. Returns the kernel names registered.
 */
export function registerCosineDistanceKernels(backendName: string, options: CosineDistanceKernelOptions = {}): string[] {
  if (!(ARRAY_COSINE_DISTANCE_BACKENDS as readonly string[]).includes(backendName)) return [];
  const simd = backendName === 'wasm' && (options.wasmSimd ?? true);
  for (const [kernelName, kernelFunc] of [[THFR_COSINE_DISTANCE, forward], [THFR_COSINE_DISTANCE_GRAD, backward]] as const) {
    replaceKernel(kernelName, backendName, (args: KernelArgs) => kernelFunc(args, simd));
  }
  return [THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD];
}
