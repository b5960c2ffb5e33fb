import { describe, expect, it } from 'vitest';
import { ortSessionOptions, ortSpinningConfig } from '../src/index.js';

describe('ortSessionOptions (how every thfr onnxruntime session is opened)', () => {
  it("defaults: the CPU provider, every optimization, sequential, one inter-op thread, onnxruntime's intra-op threads, no spinning", () => {
    expect(ortSessionOptions({}, 'm')).toEqual({
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
  });

  it('takes threads, providers and spinning as asked', () => {
    const options = ortSessionOptions({ threads: 2, executionProviders: ['webgpu', 'cpu'], allowSpinning: true }, 'm');
    expect(options.intraOpNumThreads).toBe(2);
    expect(options.executionProviders).toEqual(['webgpu', 'cpu']);
    expect(options.extra).toEqual(ortSpinningConfig(true));
  });

  it("passes more options through underneath thfr's own, and merges their config entries with the spinning setting", () => {
    const options = ortSessionOptions(
      {
        threads: 1,
        sessionOptions: {
          enableCpuMemArena: false,
          executionProviders: ['nonexistent'],
          graphOptimizationLevel: 'disabled',
          intraOpNumThreads: 8,
          extra: { session: { disable_cpu_ep_fallback: '1', intra_op: { allow_spinning: '1', other: 'kept' } } },
        },
      },
      'm',
    );
    expect(options.enableCpuMemArena).toBe(false);
    expect(options.executionProviders).toEqual(['cpu']);
    expect(options.graphOptimizationLevel).toBe('all');
    expect(options.intraOpNumThreads).toBe(1);
    expect(options.extra).toEqual({ session: { disable_cpu_ep_fallback: '1', intra_op: { allow_spinning: '0', other: 'kept' } } });
  });

  it('refuses threads that are not a positive integer, naming the model', () => {
    for (const threads of [0, -1, 1.5, Number.NaN]) {
      expect(() => ortSessionOptions({ threads }, 'ONNX backbone resnet50')).toThrow(`ONNX backbone resnet50: threads must be a positive integer, got ${threads}`);
    }
  });
});
