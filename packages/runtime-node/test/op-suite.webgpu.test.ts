import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { initRuntime } from '../src/index.js';
import type { NodeRuntime } from '../src/index.js';
import { defineOpSuite } from './suite-runner.js';
import { prepareSwiftShader, webgpuRequired } from './webgpu-swiftshader.js';

let runtime: NodeRuntime | undefined;
let unavailable = '';

beforeAll(async () => {
  const dawnOptions = prepareSwiftShader();
  try {
    runtime = await initRuntime({ prefer: ['webgpu'], dawnOptions });
    console.log(`webgpu adapter: ${runtime.description.details.adapter}`);
  } catch (error) {
    unavailable = (error as Error).message;
    if (webgpuRequired()) throw new Error(`WebGPU is required here (CI=true or THFR_REQUIRE_WEBGPU=1) but: ${unavailable}`);
    console.warn(`SKIPPING webgpu op suite: ${unavailable}`);
  }
});

describe('op suite on webgpu (Dawn; SwiftShader without a GPU)', () => {
  it('has a webgpu adapter', (ctx) => {
    if (!runtime) return ctx.skip(unavailable);
    expect(runtime.backend).toBe('webgpu');
    expect(String(runtime.description.details.adapter)).not.toBe('');
  });
  defineOpSuite(() => 'webgpu', 'webgpu (tfjs-backend-webgpu 4.22 on Dawn, SwiftShader Vulkan)', () => (runtime ? undefined : unavailable));
});
