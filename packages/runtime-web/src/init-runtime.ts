import { tf, selectBackend } from '@thfr/tensor';
import type { BackendCandidate, SkippedBackend } from '@thfr/tensor';
import { WEB_BACKEND_PRIORITY, backendOrder, describeBackend, registerWasmTrainingKernels } from '@thfr/runtime-common';
import type { BackendDescription, WebBackendName } from '@thfr/runtime-common';

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
  /** Force one backend (as THFR_BACKEND does in Node), e.g. from a URL parameter. */
  force?: WebBackendName;
}

export interface WebRuntime {
  backend: WebBackendName;
  skipped: SkippedBackend[];
  description: BackendDescription;
}

type GpuNavigator = { gpu?: { requestAdapter(): Promise<unknown | null> } };

/**
 * Picks the fastest tensor backend that works in this browser and makes it active: WebGPU, WebGL2,
 * wasm (with thfr's training kernels), cpu. Returns the chosen name and why earlier ones were skipped.
 */
export async function initRuntime(options: WebRuntimeOptions = {}): Promise<WebRuntime> {
  const order = backendOrder(WEB_BACKEND_PRIORITY, options.prefer, options.force);
  const details: Record<string, string | number | boolean> = {};
  const install: Record<WebBackendName, () => Promise<void>> = {
    webgpu: async () => {
      const nav = (globalThis as { navigator?: GpuNavigator }).navigator;
      if (nav?.gpu == null) throw new Error('navigator.gpu is not available (WebGPU is off or unsupported in this browser)');
      if ((await nav.gpu.requestAdapter()) == null) throw new Error('navigator.gpu found no adapter');
      await import('@tensorflow/tfjs-backend-webgpu');
    },
    webgl: async () => {
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
  if (backend === 'wasm') {
    details.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    details.threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  }
  return { backend: backend as WebBackendName, skipped, description: describeBackend(details) };
}
