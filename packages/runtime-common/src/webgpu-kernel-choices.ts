/**
 * The WebGPU kernels that are off by default, as each runtime's initRuntime turns them on: the tiled GEMM and the split
 * batch-norm sums, each `true` (every call it covers), `false`, or `'auto'` (per call shape, the faster of it and the
 * kernel it replaces, timed on this device by one KernelTuner; kernel-tuner.ts).
 */
import { registerWebGpuBatchNormKernels } from './batch-norm-webgpu.js';
import { registerWebGpuTiledGemm } from './gemm-kernels-webgpu.js';
import { KernelTuner, type KernelTunerOptions } from './kernel-tuner.js';

/** On, off, or chosen per call shape by timing. */
export type KernelSwitch = boolean | 'auto';

/** Rows per chunk of the split batch-norm sums (4-64 chunks for the paper step's layers at 16 x 16 and above). */
export const SPLIT_BATCH_NORM_ROWS = 1024;

export interface WebGpuKernelChoices {
  tiledGemm?: KernelSwitch;
  splitBatchNorm?: KernelSwitch;
  /** For the tuner made when either is 'auto'. */
  tuner?: KernelTunerOptions;
}

/**
 * Reads a KernelSwitch from an environment variable: '1' / 'true' / 'on', '0' / 'false' / 'off' / unset, or 'auto';
 * anything else is an error naming the variable.
 */
export function parseKernelSwitch(name: string, value: string | undefined): KernelSwitch {
  const text = (value ?? '').trim().toLowerCase();
  if (text === '' || text === '0' || text === 'false' || text === 'off') return false;
  if (text === '1' || text === 'true' || text === 'on') return true;
  if (text === 'auto') return 'auto';
  throw new RangeError(`${name} must be 1, 0 or auto, got '${value}'`);
}

export interface WebGpuKernelChoicesRegistration {
  /** Where either kernel is 'auto': the tuner that chooses, registered with @thfr/tensor's tunePendingKernels. */
  tuner?: KernelTuner;
  /** Puts back the kernels found at the call for the GEMM's four, and the unsplit sums of the batch norm; unregisters the tuner. */
  restore: () => void;
}

let registeredTuner: { tuner: KernelTuner; unregister: () => void } | undefined;

/**
 * Registers the chosen kernels for tfjs-backend-webgpu. Where either is 'auto', makes the tuner that chooses, registered
 * with @thfr/tensor's `tunePendingKernels()` (thfr's training and inference loops call it between steps); a later
 * call replaces it. The split batch norm replaces the fused batch norm's kernels, so it needs them on.
 */
export function registerWebGpuKernelChoices(choices: WebGpuKernelChoices, fusedBatchNorm = true): WebGpuKernelChoicesRegistration {
  if (choices.splitBatchNorm && !fusedBatchNorm) {
    throw new Error('the split batch-norm sums are a variant of the fused batch norm: turn fusedBatchNorm on, or the split off');
  }
  registeredTuner?.unregister();
  registeredTuner = undefined;
  const auto = choices.tiledGemm === 'auto' || choices.splitBatchNorm === 'auto';
  const tuner = auto ? new KernelTuner(choices.tuner) : undefined;
  const restoreGemm = choices.tiledGemm ? registerWebGpuTiledGemm({ tuner: choices.tiledGemm === 'auto' ? tuner : undefined }) : undefined;
  if (choices.splitBatchNorm) {
    registerWebGpuBatchNormKernels('webgpu', { splitRows: SPLIT_BATCH_NORM_ROWS, tuner: choices.splitBatchNorm === 'auto' ? tuner : undefined });
  }
  const registration = tuner ? { tuner, unregister: tuner.register() } : undefined;
  registeredTuner = registration;
  return {
    ...(tuner ? { tuner } : {}),
    restore: () => {
      registration?.unregister();
      if (registeredTuner === registration) registeredTuner = undefined;
      restoreGemm?.();
      if (choices.splitBatchNorm) registerWebGpuBatchNormKernels('webgpu');
    },
  };
}
