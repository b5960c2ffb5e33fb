/**
 * Timing helpers of `thfr bench` and bench/gpu-checks.ts. On a GPU a read-back waits for the whole queue and, through
 * Dawn in Node, adds a large round trip of its own: `latencyMs` (a read-back after every call) is what one request
 * waits, `pipelinedMs` / `concurrentMs` (k calls in flight, one read-back) what the device sustains, as
 * torch.cuda.synchronize() timing measures it. Each times after one warm-up call, after which kernels chosen by timing
 * (a runtime's 'auto' kernels, @thfr/tensor's tunePendingKernels) time the shapes it met, as thfr's loops do.
 */
import { tf, tunePendingKernels } from '@thfr/tensor';

/**
 * Median ms of `repeats` awaited calls after one warm-up (kernel compilation, weight uploads): on a shared host a
 * burst of load lands on one call or two, which a mean spreads over the figure and a median leaves out (the lower
 * median for an even count, so that of 2 calls the burst-free one counts).
 */
export async function latencyMs(repeats: number, fn: () => Promise<void>): Promise<number> {
  await fn();
  await tunePendingKernels();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

/** The middle value; for an even count the lower of the two middle ones. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median: no values');
  return [...values].sort((a, b) => a - b)[(values.length - 1) >> 1];
}

/**
 * ms per call with `inFlight` calls queued and one read-back at the end (the queue runs in order, so reading the last
 * call's outputs waits for all of them), after one warm-up call. `enqueue` returns the call's outputs; all but the
 * last call's are disposed at once (their buffers go back to the pool once the queue has used them).
 */
export async function pipelinedMs(inFlight: number, enqueue: () => tf.Tensor[]): Promise<number> {
  if (!Number.isInteger(inFlight) || inFlight < 1) throw new RangeError(`pipelinedMs: inFlight must be a positive integer, got ${inFlight}`);
  const warm = enqueue();
  await Promise.all(warm.map((t) => t.data()));
  tf.dispose(warm);
  await tunePendingKernels();
  const started = performance.now();
  let last: tf.Tensor[] = [];
  for (let i = 0; i < inFlight; i++) {
    tf.dispose(last);
    last = enqueue();
  }
  await Promise.all(last.map((t) => t.data()));
  const ms = (performance.now() - started) / inFlight;
  tf.dispose(last);
  return ms;
}

/**
 * ms per call with `inFlight` asynchronous calls started at once (each may await read-backs of its own, e.g. a
 * template search) and their outputs read back at the end, after one warm-up call. The outputs are disposed.
 */
export async function concurrentMs(inFlight: number, start: () => Promise<tf.Tensor[]>): Promise<number> {
  if (!Number.isInteger(inFlight) || inFlight < 1) throw new RangeError(`concurrentMs: inFlight must be a positive integer, got ${inFlight}`);
  const warm = await start();
  await Promise.all(warm.map((t) => t.data()));
  tf.dispose(warm);
  await tunePendingKernels();
  const started = performance.now();
  const outputs = await Promise.all(Array.from({ length: inFlight }, () => start()));
  await Promise.all(outputs.flat().map((t) => t.data()));
  const ms = (performance.now() - started) / inFlight;
  tf.dispose(outputs.flat());
  return ms;
}
