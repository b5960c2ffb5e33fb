import { initRuntime } from '@thfr/runtime-node';
import { registerOrtKernels } from '@thfr/ort-kernels';
import type { KernelChoice } from '@thfr/runtime-common';
import type { Output } from './output.js';

export const BACKEND_CHOICES = ['webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** Rejects an unknown --backend before anything else runs. */
export function checkBackendName(backend: unknown): void {
  if (backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(String(backend))) {
    throw new Error(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got '${String(backend)}'`);
  }
}

/**
 * Initialises the tensor runtime: the given backend first (if any), then the runtime's default
 * priority. Says on stderr which backend runs and why the preferred ones were skipped.
 */
export async function setupRuntime(backend: string | undefined, output: Output, verbose = false): Promise<string> {
  checkBackendName(backend);
  const prefer = backend ? [backend as BackendChoice] : undefined;
  // Where a webgpu kernel is 'auto' (THFR_WEBGPU_TILED_GEMM / THFR_WEBGPU_SPLIT_BATCH_NORM), --verbose shows each timed choice.
  const kernelTuning = verbose ? { onChoice: (c: KernelChoice) => output.note(describeKernelChoice(c)) } : undefined;
  const choice = await initRuntime({ ...(prefer ? { prefer } : {}), ...(kernelTuning ? { kernelTuning } : {}) });
  const full = choice.skipped.length ? ` (skipped: ${choice.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : '';
  if (backend && choice.backend !== backend) {
    throw new Error(`backend '${backend}' is not available here${full}`);
  }
  const short = choice.skipped.length ? ` (skipped ${choice.skipped.map((s) => `${s.name}: ${shortReason(s.reason)}`).join(', ')}; --verbose says why)` : '';
  const tuned = choice.kernelTuner ? '; some webgpu kernels chosen per shape by timing' : '';
  output.note(`backend: ${choice.backend}${verbose ? full : short}${choice.backend === 'wasm' ? `; ${useOrtKernels()}` : ''}${tuned}`);
  return choice.backend;
}

/**
 * On wasm, runs the convolutions, their gradients and matMul on onnxruntime-node when it loads (@thfr/ort-kernels:
 * a training step 2-3x faster on 2 cores, docs/backends.md); THFR_ORT_KERNELS=0 keeps them on wasm. Says which.
 */
function useOrtKernels(): string {
  if (process.env.THFR_ORT_KERNELS === '0') return 'convolutions on wasm (THFR_ORT_KERNELS=0)';
  try {
    // THFR_ORT_WASM_PATCHES=0 builds the convolutions' patch matrices in onnxruntime's graphs instead of on the heap.
    const kernels = registerOrtKernels({ wasmPatches: process.env.THFR_ORT_WASM_PATCHES !== '0' });
    return `convolutions and matMul on onnxruntime-node ${kernels.onnxruntimeVersion} (${kernels.threads} threads)`;
  } catch (error) {
    return `convolutions on wasm (${(error as Error).message.replace(/^@thfr\/ort-kernels: /, '').split(';')[0]})`;
  }
}

/** The first clause of a skip reason ('Dawn found no WebGPU adapter'), for the one-line backend note. */
export function shortReason(reason: string): string {
  const first = reason.split(/ \(|;|: /)[0].trim();
  return first.length > 60 ? `${first.slice(0, 57)}...` : first;
}

/** One line per timed kernel choice: 'Conv2D x[16,64,64,256] filter[3,3,256,256]: gemm 1.21 ms, fallback 2.02 ms -> gemm'. */
export function describeKernelChoice(choice: KernelChoice): string {
  const shapes = Object.entries(choice.shapes).map(([name, shape]) => `${name}[${shape.join(',')}]`).join(' ');
  const times = Object.entries(choice.milliseconds).map(([variant, ms]) => `${variant} ${ms.toFixed(2)} ms`).join(', ');
  const rejected = Object.entries(choice.rejected).map(([variant, why]) => `${variant} left out: ${why}`).join('; ');
  return `kernel ${choice.kernelName} ${shapes}: ${[times, rejected].filter(Boolean).join('; ') || 'nothing to time'} -> ${choice.chosen}`;
}
