/**
 * Sets the WebGPU test environment up: without a GPU, Dawn finds SwiftShader's Vulkan driver (shipped by
 * Debian's chromium package) when VK_ICD_FILENAMES points at it. If no adapter is found the webgpu
 * tests fail when CI=true or THFR_REQUIRE_WEBGPU=1, and are skipped with the reason otherwise.
 */
import { existsSync } from 'node:fs';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export function prepareSwiftShader(): string[] {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  // An explicit Vulkan backend: Dawn's default choice finds no adapter with SwiftShader.
  return process.env.VK_ICD_FILENAMES ? ['backend=vulkan'] : [];
}

export function webgpuRequired(): boolean {
  return process.env.CI === 'true' || process.env.THFR_REQUIRE_WEBGPU === '1';
}

/**
 * Starts the webgpu runtime for a test file: '' when it runs, else why not (then the tests skip with that reason),
 * or throws where WebGPU is required (webgpuRequired).
 */
export async function startWebGpuOrReason(initRuntime: (options: { prefer: ['webgpu']; dawnOptions: string[] }) => Promise<unknown>): Promise<string> {
  try {
    await initRuntime({ prefer: ['webgpu'], dawnOptions: prepareSwiftShader() });
    return '';
  } catch (error) {
    const reason = (error as Error).message;
    if (webgpuRequired()) throw new Error(`WebGPU is required here (CI=true or THFR_REQUIRE_WEBGPU=1) but: ${reason}`);
    return reason;
  }
}
