/**
 * How thfr's kernels for the cpu and wasm backends reach the backend's buffers: inputs read in place (cpu's arrays,
 * views of wasm's heap) and outputs written in place (wasm's heap tensors) or handed over as arrays (cpu).
 */
import type { KernelArgs, TensorInfo } from './composed-kernel.js';

export type { KernelArgs, TensorInfo };

interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}
interface ArrayBackend {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/** The last dim of a channels-last input of rank >= 2 (what the fused kernels reduce over or per channel). */
export function channelsOf(info: TensorInfo, kernel: string, name: string): number {
  const channels = info.shape[info.shape.length - 1];
  if (!(info.shape.length >= 2 && channels > 0)) throw new Error(`${kernel}: ${name} must be channels-last with rank >= 2, got [${info.shape.join(', ')}]`);
  return channels;
}

/** Reads a float32 input in place where the backend allows it (cpu's array, wasm's heap). */
export function read(backend: unknown, info: TensorInfo, kernel: string, name: string): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`${kernel}: '${name}' must be float32, got ${info.dtype}`);
  const heap = backend as Partial<HeapBackend>;
  const values = heap.typedArrayFromHeap ? heap.typedArrayFromHeap(info) : (backend as ArrayBackend).readSync(info.dataId);
  if (!(values instanceof Float32Array)) throw new Error(`${kernel}: cannot read '${name}' on this backend`);
  return values;
}

/**
 * Float32 output buffers: wasm's heap tensors (allocated before any input is viewed: a growing heap detaches earlier
 * views) written in place, or arrays that become cpu tensors.
 */
export function allocate(backend: unknown, shapes: number[][]): { arrays: () => Float32Array[]; infos: () => TensorInfo[] } {
  const heap = backend as Partial<HeapBackend>;
  if (heap.makeOutput && heap.typedArrayFromHeap) {
    const infos = shapes.map((shape) => heap.makeOutput!(shape, 'float32'));
    return { arrays: () => infos.map((info) => heap.typedArrayFromHeap!(info)), infos: () => infos };
  }
  const arrays = shapes.map((shape) => new Float32Array(shape.reduce((p, q) => p * q, 1)));
  return { arrays: () => arrays, infos: () => shapes.map((shape, i) => (backend as ArrayBackend).makeTensorInfo(shape, 'float32', arrays[i])) };
}
