/**
 * WebGPU in Node through Dawn (the npm package `webgpu`, an optional peer dependency: its native
 * binding is ~20 MB, so it is loaded only when asked for and its absence is a reason, not an error).
 */
import { ensureRuntimeDir, probeDawnAdapter } from './dawn-probe.js';

export interface DawnAdapter {
  /** Adapter description as Dawn reports it, e.g. "nvidia-h200" or "SwiftShader Device (Subzero)". */
  description: string;
}

type GpuLike = { requestAdapter(options?: object): Promise<{ info?: Record<string, string>; requestAdapterInfo?: () => Promise<Record<string, string>> } | null> };

function describeAdapterInfo(info: Record<string, string> | undefined): string {
  if (!info) return 'unknown adapter';
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((p) => p != null && p !== '');
  return parts.length > 0 ? [...new Set(parts)].join(' / ') : 'unknown adapter';
}

/**
 * Installs `navigator.gpu` from Dawn (with `dawnOptions`, e.g. ['backend=vulkan']) and checks that an
 * adapter exists, then imports tfjs-backend-webgpu (it registers itself only if navigator.gpu exists
 * at import time, so the order matters). Throws with a readable reason when any step fails.
 */
export async function installDawnWebGpu(dawnOptions: string[] = []): Promise<DawnAdapter> {
  const g0 = globalThis as { navigator?: { gpu?: unknown } };
  if (g0.navigator?.gpu == null) {
    ensureRuntimeDir();
    const probe = await probeDawnAdapter(dawnOptions);
    if (probe && !probe.found) throw noAdapterError(dawnOptions, probe.messages);
  }
  let dawn: { create(options: string[]): unknown; globals: Record<string, unknown> };
  try {
    dawn = (await import('webgpu')) as never;
  } catch (error) {
    throw new Error(`the npm package 'webgpu' (Dawn) is not installed (npm install webgpu): ${(error as Error).message.split('\n')[0]}`);
  }
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu == null) {
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create(dawnOptions);
    if (g.navigator == null) {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    } else {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    }
  }
  const adapter = await (g.navigator!.gpu as GpuLike).requestAdapter();
  if (adapter == null) throw noAdapterError(dawnOptions, '');
  const info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : undefined);
  await import('@tensorflow/tfjs-backend-webgpu');
  return { description: describeAdapterInfo(info) };
}

/** The reason webgpu is skipped when Dawn finds no adapter; `messages` are what Dawn/Vulkan printed (first line kept). */
function noAdapterError(dawnOptions: string[], messages: string): Error {
  const icd = process.env.VK_ICD_FILENAMES;
  const said = messages.split('\n').map((l) => l.trim()).find((l) => l !== '');
  return new Error(
    `Dawn found no WebGPU adapter (dawn options [${dawnOptions.join(', ')}]${icd ? `, VK_ICD_FILENAMES=${icd}` : ''}${said ? `; Dawn said: ${said}` : ''}); ` +
      `without a GPU, point Vulkan at SwiftShader: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json and dawnOptions ['backend=vulkan']`,
  );
}
