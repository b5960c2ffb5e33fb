// Runs under Node: there is no navigator.gpu and no WebGL here, so this checks the fall-through, the
// reasons given and that wasm comes up with the training kernels from a configured wasmPaths.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tf } from '@thfr/tensor';
import { initRuntime } from '../src/index.js';

const wasmDist = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';

describe('initRuntime (web)', () => {
  it('skips webgpu and webgl with reasons and lands on wasm with training kernels', async () => {
    const { backend, skipped, description } = await initRuntime({ wasmPaths: wasmDist, prefer: ['webgpu', 'webgl', 'wasm', 'cpu'] });
    expect(backend).toBe('wasm');
    expect(skipped.map((s) => s.name)).toEqual(['webgpu', 'webgl']);
    expect(skipped[0].reason).toMatch(/navigator\.gpu is not available/);
    expect(skipped[1].reason.length).toBeGreaterThan(0);
    expect(description.missingTrainingKernels).toEqual([]);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });
  it('honours force', async () => {
    expect((await initRuntime({ force: 'cpu' })).backend).toBe('cpu');
  });
});
