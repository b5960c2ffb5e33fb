/**
 * A kernel-variant chooser that measures, like `torch.backends.cudnn.benchmark`: a kernel with variants (thfr's tiled
 * GEMM against the kernel registered before it, split batch-norm sums against whole ones) asks `variantFor` on every
 * call. A call whose shapes and attributes have not been timed runs the baseline (the first variant) and is noted;
 * `tune()` (or @thfr/tensor's `tunePendingKernels()`, between steps) then runs each noted call on random inputs of its
 * shapes with every variant: a candidate must agree with the baseline within `tolerance` and is kept where it takes
 * less time, `callsInFlight` calls queued and one read-back (what a training step sees), fastest of `rounds`.
 *
 * Why measure instead of a fixed rule: whether a WGSL kernel is faster depends on the GPU, its driver and the shape;
 * what is faster on one GPU can be slower on another, and every choice is checked against the baseline's floats
 * before it is used.
 */
import { tf, registerKernelTuner, type PendingKernelTuner, type Tensor } from '@thfr/tensor';
import type { KernelArgs } from './composed-kernel.js';

export interface KernelTunerOptions {
  /** Calls queued per timing, with one read-back after the last. Default 8. */
  callsInFlight?: number;
  /** Timings per variant, alternated between the variants; the fastest counts. Default 3. */
  rounds?: number;
  /** Largest difference from the baseline's outputs a candidate may have, relative to their largest magnitude. Default 1e-3. */
  tolerance?: number;
  /** Told of each choice as it is made (to log it). */
  onChoice?: (choice: KernelChoice) => void;
}

/** One timed kernel call and the variant it now runs. */
export interface KernelChoice {
  kernelName: string;
  /** Input shapes, by input name. */
  shapes: Record<string, number[]>;
  /** Milliseconds per call, by variant timed (pipelined: `callsInFlight` calls, one read-back). */
  milliseconds: Record<string, number>;
  /** Each candidate's largest difference from the baseline's outputs, relative to their largest magnitude. */
  differences: Record<string, number>;
  /** Candidates left out, and why (an error, or a difference over the tolerance). */
  rejected: Record<string, string>;
  /** The variant these shapes and attributes run from now on. */
  chosen: string;
}

interface NotedCall {
  key: string;
  /** The backend the call ran on (the active one inside a kernel): it is timed there. */
  backend: string;
  kernelName: string;
  inputs: Record<string, { shape: number[]; dtype: string }>;
  attrs: Record<string, unknown>;
  variants: readonly string[];
}

/** What identifies a call: backend, kernel, input shapes and dtypes in order, attributes. */
function callKey(backend: string, kernelName: string, args: KernelArgs): string {
  const inputs = Object.entries(args.inputs).filter(([, info]) => info != null).map(([name, info]) => `${name}:${info.dtype}[${info.shape.join(',')}]`);
  return `${backend}|${kernelName}|${inputs.join(';')}|${JSON.stringify(args.attrs ?? {})}`;
}

/** The largest |a - b| relative to the largest |b|; a value finite in one and not the other counts as Infinity. */
function relativeDifference(candidate: Float32Array, baseline: Float32Array): number {
  let worst = 0;
  let scale = 1e-6;
  for (let i = 0; i < baseline.length; i++) {
    const b = baseline[i];
    const c = candidate[i];
    if (Number.isFinite(b) !== Number.isFinite(c)) return Infinity;
    if (!Number.isFinite(b)) continue;
    scale = Math.max(scale, Math.abs(b));
    worst = Math.max(worst, Math.abs(c - b));
  }
  return worst / scale;
}

const outputsOf = (result: Tensor | Tensor[]): Tensor[] => (Array.isArray(result) ? result : [result]);

export class KernelTuner implements PendingKernelTuner {
  private readonly callsInFlight: number;
  private readonly rounds: number;
  private readonly tolerance: number;
  private readonly onChoice?: (choice: KernelChoice) => void;
  private readonly chosen = new Map<string, string>();
  private readonly noted = new Map<string, NotedCall>();
  private readonly made: KernelChoice[] = [];
  /** While a call is timed: the variant its key runs. */
  private forced: { key: string; variant: string } | undefined;
  private running: Promise<KernelChoice[]> | undefined;

  constructor(options: KernelTunerOptions = {}) {
    this.callsInFlight = options.callsInFlight ?? 8;
    this.rounds = options.rounds ?? 3;
    this.tolerance = options.tolerance ?? 1e-3;
    this.onChoice = options.onChoice;
    for (const [name, value] of [['callsInFlight', this.callsInFlight], ['rounds', this.rounds]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`KernelTuner: ${name} must be a positive integer, got ${value}`);
    }
    if (!(this.tolerance >= 0)) throw new RangeError(`KernelTuner: tolerance must be a non-negative number, got ${this.tolerance}`);
  }

  /**
   * For a kernel: the variant to run for this call. `variants[0]` is the baseline, run until the call is timed; the
   * others are candidates.
   */
  variantFor(kernelName: string, args: KernelArgs, variants: readonly [string, ...string[]]): string {
    const backend = tf.getBackend();
    const key = callKey(backend, kernelName, args);
    if (this.forced?.key === key) return this.forced.variant;
    const chosen = this.chosen.get(key);
    if (chosen !== undefined) return chosen;
    if (!this.noted.has(key)) {
      const inputs: NotedCall['inputs'] = {};
      for (const [name, info] of Object.entries(args.inputs)) if (info != null) inputs[name] = { shape: [...info.shape], dtype: info.dtype };
      // Attributes are plain values (numbers, strings, arrays of them): a JSON copy keeps the caller's arrays out of reach.
      this.noted.set(key, { key, backend, kernelName, inputs, attrs: JSON.parse(JSON.stringify(args.attrs ?? {})), variants });
    }
    return variants[0];
  }

  /** Calls seen and not timed yet. */
  get pendingCount(): number {
    return this.noted.size;
  }

  /** Every choice made so far, in the order made. */
  choices(): KernelChoice[] {
    return [...this.made];
  }

  /**
   * Times every noted call's variants (and the calls noted meanwhile: a baseline may run kernels that have variants
   * too) and keeps the choices. Waits for the device to finish the work queued before it. Concurrent calls share one run.
   */
  tune(): Promise<KernelChoice[]> {
    if (this.running) return this.running.then(() => this.tune());
    this.running = this.tuneNoted().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Registers this tuner with @thfr/tensor's `tunePendingKernels`. Returns a function that unregisters it. */
  register(): () => void {
    return registerKernelTuner(this);
  }

  private async tuneNoted(): Promise<KernelChoice[]> {
    const made: KernelChoice[] = [];
    const active = tf.getBackend();
    try {
      for (let next = this.noted.values().next(); !next.done; next = this.noted.values().next()) {
        const call = next.value;
        // A call is timed on the backend it ran on, whichever is active now.
        if (tf.getBackend() !== call.backend) await tf.setBackend(call.backend);
        const choice = await this.timeCall(call);
        this.noted.delete(call.key);
        this.chosen.set(call.key, choice.chosen);
        made.push(choice);
        this.made.push(choice);
        this.onChoice?.(choice);
      }
    } finally {
      if (tf.getBackend() !== active) await tf.setBackend(active);
    }
    return made;
  }

  private run(call: NotedCall, inputs: Record<string, Tensor>, variant: string): Tensor[] {
    this.forced = { key: call.key, variant };
    try {
      return outputsOf(tf.engine().runKernel(call.kernelName, inputs as never, call.attrs as never) as Tensor | Tensor[]);
    } finally {
      this.forced = undefined;
    }
  }

  private async timeCall(call: NotedCall): Promise<KernelChoice> {
    const [baseline, ...candidates] = call.variants;
    const shapes = Object.fromEntries(Object.entries(call.inputs).map(([name, { shape }]) => [name, shape]));
    const choice: KernelChoice = { kernelName: call.kernelName, shapes, milliseconds: {}, differences: {}, rejected: {}, chosen: baseline };
    // Positive inputs keep every kernel in its domain (a variance under a square root, a log) and give the products
    // no cancellation, so that the relative difference measures the kernel and not the data.
    const inputs = tf.tidy(() => Object.fromEntries(Object.entries(call.inputs).map(([name, { shape, dtype }]) => [
      name, dtype === 'float32' ? tf.randomUniform(shape, 0.5, 1.5, 'float32', 17) : tf.ones(shape, dtype as 'int32'),
    ])));
    try {
      // First calls: compile each variant's pipeline and compare its floats with the baseline's.
      let reference: Float32Array[];
      try {
        reference = await this.readAll(this.run(call, inputs, baseline));
      } catch (error) {
        // Nothing to compare with: the call keeps its baseline (tuning never stops the user's loop).
        for (const variant of candidates) choice.rejected[variant] = `the baseline failed on random inputs: ${(error as Error).message}`;
        return choice;
      }
      const valid = [baseline];
      for (const variant of candidates) {
        try {
          const outputs = await this.readAll(this.run(call, inputs, variant));
          const difference = Math.max(...outputs.map((values, i) => relativeDifference(values, reference[i])));
          choice.differences[variant] = difference;
          if (difference <= this.tolerance) valid.push(variant);
          else choice.rejected[variant] = `differs from ${baseline} by ${difference.toExponential(2)} (tolerance ${this.tolerance})`;
        } catch (error) {
          choice.rejected[variant] = (error as Error).message;
        }
      }
      if (valid.length === 1) return choice;
      for (let round = 0; round < this.rounds; round++) {
        for (const variant of round % 2 === 0 ? valid : [...valid].reverse()) {
          const milliseconds = await this.timeQueued(call, inputs, variant);
          choice.milliseconds[variant] = Math.min(choice.milliseconds[variant] ?? Infinity, milliseconds);
        }
      }
      choice.chosen = valid.reduce((best, variant) => (choice.milliseconds[variant] < choice.milliseconds[best] ? variant : best));
      return choice;
    } finally {
      tf.dispose(Object.values(inputs));
    }
  }

  /** Milliseconds per call with `callsInFlight` calls queued and one read-back. */
  private async timeQueued(call: NotedCall, inputs: Record<string, Tensor>, variant: string): Promise<number> {
    let last: Tensor[] = [];
    const start = performance.now();
    for (let i = 0; i < this.callsInFlight; i++) {
      const outputs = this.run(call, inputs, variant);
      tf.dispose(last);
      last = outputs;
    }
    // The device runs the queue in order: once the last call's first output is read, every call has finished.
    await last[0].data();
    const milliseconds = (performance.now() - start) / this.callsInFlight;
    tf.dispose(last);
    return milliseconds;
  }

  private async readAll(outputs: Tensor[]): Promise<Float32Array[]> {
    try {
      return (await Promise.all(outputs.map((output) => output.data()))) as Float32Array[];
    } finally {
      tf.dispose(outputs);
    }
  }
}
