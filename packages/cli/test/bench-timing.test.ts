import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf, registerKernelTuner } from '@thfr/tensor';
import { concurrentMs, latencyMs, median, pipelinedMs } from '../src/commands/bench-timing.js';

describe('bench timing helpers', () => {
  it('pipelinedMs queues inFlight calls after one warm-up, reads back once and leaks nothing', async () => {
    await tf.setBackend('cpu');
    const x = tf.ones([64, 64]);
    let calls = 0;
    const before = tf.memory().numTensors;
    const ms = await pipelinedMs(4, () => { calls++; return [tf.matMul(x, x), tf.add(x, 1)]; });
    expect(calls).toBe(5);
    expect(ms).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('concurrentMs starts inFlight asynchronous calls together and disposes their outputs', async () => {
    await tf.setBackend('cpu');
    let running = 0;
    let most = 0;
    let calls = 0;
    const before = tf.memory().numTensors;
    const ms = await concurrentMs(3, async () => {
      calls++;
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return [tf.zeros([4])];
    });
    expect(calls).toBe(4);
    expect(most).toBe(3); // the three timed calls overlap; the warm-up ran alone
    expect(ms).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('latencyMs awaits each call (warm-up + repeats)', async () => {
    let calls = 0;
    const ms = await latencyMs(3, async () => { calls++; await new Promise((resolve) => setTimeout(resolve, 2)); });
    expect(calls).toBe(4);
    expect(ms).toBeGreaterThanOrEqual(1);
  });

  it('latencyMs is the median call: one slow call (a burst of load on the host) does not move it', async () => {
    let calls = 0;
    // Warm-up, then calls of 2, 600, 2, 2, 2 ms: the mean would be ~122 ms, the median is ~2.
    const ms = await latencyMs(5, async () => { calls++; await new Promise((resolve) => setTimeout(resolve, calls === 3 ? 600 : 2)); });
    expect(calls).toBe(6);
    expect(ms).toBeGreaterThanOrEqual(1);
    expect(ms).toBeLessThan(60);
    // Two calls, one slow: the lower median is the fast one (a mean would be ~301 ms).
    let pair = 0;
    expect(await latencyMs(2, async () => { pair++; await new Promise((resolve) => setTimeout(resolve, pair === 2 ? 600 : 2)); })).toBeLessThan(60);
  });

  it('median takes the middle value, or the lower of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 100])).toBe(3);
    expect(median([7, 2])).toBe(2);
    expect(() => median([])).toThrow(RangeError);
  });

  it('each lets kernels chosen by timing tune after its warm-up call, before the timed ones', async () => {
    await tf.setBackend('cpu');
    const log: string[] = [];
    const unregister = registerKernelTuner({ pendingCount: 1, tune: async () => { log.push('tune'); } });
    try {
      await pipelinedMs(2, () => { log.push('call'); return [tf.zeros([1])]; });
      await concurrentMs(2, async () => { log.push('call'); return [tf.zeros([1])]; });
      await latencyMs(2, async () => { log.push('call'); });
    } finally {
      unregister();
    }
    expect(log).toEqual(['call', 'tune', 'call', 'call', 'call', 'tune', 'call', 'call', 'call', 'tune', 'call', 'call']);
  });

  it('rejects a non-positive number of calls in flight', async () => {
    await expect(pipelinedMs(0, () => [])).rejects.toThrow(/inFlight/);
    await expect(concurrentMs(1.5, async () => [])).rejects.toThrow(/inFlight/);
  });
});
