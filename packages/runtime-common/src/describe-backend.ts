import { tf } from '@thfr/tensor';
import { checkTrainingSupport } from './training-support.js';

export interface BackendDescription {
  name: string;
  /** 32 or 16 (WebGL on some mobile GPUs). */
  floatPrecision: number;
  /** Number of kernels registered for this backend. */
  kernelCount: number;
  /** Training kernels the backend lacks (empty: it can train). */
  missingTrainingKernels: string[];
  /** Extra facts a runtime adds (adapter name, wasm SIMD/threads...). */
  details: Record<string, string | number | boolean>;
}

/** Facts about the active backend, for logs and bug reports. */
export function describeBackend(details: Record<string, string | number | boolean> = {}): BackendDescription {
  const name = tf.getBackend();
  if (!name) throw new Error('describeBackend: no tfjs backend is active; call initRuntime() first');
  return {
    name,
    floatPrecision: tf.backend().floatPrecision(),
    kernelCount: tf.getKernelsForBackend(name).length,
    missingTrainingKernels: checkTrainingSupport(name).missing.map((m) => m.kernel),
    details,
  };
}

/** One line: "wasm (float32, 160 kernels, trains; simd=true)". */
export function formatBackendDescription(d: BackendDescription): string {
  const training = d.missingTrainingKernels.length === 0 ? 'trains' : `cannot train: no ${d.missingTrainingKernels.join(', ')}`;
  const extra = Object.entries(d.details).map(([k, v]) => `${k}=${v}`).join(', ');
  return `${d.name} (float${d.floatPrecision}, ${d.kernelCount} kernels, ${training}${extra ? `; ${extra}` : ''})`;
}
