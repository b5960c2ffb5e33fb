import { afterEach, describe, expect, it } from 'vitest';
import { tf, BackendSelectionError, THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD } from '@thfr/tensor';
import { initRuntime, wasmBinaryFolder } from '../src/index.js';
import { existsSync } from 'node:fs';

const savedEnv = { ...process.env };
afterEach(() => {
  process.env = { ...savedEnv };
});

describe('initRuntime', () => {
  it('reports why tfjs-node is skipped and falls through to wasm with training kernels', async () => {
    const { backend, skipped, description } = await initRuntime({ prefer: ['tensorflow', 'wasm'] });
    expect(backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(skipped).toEqual([{ name: 'tensorflow', reason: '@tensorflow/tfjs-node-gpu is not installed; @tensorflow/tfjs-node is not installed' }]);
    expect(description.missingTrainingKernels).toEqual([]);
    expect(description.details.simd).toBe(true);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('registers the fused cosine distance on wasm and cpu unless THFR_COSINE_DISTANCE_KERNEL=0', async () => {
    const registered = (backend: string) => [THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD].map((k) => tf.getKernel(k, backend) != null);
    const clear = (backend: string) => [THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD].forEach((k) => tf.getKernel(k, backend) && tf.unregisterKernel(k, backend));
    for (const backend of ['wasm', 'cpu'] as const) {
      clear(backend);
      process.env.THFR_COSINE_DISTANCE_KERNEL = '0';
      await initRuntime({ prefer: [backend] });
      expect(registered(backend)).toEqual([false, false]);
      delete process.env.THFR_COSINE_DISTANCE_KERNEL;
      await initRuntime({ prefer: [backend] });
      expect(registered(backend)).toEqual([true, true]);
      clear(backend);
      await initRuntime({ prefer: [backend], cosineDistanceKernel: false });
      expect(registered(backend)).toEqual([false, false]);
      await initRuntime({ prefer: [backend] });
    }
  });

  it('finds the .wasm binaries in the installed package (no network)', () => {
    const folder = wasmBinaryFolder();
    expect(folder.endsWith('/')).toBe(true);
    expect(existsSync(`${folder}tfjs-backend-wasm-simd.wasm`)).toBe(true);
  });

  it('lets THFR_BACKEND force one backend', async () => {
    process.env.THFR_BACKEND = 'cpu';
    const { backend, skipped } = await initRuntime({ prefer: ['wasm'] });
    expect(backend).toBe('cpu');
    expect(skipped).toEqual([]);
  });

  it('rejects unknown backend names, listing the known ones', async () => {
    await expect(initRuntime({ prefer: ['webgl' as never] })).rejects.toThrow("Unknown backend 'webgl' in prefer: [webgl]; known backends: webgpu, tensorflow, wasm, cpu");
    process.env.THFR_BACKEND = 'cuda';
    await expect(initRuntime()).rejects.toThrow(/THFR_BACKEND=cuda/);
  });

  it('says why each backend failed when none works', async () => {
    const error = await initRuntime({ prefer: ['tensorflow', 'wasm'], threads: 0 }).catch((e) => e);
    expect(error).toBeInstanceOf(BackendSelectionError);
    expect(error.message).toContain('tensorflow: @tensorflow/tfjs-node-gpu is not installed');
    expect(error.message).toContain('wasm: wasm threads must be a whole number >= 1, got 0');
  });

  it('reports "no adapter" from Dawn as the reason webgpu is skipped', async () => {
    // Vulkan pointed at a driver file that does not exist: Dawn finds no adapter.
    process.env.VK_ICD_FILENAMES = '/nonexistent/icd.json';
    const error = await initRuntime({ prefer: ['webgpu'], dawnOptions: ['backend=vulkan'] }).catch((e) => e);
    expect(error).toBeInstanceOf(BackendSelectionError);
    expect(error.skipped[0].name).toBe('webgpu');
    expect(error.skipped[0].reason).toMatch(/Dawn found no WebGPU adapter/);
  });
});
