/**
 * What thfr's multi-output WebGPU kernels use of tfjs-backend-webgpu beyond `runWebGPUProgram`, typed structurally
 * (this package imports no backend). A tfjs WebGPU program writes one output buffer; a kernel that must write several
 * (the Adam step: new moments and new parameters) records its own copies and compute pass into the backend's command
 * encoder instead, so that it runs in order with tfjs' own work and is submitted with it.
 *
 * The fields used are those of tfjs-backend-webgpu 4.x (`commandEncoder`, `commandQueueOwnedIds`, ...): some are
 * private there, so `webGpuInternals` checks that each exists and returns undefined when one is missing (a later
 * tfjs), and the callers then keep tfjs' own kernels.
 */
import { tf } from '@thfr/tensor';

import type { TensorInfo } from './composed-kernel.js';

/** The WebGPU objects these kernels touch, as far as they use them. */
export interface GpuBufferLike {
  readonly size: number;
}
export interface GpuComputePassLike {
  setPipeline(pipeline: unknown): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}
export interface GpuCommandEncoderLike {
  copyBufferToBuffer(source: GpuBufferLike, sourceOffset: number, destination: GpuBufferLike, destinationOffset: number, size: number): void;
  beginComputePass(descriptor?: object): GpuComputePassLike;
}
export interface GpuDeviceLike {
  readonly limits: { maxStorageBufferBindingSize: number; maxComputeWorkgroupsPerDimension: number; minStorageBufferOffsetAlignment: number };
  createShaderModule(descriptor: { code: string }): unknown;
  createComputePipeline(descriptor: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): { getBindGroupLayout(index: number): unknown };
  createBindGroup(descriptor: { layout: unknown; entries: Array<{ binding: number; resource: { buffer: GpuBufferLike; offset?: number; size?: number } }> }): unknown;
}

/** tfjs-backend-webgpu's WebGPUBackend, as far as these kernels use it. */
interface WebGpuBackendInternals {
  device: GpuDeviceLike;
  tensorMap: { get(dataId: object): { resource?: unknown; values?: unknown; refCount: number } };
  commandEncoder: GpuCommandEncoderLike | null;
  commandQueueOwnedIds: { add(dataId: object): void };
  makeTensorInfo(shape: number[], dtype: 'float32', values?: Float32Array): TensorInfo;
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  disposeData(dataId: object): boolean;
}

/** The backend's command encoder and buffers, for kernels that record their own commands. */
export interface WebGpuRecorder {
  readonly device: GpuDeviceLike;
  /** A new float32 tensor of the backend (its buffer allocated from tfjs' pool), optionally holding `values`. */
  allocate(shape: number[], values?: Float32Array): TensorInfo;
  /** The GPU buffer of a tensor, uploaded first if its values are still on the CPU. */
  buffer(info: TensorInfo): GpuBufferLike;
  /**
   * The backend's command encoder with no compute pass open: what is recorded there runs after every kernel
   * launched so far and before every later one, in the same submission.
   */
  encoder(): GpuCommandEncoderLike;
  /**
   * Marks tensors as read or written by the recorded commands: if one is disposed before tfjs submits them, its
   * buffer goes back to the pool only after the submission (what tfjs does for its own programs).
   */
  own(infos: readonly TensorInfo[]): void;
  /** Frees a tensor made by `allocate` that no output returns (a scratch buffer), once the commands are submitted. */
  release(info: TensorInfo): void;
}

const REQUIRED_METHODS = ['makeTensorInfo', 'uploadToGPU', 'ensureCommandEncoderReady', 'endComputePassEncoder', 'disposeData'] as const;

/** A recorder over `backend`, or undefined when it is not a tfjs-backend-webgpu with the fields above. */
export function webGpuInternals(backend: unknown): WebGpuRecorder | undefined {
  const gpu = backend as Partial<WebGpuBackendInternals> | undefined;
  if (gpu == null || gpu.device == null || gpu.tensorMap == null || gpu.commandQueueOwnedIds == null) return undefined;
  if (REQUIRED_METHODS.some((name) => typeof gpu[name] !== 'function')) return undefined;
  if (!('commandEncoder' in gpu)) return undefined;
  const internals = gpu as WebGpuBackendInternals;
  return {
    device: internals.device,
    allocate(shape, values) {
      const info = internals.makeTensorInfo(shape, 'float32', values);
      internals.uploadToGPU(info.dataId);
      return info;
    },
    buffer(info) {
      internals.uploadToGPU(info.dataId);
      const resource = internals.tensorMap.get(info.dataId).resource as GpuBufferLike | undefined;
      if (resource == null || typeof resource.size !== 'number') throw new Error(`webgpu: tensor [${info.shape}] (${info.dtype}) has no GPU buffer`);
      return resource;
    },
    encoder() {
      internals.ensureCommandEncoderReady();
      internals.endComputePassEncoder();
      return internals.commandEncoder!;
    },
    own(infos) {
      for (const info of infos) internals.commandQueueOwnedIds.add(info.dataId);
    },
    release(info) {
      internals.commandQueueOwnedIds.add(info.dataId);
      internals.disposeData(info.dataId);
    },
  };
}

/**
 * A complete WGSL compute shader with several outputs: bindings 0 … outputs-1 are the outputs (read_write), then the
 * inputs (read), then one storage buffer of uniforms (the caller's `uniforms` tensor), all arrays of f32.
 */
export interface MultiOutputProgram {
  /** Identifies `code` in the pipeline cache. */
  key: string;
  code: string;
}

const pipelineCache = new WeakMap<GpuDeviceLike, Map<string, ReturnType<GpuDeviceLike['createComputePipeline']>>>();

/** The compiled pipeline of `code`, made once per device and key. */
export function cachedPipeline(device: GpuDeviceLike, key: string, code: string): ReturnType<GpuDeviceLike['createComputePipeline']> {
  let cache = pipelineCache.get(device);
  if (!cache) pipelineCache.set(device, (cache = new Map()));
  let pipeline = cache.get(key);
  if (!pipeline) {
    pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    cache.set(key, pipeline);
  }
  return pipeline;
}

/**
 * Records `program` into the backend's encoder as one compute pass: new float32 outputs of `outputShapes`, written
 * by one dispatch where a tfjs program would take one dispatch per output. `uniforms` holds the shader's uniform
 * struct (bit patterns of i32 fields included) and is freed after the submission.
 */
export function runMultiOutputProgram(recorder: WebGpuRecorder, program: MultiOutputProgram, workgroups: [number, number, number], outputShapes: number[][], inputs: TensorInfo[], uniforms: Float32Array): TensorInfo[] {
  const outputs = outputShapes.map((shape) => recorder.allocate(shape));
  const uniformTensor = recorder.allocate([uniforms.length], uniforms);
  const bound = [...outputs, ...inputs, uniformTensor];
  const buffers = bound.map((info) => recorder.buffer(info));
  const pipeline = cachedPipeline(recorder.device, program.key, program.code);
  const bindGroup = recorder.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    // The tensor's bytes only: a pooled buffer may be larger.
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer, size: tf.util.sizeFromShape(bound[binding].shape) * 4 } })),
  });
  const pass = recorder.encoder().beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(...workgroups);
  pass.end();
  recorder.own([...outputs, ...inputs]);
  recorder.release(uniformTensor);
  return outputs;
}

/** A uniform struct's values (tfjs' program-uniform format) as float32 storage: i32 fields as their bit patterns. */
export function packUniforms(fields: ReadonlyArray<{ type: 'int32' | 'float32'; data: number[] }>): Float32Array {
  const values = fields.flatMap((field) => field.data.map((value) => ({ type: field.type, value })));
  const words = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach(({ type, value }, i) => {
    if (type === 'int32') words.setInt32(i * 4, value, true);
    else words.setFloat32(i * 4, value, true);
  });
  return new Float32Array(words.buffer);
}
