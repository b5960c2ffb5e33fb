import { tf, selectBackend } from '@thfr/tensor';
import type { BackendCandidate, SkippedBackend } from '@thfr/tensor';
import { NODE_BACKEND_PRIORITY, backendOrder, describeBackend, parseKernelSwitch, registerAdamStep, registerCosineDistanceKernels, registerFusedBatchNorm, registerWebGpuConvGradients, registerWebGpuKernelChoices } from '@thfr/runtime-common';
import type { BackendDescription, KernelSwitch, KernelTuner, KernelTunerOptions, NodeBackendName } from '@thfr/runtime-common';
import { installDawnWebGpu } from './webgpu-dawn.js';
import { installWasm, wasmThreadsCount } from './wasm-node.js';

export interface NodeRuntimeOptions {
  /** Backends to try, in order. Default: webgpu, tensorflow, wasm, cpu. Env THFR_BACKEND forces one. */
  prefer?: NodeBackendName[];
  /**
   * Threads of the wasm backend (1-8). More than 1 runs tfjs' threaded SIMD build on worker_threads
   * (see README). Default: env THFR_WASM_THREADS, else `defaultWasmThreads()`.
   */
  threads?: number;
  /** Options for Dawn's create(), e.g. ['backend=vulkan'] (SwiftShader needs it). Env THFR_DAWN_OPTIONS (comma-separated) is the default. */
  dawnOptions?: string[];
  /** Folder of tfjs-backend-wasm's .wasm files. Default: the installed package's dist folder. */
  wasmPaths?: string;
  /**
   * Register thfr's fused training batch norm for the chosen backend (cpu, wasm, webgpu): 2 kernels per layer and
   * step instead of ~25. Default true; env THFR_FUSED_BATCH_NORM=0 turns it off. On wasm it costs ~10 % of a
   * training step (its JavaScript loops against wasm's SIMD ops; docs/backends.md).
   */
  fusedBatchNorm?: boolean;
  /**
   * Run tfjs-backend-webgpu's convolution gradients on thfr's kernels (@thfr/runtime-common): Conv2DBackpropFilter as a
   * split-K matrix product, Conv2DBackpropInput as a matMul or a forward conv, instead of tfjs' one-thread-per-element
   * loops, the slowest kernels of a training step on a GPU (2.2x faster steps on an H200: docs/benchmarks.md). Default
   * true; env THFR_WEBGPU_CONV_GRADIENTS=0 turns them off.
   */
  webgpuConvGradients?: boolean;
  /**
   * Dispatches tfjs-backend-webgpu encodes before it submits them to the GPU queue (its flag
   * WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE, 15 by default). Default 64: on an H200 through Dawn a THFR paper training step
   * took 2-10 % less time with 64 than with 15 or 256, inference the same or less (docs/benchmarks.md). Env
   * THFR_WEBGPU_SUBMIT_BATCH.
   */
  webgpuSubmitBatch?: number;
  /**
   * Run FusedAdam's step (@thfr/nn) as thfr's one-kernel THFR_ADAM_STEP on webgpu and cpu: per bucket of parameters
   * copies and one shader (webgpu) or one pass (cpu; wasm: in SIMD, see wasmSimdKernels) instead of ~17 element-wise
   * kernels, a concat and one slice per variable; the same floats. Default true; env
   * THFR_ADAM_STEP_KERNEL=0 turns it off.
   */
  adamStepKernel?: boolean;
  /**
   * On cpu and wasm, run 1 - cosine along channels (every restoration method's anomaly map, THFR's loss) as thfr's
   * fused kernel (@thfr/runtime-common's registerCosineDistanceKernels: one pass over both inputs instead of eleven tfjs
   * kernels; on wasm in SIMD, see wasmSimdKernels). Default true; env THFR_COSINE_DISTANCE_KERNEL=0 turns it off.
   */
  cosineDistanceKernel?: boolean;
  /**
   * wasm: run the fused batch norm's passes (~10x faster than its JavaScript loops) and FusedAdam's step (~4x faster
   * than wasm's element-wise ops, the same floats) in WebAssembly SIMD on tfjs-wasm's heap (@thfr/runtime-common's
   * batch-norm-simd.ts, adam-array-kernels.ts), and the fused cosine distance's; where the engine lacks SIMD the JavaScript loops and the ops stay.
   * Default true; env THFR_WASM_SIMD_KERNELS=0 turns it off.
   */
  wasmSimdKernels?: boolean;
  /**
   * Run tfjs-backend-webgpu's Conv2D, FusedConv2D (bias, ReLU), Conv2DBackpropInput and BatchMatMul on thfr's
   * register-tiled GEMM (@thfr/runtime-common's registerWebGpuTiledGemm: 128x128 outputs per workgroup, 8x8 per
   * thread, convolutions as an implicit im2col) instead of tfjs' 32x32 tiles. `'auto'`: per call shape, whichever of
   * the GEMM and the kernel it replaces was faster on this GPU and agreed with it (timed by `kernelTuner` between
   * steps, like cudnn.benchmark). Default false until it is timed on a GPU (docs/backends.md, "Register-tiled GEMM");
   * env THFR_WEBGPU_TILED_GEMM=1 or auto.
   */
  webgpuTiledGemm?: KernelSwitch;
  /**
   * Split the webgpu batch norm's per-channel sums over chunks of 1,024 rows (4-64x the workgroups for large layers,
   * 2 more shaders each); `'auto'` splits the call shapes where timing found it faster. Needs the fused batch norm.
   * Default false until it is timed on a GPU; env THFR_WEBGPU_SPLIT_BATCH_NORM=1 or auto.
   */
  webgpuSplitBatchNorm?: KernelSwitch;
  /** Settings of the tuner made where a kernel is 'auto' (calls in flight, rounds, tolerance, a callback per choice). */
  kernelTuning?: KernelTunerOptions;
}

export interface NodeRuntime {
  backend: NodeBackendName;
  /** The backends tried before it and why each could not be used. */
  skipped: SkippedBackend[];
  description: BackendDescription;
  /**
   * Where a webgpu kernel is 'auto': the tuner that times the call shapes (registered with @thfr/tensor's
   * tunePendingKernels, which thfr's loops call between steps); its `choices()` say what ran where.
   */
  kernelTuner?: KernelTuner;
}

// Optional peers that cannot be installed everywhere: a computed specifier keeps bundlers and
// TypeScript from resolving them at build time.
async function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

async function installTensorflow(): Promise<Record<string, string>> {
  const reasons: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await importOptional(pkg);
      return { package: pkg };
    } catch (error) {
      const message = (error as Error).message.split('\n')[0];
      reasons.push((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' ? `${pkg} is not installed` : `${pkg}: ${message}`);
    }
  }
  throw new Error(reasons.join('; '));
}

/**
 * Picks the fastest tensor backend that works here and makes it the active one:
 * WebGPU through Dawn, then tfjs-node(-gpu) if installed, then wasm (with thfr's training kernels),
 * then cpu. Returns the chosen name and why each earlier one was skipped.
 */
export async function initRuntime(options: NodeRuntimeOptions = {}): Promise<NodeRuntime> {
  const order = backendOrder(NODE_BACKEND_PRIORITY, options.prefer, process.env.THFR_BACKEND);
  const dawnOptions = options.dawnOptions ?? (process.env.THFR_DAWN_OPTIONS ? process.env.THFR_DAWN_OPTIONS.split(',') : []);
  const details: Record<string, string | number | boolean> = {};
  const install: Record<NodeBackendName, () => Promise<void>> = {
    webgpu: async () => {
      const adapter = await installDawnWebGpu(dawnOptions);
      details.adapter = adapter.description;
    },
    tensorflow: async () => {
      Object.assign(details, await installTensorflow());
    },
    wasm: async () => {
      Object.assign(details, await installWasm(options));
    },
    cpu: async () => {
      await import('@tensorflow/tfjs-backend-cpu');
    },
  };
  const candidates: BackendCandidate[] = order.map((name) => ({ name, init: install[name] }));
  const { backend, skipped } = await selectBackend(candidates);
  // Two kernels per batch-norm layer and training step instead of ~25 (@thfr/nn uses them when present).
  const fusedBatchNorm = options.fusedBatchNorm ?? process.env.THFR_FUSED_BATCH_NORM !== '0';
  const wasmSimd = options.wasmSimdKernels ?? process.env.THFR_WASM_SIMD_KERNELS !== '0';
  if (fusedBatchNorm) registerFusedBatchNorm(backend, { wasmSimd });
  if (options.adamStepKernel ?? process.env.THFR_ADAM_STEP_KERNEL !== '0') registerAdamStep(backend, { wasmSimd });
  if (options.cosineDistanceKernel ?? process.env.THFR_COSINE_DISTANCE_KERNEL !== '0') registerCosineDistanceKernels(backend, { wasmSimd });
  if (backend === 'webgpu' && (options.webgpuConvGradients ?? process.env.THFR_WEBGPU_CONV_GRADIENTS !== '0')) registerWebGpuConvGradients();
  const choices = {
    tiledGemm: options.webgpuTiledGemm ?? parseKernelSwitch('THFR_WEBGPU_TILED_GEMM', process.env.THFR_WEBGPU_TILED_GEMM),
    splitBatchNorm: options.webgpuSplitBatchNorm ?? parseKernelSwitch('THFR_WEBGPU_SPLIT_BATCH_NORM', process.env.THFR_WEBGPU_SPLIT_BATCH_NORM),
  };
  const kernelTuner = backend === 'webgpu' ? registerWebGpuKernelChoices({ ...choices, tuner: options.kernelTuning }, fusedBatchNorm).tuner : undefined;
  if (backend === 'webgpu') for (const [name, on] of Object.entries(choices)) if (on) details[name] = on;
  if (backend === 'webgpu') {
    const submitBatch = options.webgpuSubmitBatch ?? Number(process.env.THFR_WEBGPU_SUBMIT_BATCH ?? 64);
    if (!Number.isInteger(submitBatch) || submitBatch < 1) throw new RangeError(`initRuntime: webgpuSubmitBatch (or THFR_WEBGPU_SUBMIT_BATCH) must be a positive integer, got ${submitBatch}`);
    tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', submitBatch);
  }
  if (backend === 'wasm') {
    details.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    details.threads = await wasmThreadsCount();
  }
  return { backend: backend as NodeBackendName, skipped, description: describeBackend(details), ...(kernelTuner ? { kernelTuner } : {}) };
}
