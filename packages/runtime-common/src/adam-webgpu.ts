/**
 * @thfr/tensor's THFR_ADAM_STEP for tfjs-backend-webgpu: one Adam step over a bucket of parameters as copies and one
 * compute shader, recorded into the backend's command encoder (webgpu-internals.ts). tfjs' element-wise ops took ~35
 * shaders per bucket plus one slice per variable (500 of the 1,524 shaders of a paper-configuration training step);
 * each shader costs tfjs and Dawn ~0.4 ms of CPU time on an H200 host, copies cost neither a pipeline nor a bind group.
 *
 * Per call: the parameters and gradients are copied into two flat scratch buffers, one shader writes the new moments
 * and updates the flat parameters, and the new parameters are copied out into one new tensor each. The shader's
 * arithmetic is tf.train.adam's, op for op (see THFR_ADAM_STEP).
 */
import { tf, THFR_ADAM_STEP, type AdamStepAttrs } from '@thfr/tensor';

import type { KernelArgs, TensorInfo } from './composed-kernel.js';
import { replaceKernel } from './replace-kernel.js';
import { adamStepAttrs, adamStepInputs } from './adam-step-inputs.js';
import { workgroupGrid } from './webgpu-program.js';
import { cachedPipeline, webGpuInternals, type GpuBufferLike, type GpuDeviceLike, type WebGpuRecorder } from './webgpu-internals.js';

const WORKGROUP = 64;
/** Bytes between the per-chunk slots of the constants buffer: WebGPU's largest minStorageBufferOffsetAlignment. */
const SLOT_BYTES = 256;
const SLOT_FLOATS = SLOT_BYTES / 4;
/** Order of the constants in a slot; accβ₁ and accβ₂ are copied in on the GPU, the rest written from JS. */
const CONSTANTS = ['accBeta1', 'accBeta2', 'beta1', 'beta2', 'oneMinusBeta1', 'oneMinusBeta2', 'negativeLearningRate', 'epsilon'] as const;

const SHADER = `
struct Constants { ${CONSTANTS.map((name) => `${name} : f32,`).join(' ')} }
@group(0) @binding(0) var<storage, read_write> param : array<f32>;
@group(0) @binding(1) var<storage, read> grad : array<f32>;
@group(0) @binding(2) var<storage, read> m : array<f32>;
@group(0) @binding(3) var<storage, read> v : array<f32>;
@group(0) @binding(4) var<storage, read_write> newM : array<f32>;
@group(0) @binding(5) var<storage, read_write> newV : array<f32>;
@group(0) @binding(6) var<storage, read> k : Constants;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
  let i = id.y * groups.x * ${WORKGROUP}u + id.x;
  if (i >= arrayLength(&grad)) { return; }
  let g = grad[i];
  // tf.train.adam's ops in its order: each line one tfjs kernel.
  let mNew = m[i] * k.beta1 + g * k.oneMinusBeta1;
  let vNew = v[i] * k.beta2 + (g * g) * k.oneMinusBeta2;
  newM[i] = mNew;
  newV[i] = vNew;
  let mHat = mNew / (1.0 - k.accBeta1);
  let vHat = vNew / (1.0 - k.accBeta2);
  let ratio = mHat / (sqrt(vHat) + k.epsilon);
  param[i] = ratio * k.negativeLearningRate + param[i];
}`;

/** Chunks of the flat buffers that one binding can hold, aligned to the storage-offset alignment. */
function chunksOf(total: number, device: GpuDeviceLike): Array<{ start: number; length: number }> {
  const alignFloats = Math.max(device.limits.minStorageBufferOffsetAlignment, 4) / 4;
  const perChunk = Math.max(alignFloats, Math.floor(device.limits.maxStorageBufferBindingSize / 4 / alignFloats) * alignFloats);
  const chunks = [];
  for (let start = 0; start < total; start += perChunk) chunks.push({ start, length: Math.min(perChunk, total - start) });
  return chunks;
}

function constantsFor(attrs: AdamStepAttrs, chunks: number): Float32Array {
  const slot: Record<(typeof CONSTANTS)[number], number> = {
    accBeta1: 0,
    accBeta2: 0,
    beta1: attrs.beta1,
    beta2: attrs.beta2,
    // tfjs multiplies by the scalars 1 - β and -lr, computed in JS and rounded to float32.
    oneMinusBeta1: 1 - attrs.beta1,
    oneMinusBeta2: 1 - attrs.beta2,
    negativeLearningRate: -attrs.learningRate,
    epsilon: attrs.epsilon,
  };
  const values = new Float32Array(chunks * SLOT_FLOATS);
  for (let c = 0; c < chunks; c++) CONSTANTS.forEach((name, j) => { values[c * SLOT_FLOATS + j] = slot[name]; });
  return values;
}

function adamStep({ inputs, attrs, backend }: KernelArgs): TensorInfo[] {
  const recorder = webGpuInternals(backend);
  if (!recorder) throw new Error(`${THFR_ADAM_STEP}: the backend is not a tfjs-backend-webgpu 4.x that this kernel can record into`);
  const stepAttrs = adamStepAttrs(attrs);
  const { params, grads, m, v, accBeta1, accBeta2, total } = adamStepInputs(inputs, stepAttrs.count);
  const newM = recorder.allocate([total]);
  const newV = recorder.allocate([total]);
  const newParams = params.map((p) => recorder.allocate([...p.shape]));
  const chunks = chunksOf(total, recorder.device);
  const flatParams = recorder.allocate([total]);
  const flatGrads = recorder.allocate([total]);
  const constants = recorder.allocate([chunks.length * SLOT_FLOATS], constantsFor(stepAttrs, chunks.length));
  record(recorder, { params, grads, m, v, accBeta1, accBeta2, newM, newV, newParams, flatParams, flatGrads, constants }, chunks);
  recorder.own([...params, ...grads, m, v, accBeta1, accBeta2, newM, newV, ...newParams]);
  for (const scratch of [flatParams, flatGrads, constants]) recorder.release(scratch);
  return [newM, newV, ...newParams];
}

interface StepTensors {
  params: TensorInfo[];
  grads: TensorInfo[];
  m: TensorInfo;
  v: TensorInfo;
  accBeta1: TensorInfo;
  accBeta2: TensorInfo;
  newM: TensorInfo;
  newV: TensorInfo;
  newParams: TensorInfo[];
  flatParams: TensorInfo;
  flatGrads: TensorInfo;
  constants: TensorInfo;
}

/** Gather, update, scatter: the step's commands, in the backend's encoder after everything recorded so far. */
function record(recorder: WebGpuRecorder, t: StepTensors, chunks: Array<{ start: number; length: number }>): void {
  // Buffers first: an upload of CPU-side values records a copy of its own, which must precede ours.
  const params = t.params.map(recorder.buffer);
  const grads = t.grads.map(recorder.buffer);
  const newParams = t.newParams.map(recorder.buffer);
  const [m, v, acc1, acc2, newM, newV, flatParams, flatGrads, constants] = [t.m, t.v, t.accBeta1, t.accBeta2, t.newM, t.newV, t.flatParams, t.flatGrads, t.constants].map(recorder.buffer);
  const device = recorder.device;
  const pipeline = cachedPipeline(device, THFR_ADAM_STEP, SHADER);
  const encoder = recorder.encoder();
  // Each parameter's place in the flat buffers, in floats.
  const sizes = t.params.map((p) => tf.util.sizeFromShape(p.shape));
  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  sizes.forEach((size, i) => {
    encoder.copyBufferToBuffer(params[i], 0, flatParams, offsets[i] * 4, size * 4);
    encoder.copyBufferToBuffer(grads[i], 0, flatGrads, offsets[i] * 4, size * 4);
  });
  chunks.forEach((_, c) => {
    encoder.copyBufferToBuffer(acc1, 0, constants, c * SLOT_BYTES, 4);
    encoder.copyBufferToBuffer(acc2, 0, constants, c * SLOT_BYTES + 4, 4);
  });
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  const range = (b: GpuBufferLike, chunk: { start: number; length: number }) => ({ buffer: b, offset: chunk.start * 4, size: chunk.length * 4 });
  chunks.forEach((chunk, c) => {
    const entries = [flatParams, flatGrads, m, v, newM, newV].map((b, binding) => ({ binding, resource: range(b, chunk) }));
    entries.push({ binding: 6, resource: { buffer: constants, offset: c * SLOT_BYTES, size: CONSTANTS.length * 4 } });
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
    pass.dispatchWorkgroups(...workgroupGrid(Math.ceil(chunk.length / WORKGROUP), device.limits.maxComputeWorkgroupsPerDimension));
  });
  pass.end();
  sizes.forEach((size, i) => encoder.copyBufferToBuffer(flatParams, offsets[i] * 4, newParams[i], 0, size * 4));
}

/**
 * Registers THFR_ADAM_STEP for tfjs-backend-webgpu when the active backend is one this kernel can record into;
 * returns whether it did (FusedAdam keeps its element-wise ops otherwise). Idempotent.
 */
export function registerWebGpuAdamStep(backendName = 'webgpu'): boolean {
  const backend = tf.findBackend(backendName);
  if (backend == null || webGpuInternals(backend) == null) return false;
  replaceKernel(THFR_ADAM_STEP, backendName, adamStep);
  return true;
}
