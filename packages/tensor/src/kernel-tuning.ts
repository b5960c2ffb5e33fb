/**
 * Kernels chosen by measurement, the way `torch.backends.cudnn.benchmark` chooses convolution algorithms: a runtime
 * whose kernels have variants (thfr's WebGPU GEMM against tfjs' own kernels) runs the proven one for a shape it has not
 * timed yet, notes the shape, and times the variants when a loop calls `tunePendingKernels()` between its steps.
 *
 * The registry lives here, not in a runtime package, so that library code (the training and inference loops) can
 * call it without importing a backend: with no tuner registered the call costs nothing.
 */

/** What a runtime registers: calls seen but not timed yet, and a way to time them. */
export interface PendingKernelTuner {
  /** Kernel calls (distinct shapes and attributes) waiting to be timed. */
  readonly pendingCount: number;
  /** Times every pending call's variants and keeps the fastest that agrees with the baseline; resolves when done. */
  tune(): Promise<unknown>;
}

// On globalThis, so that two copies of this package in one program still share one registry.
const REGISTRY_KEY = Symbol.for('thfr.kernelTuners');
const registry = (): Set<PendingKernelTuner> => {
  const holder = globalThis as unknown as Record<symbol, Set<PendingKernelTuner> | undefined>;
  return (holder[REGISTRY_KEY] ??= new Set());
};

/** Registers a tuner that `tunePendingKernels` drives. Returns a function that unregisters it. */
export function registerKernelTuner(tuner: PendingKernelTuner): () => void {
  registry().add(tuner);
  return () => {
    registry().delete(tuner);
  };
}

/**
 * Times the kernel calls that registered tuners have seen since the last call (none registered, or nothing pending:
 * returns at once). Call it between steps, with no tensor work of the step still to be recorded: the timing waits
 * for the device to finish what is queued. Returns how many calls were timed.
 */
export async function tunePendingKernels(): Promise<number> {
  let tuned = 0;
  for (const tuner of [...registry()]) {
    const pending = tuner.pendingCount;
    if (pending === 0) continue;
    await tuner.tune();
    tuned += pending;
  }
  return tuned;
}
