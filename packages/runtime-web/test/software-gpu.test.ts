// Software GPUs are skipped in favour of wasm unless forced (issue 14): a WebGPU fallback adapter, an
// adapter or WebGL renderer named SwiftShader / llvmpipe. Runs under Node with navigator.gpu and
// OffscreenCanvas mocked.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { initRuntime, probeWebGlRenderer, probeWebGpuAdapter, softwareRendererIn } from '../src/index.js';

const wasmDist = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';

const SWIFTSHADER_GL = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const LLVMPIPE_GL = 'llvmpipe (LLVM 15.0.6, 256 bits)';
const NVIDIA_GL = 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 Direct3D11 vs_5_0 ps_5_0, D3D11)';
const SWIFTSHADER_ADAPTER = { info: { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader Device (Subzero)' } };
const NVIDIA_ADAPTER = { info: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' } };

const UNMASKED_RENDERER_WEBGL = 0x9246;
const RENDERER = 0x1f01;

/** A canvas whose WebGL context reports `renderer` (unmasked through WEBGL_debug_renderer_info when `debug`). */
function fakeCanvas(renderer: string, debug = true) {
  const lost = vi.fn();
  const gl = {
    RENDERER,
    getExtension: (name: string) => (name === 'WEBGL_debug_renderer_info' ? (debug ? { UNMASKED_RENDERER_WEBGL } : null) : name === 'WEBGL_lose_context' ? { loseContext: lost } : null),
    getParameter: (p: number) => (p === UNMASKED_RENDERER_WEBGL ? renderer : p === RENDERER ? (debug ? 'WebKit WebGL' : renderer) : null),
  };
  return { canvas: { getContext: (kind: string) => (kind === 'webgl2' ? gl : null) }, lost };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('software renderer detection', () => {
  it('names SwiftShader, llvmpipe, lavapipe and the Basic Render Driver, and no hardware GPU', () => {
    expect(softwareRendererIn(SWIFTSHADER_GL)).toBe('SwiftShader');
    expect(softwareRendererIn(LLVMPIPE_GL)).toBe('llvmpipe');
    expect(softwareRendererIn('Vulkan: lavapipe')).toBe('lavapipe');
    expect(softwareRendererIn('ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11)')).toBe('Basic Render Driver');
    expect(softwareRendererIn(NVIDIA_GL)).toBeUndefined();
    expect(softwareRendererIn('Apple M2')).toBeUndefined();
    expect(softwareRendererIn(undefined)).toBeUndefined();
  });

  it('a WebGPU adapter is software when it says it is a fallback adapter, or its info names a CPU rasteriser', async () => {
    expect((await probeWebGpuAdapter({ isFallbackAdapter: true })).software).toBe('the WebGPU adapter is a fallback (software) adapter');
    expect((await probeWebGpuAdapter({ info: { isFallbackAdapter: true, vendor: 'google', architecture: 'swiftshader' } })).software).toBe('the WebGPU adapter is a fallback (software) adapter: google swiftshader');
    expect(await probeWebGpuAdapter(SWIFTSHADER_ADAPTER)).toEqual({ renderer: 'google swiftshader (SwiftShader Device (Subzero))', software: 'the WebGPU adapter is swiftshader, a software rasteriser (google swiftshader (SwiftShader Device (Subzero)))' });
    // Older browsers: the info only through requestAdapterInfo().
    expect((await probeWebGpuAdapter({ requestAdapterInfo: async () => ({ vendor: 'mesa', architecture: 'llvmpipe' }) })).software).toMatch(/llvmpipe, a software rasteriser/);
    expect(await probeWebGpuAdapter(NVIDIA_ADAPTER)).toEqual({ renderer: 'nvidia hopper (NVIDIA H200)' });
    expect(await probeWebGpuAdapter({})).toEqual({ renderer: undefined });
  });

  it('WebGL: the unmasked renderer (or RENDERER without the debug extension) decides; the probe context is released', () => {
    const swift = fakeCanvas(SWIFTSHADER_GL);
    expect(probeWebGlRenderer(() => swift.canvas)).toEqual({ renderer: SWIFTSHADER_GL, software: `WebGL renders on SwiftShader, a software rasteriser (${SWIFTSHADER_GL})` });
    expect(swift.lost).toHaveBeenCalledOnce();
    expect(probeWebGlRenderer(() => fakeCanvas(LLVMPIPE_GL, false).canvas).software).toMatch(/^WebGL renders on llvmpipe/);
    expect(probeWebGlRenderer(() => fakeCanvas(NVIDIA_GL).canvas)).toEqual({ renderer: NVIDIA_GL });
    // No canvas or no context: nothing is claimed (tfjs-backend-webgl then gives its own reason).
    expect(probeWebGlRenderer(() => undefined)).toEqual({});
    expect(probeWebGlRenderer(() => ({ getContext: () => null }))).toEqual({});
    expect(probeWebGlRenderer(() => { throw new Error('no canvas here'); })).toEqual({});
  });
});

describe('initRuntime prefers wasm over a software GPU', () => {
  it('skips a SwiftShader WebGPU adapter and a llvmpipe WebGL context, with the reasons, and lands on wasm', async () => {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => SWIFTSHADER_ADAPTER } });
    vi.stubGlobal('OffscreenCanvas', class { getContext = fakeCanvas(LLVMPIPE_GL).canvas.getContext; });
    const { backend, skipped } = await initRuntime({ wasmPaths: wasmDist });
    expect(backend).toBe('wasm');
    expect(skipped).toEqual([
      { name: 'webgpu', reason: "the WebGPU adapter is swiftshader, a software rasteriser (google swiftshader (SwiftShader Device (Subzero))); wasm is faster on this machine (force 'webgpu' to use it anyway)" },
      { name: 'webgl', reason: `WebGL renders on llvmpipe, a software rasteriser (${LLVMPIPE_GL}); wasm is faster on this machine (force 'webgl' to use it anyway)` },
    ]);
  });

  it('a fallback adapter is skipped too; a forced backend or allowSoftwareGpu passes the check', async () => {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => ({ isFallbackAdapter: true }) } });
    const prefer = ['webgpu', 'wasm'] as const;
    const first = await initRuntime({ wasmPaths: wasmDist, prefer: [...prefer] });
    expect(first.backend).toBe('wasm');
    expect(first.skipped[0].reason).toMatch(/^the WebGPU adapter is a fallback \(software\) adapter; wasm is faster/);
    // Allowed: the check passes and tfjs-backend-webgpu itself is tried (and fails under Node for its own reason).
    const allowed = await initRuntime({ wasmPaths: wasmDist, prefer: [...prefer], allowSoftwareGpu: true });
    expect(allowed.skipped).toHaveLength(1);
    expect(allowed.skipped[0].reason).not.toMatch(/software/);
    // (tfjs' own "Initialization of backend webgpu failed" warning is silenced under IS_TEST, scripts/vitest-setup.ts.)
    await expect(initRuntime({ force: 'webgpu' })).rejects.toThrow(/webgpu: (?![^\n]*software)/);
  });
});
