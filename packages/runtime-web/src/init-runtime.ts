import { tf, selectBackend } from '@thfr/tensor';
import type { BackendCandidate, SkippedBackend } from '@thfr/tensor';
import { WEB_BACKEND_PRIORITY, backendOrder, describeBackend, registerAdamStep, registerCosineDistanceKernels, registerFusedBatchNorm, registerWasmTrainingKernels, registerWebGpuConvGradients, registerWebGpuKernelChoices } from '@thfr/runtime-common';
import type { BackendDescription, KernelSwitch, KernelTuner, KernelTunerOptions, WebBackendName } from '@thfr/runtime-common';
import { probeWebGlRenderer, probeWebGpuAdapter, type AdapterLike } from './software-gpu.js';

export interface WebRuntimeOptions {
  /** Backends to try, in order. Default: webgpu, webgl, wasm, cpu. */
  prefer?: WebBackendName[];
  /** wasm threads (needs a cross-origin isolated page: COOP/COEP headers). Default: tfjs' choice. */
  threads?: number;
  /**
   * Where tfjs-backend-wasm's .wasm files are served: a folder URL ending in '/', or a map from file
   * name to URL. Default './': next to the page.
   */
  wasmPaths?: string | Record<string, string>;
  /** Force one backend (as THFR_BACKEND does in Node), e.g. from a URL parameter; a forced GPU backend is used even on a software device. */
  force?: WebBackendName;
  /**
   * Use WebGPU / WebGL on a software device too: a fallback adapter (`isFallbackAdapter`) or a CPU
   * rasteriser (SwiftShader, llvmpipe, ...) named by the adapter info or the WebGL renderer. Default false:
   * such a backend is skipped with the reason, since wasm is 5-30x faster on the same CPU.
   */
  allowSoftwareGpu?: boolean;
  /** Register thfr's fused training batch norm for the chosen backend (cpu, wasm, webgpu). Default true. */
  fusedBatchNorm?: boolean;
  /**
   * Run tfjs-backend-webgpu's convolution gradients on thfr's kernels (@thfr/runtime-common): Conv2DBackpropFilter as a
   * split-K matrix product, Conv2DBackpropInput as a matMul or a forward conv, instead of tfjs' one-thread-per-element
   * loops, the slowest kernels of a training step on a GPU (2.2x faster steps on an H200: docs/benchmarks.md). Default true.
   */
  webgpuConvGradients?: boolean;
  /**
   * Run FusedAdam's step (@thfr/nn) as thfr's one-kernel THFR_ADAM_STEP on webgpu, cpu and wasm (there in SIMD on the
   * heap where the engine has SIMD and tfjs-wasm runs unthreaded); the same floats. Default true.
   */
  adamStepKernel?: boolean;
  /**
   * On cpu and wasm, run 1 - cosine along channels (the anomaly map, THFR's loss) as thfr's fused kernel
   * (@thfr/runtime-common's registerCosineDistanceKernels; on wasm in SIMD where it binds). Default true.
   */
  cosineDistanceKernel?: boolean;
  /**
   * Run Conv2D, FusedConv2D (bias, ReLU), Conv2DBackpropInput and BatchMatMul on thfr's register-tiled WebGPU GEMM
   * instead of tfjs' 32x32 tiles (@thfr/runtime-common's registerWebGpuTiledGemm); `'auto'`: per call shape, whichever
   * of the two was faster on this GPU and agreed (timed between steps by `kernelTuner`). Default false until it is
   * timed on a GPU.
   */
  webgpuTiledGemm?: KernelSwitch;
  /** Split the webgpu batch norm's per-channel sums over chunks of 1,024 rows; `'auto'` where timing found it faster. Default false. */
  webgpuSplitBatchNorm?: KernelSwitch;
  /** Settings of the tuner made where a kernel is 'auto' (calls in flight, rounds, tolerance, a callback per choice). */
  kernelTuning?: KernelTunerOptions;
}

export interface WebRuntime {
  backend: WebBackendName;
  skipped: SkippedBackend[];
  description: BackendDescription;
  /** Where a webgpu kernel is 'auto': the tuner that times the call shapes (its `choices()` say what ran where). */
  kernelTuner?: KernelTuner;
}

type GpuNavigator = { gpu?: { requestAdapter(): Promise<AdapterLike | null> } };

/** Appended to a software-device skip reason: how to use the backend anyway. */
const FORCE_HINT = (name: string) => `; wasm is faster on this machine (force '${name}' to use it anyway)`;

/**
 * Picks the fastest tensor backend that works in this browser and makes it active: WebGPU, WebGL2,
 * wasm (with thfr's training kernels), cpu. Returns the chosen name and why earlier ones were skipped.
 * A WebGPU fallback adapter and a WebGL software renderer (SwiftShader, llvmpipe, ...) are skipped, with
 * the reason, unless that backend is forced or `allowSoftwareGpu` is set: on the CPU, wasm is faster.
 */
export async function initRuntime(options: WebRuntimeOptions = {}): Promise<WebRuntime> {
  const order = backendOrder(WEB_BACKEND_PRIORITY, options.prefer, options.force);
  const details: Record<string, string | number | boolean> = {};
  const allowSoftware = (name: WebBackendName) => options.allowSoftwareGpu === true || options.force === name;
  // What each GPU probe found; only the chosen backend's findings go into the description.
  const found: Partial<Record<WebBackendName, Record<string, string | boolean>>> = {};
  const install: Record<WebBackendName, () => Promise<void>> = {
    webgpu: async () => {
      const nav = (globalThis as { navigator?: GpuNavigator }).navigator;
      if (nav?.gpu == null) throw new Error('navigator.gpu is not available (WebGPU is off or unsupported in this browser)');
      const adapter = await nav.gpu.requestAdapter();
      if (adapter == null) throw new Error('navigator.gpu found no adapter');
      const probe = await probeWebGpuAdapter(adapter);
      if (probe.software && !allowSoftware('webgpu')) throw new Error(probe.software + FORCE_HINT('webgpu'));
      found.webgpu = { ...(probe.renderer ? { adapter: probe.renderer } : {}), ...(probe.software ? { software: true } : {}) };
      await import('@tensorflow/tfjs-backend-webgpu');
    },
    webgl: async () => {
      const probe = probeWebGlRenderer();
      if (probe.software && !allowSoftware('webgl')) throw new Error(probe.software + FORCE_HINT('webgl'));
      found.webgl = { ...(probe.renderer ? { renderer: probe.renderer } : {}), ...(probe.software ? { software: true } : {}) };
      await import('@tensorflow/tfjs-backend-webgl');
    },
    wasm: async () => {
      const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as {
        setWasmPaths(paths: string | Record<string, string>, usePlatformFetch?: boolean): void;
        setThreadsCount(n: number): void;
      };
      wasm.setWasmPaths(options.wasmPaths ?? './');
      if (options.threads != null) wasm.setThreadsCount(options.threads);
      // After the backend's import, which registers its own Conv2DBackpropInput and MaxPoolGrad.
      registerWasmTrainingKernels();
    },
    cpu: async () => {
      await import('@tensorflow/tfjs-backend-cpu');
    },
  };
  const candidates: BackendCandidate[] = order.map((name) => ({ name, init: install[name] }));
  const { backend, skipped } = await selectBackend(candidates);
  Object.assign(details, found[backend as WebBackendName]);
  // Two kernels per batch-norm layer and training step instead of ~25 (@thfr/nn uses them when present).
  const fusedBatchNorm = options.fusedBatchNorm ?? true;
  if (fusedBatchNorm) registerFusedBatchNorm(backend);
  if (options.adamStepKernel ?? true) registerAdamStep(backend);
  if (options.cosineDistanceKernel ?? true) registerCosineDistanceKernels(backend);
  if (backend === 'webgpu' && (options.webgpuConvGradients ?? true)) registerWebGpuConvGradients();
  const choices = { tiledGemm: options.webgpuTiledGemm ?? false, splitBatchNorm: options.webgpuSplitBatchNorm ?? false };
  const kernelTuner = backend === 'webgpu' ? registerWebGpuKernelChoices({ ...choices, tuner: options.kernelTuning }, fusedBatchNorm).tuner : undefined;
  if (backend === 'webgpu') for (const [name, on] of Object.entries(choices)) if (on) details[name] = on;
  if (backend === 'wasm') {
    details.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    details.threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  }
  return { backend: backend as WebBackendName, skipped, description: describeBackend(details), ...(kernelTuner ? { kernelTuner } : {}) };
}
