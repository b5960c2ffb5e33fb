/**
 * Software GPU detection: a WebGPU fallback adapter or a WebGL context rendered on the CPU (SwiftShader,
 * llvmpipe, lavapipe, softpipe, Microsoft Basic Render Driver) runs THFR 5-30x slower than the wasm
 * backend on the same cores, so initRuntime skips them unless the user forces that backend.
 */

/** Renderer names of CPU rasterisers, as WebGPU adapter info and WebGL renderer strings spell them. */
const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render driver|mesa offscreen/i;

/** The name of the software rasteriser `text` names, or undefined for a hardware one. */
export function softwareRendererIn(text: string | undefined | null): string | undefined {
  if (!text) return undefined;
  return SOFTWARE_RENDERERS.exec(text)?.[0];
}

/** What initRuntime found out about a GPU backend before starting it. */
export interface GpuProbe {
  /** Adapter or renderer in words, e.g. 'google swiftshader (SwiftShader Device (Subzero))'. */
  renderer?: string;
  /** Why this is a software device (undefined: hardware, or unknown). */
  software?: string;
}

/** The parts of a GPUAdapter read here (older browsers: isFallbackAdapter and requestAdapterInfo on the adapter). */
export interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: AdapterInfoLike;
  requestAdapterInfo?: () => Promise<AdapterInfoLike>;
}
interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** Describes a WebGPU adapter and tells whether it is a fallback (software) adapter. */
export async function probeWebGpuAdapter(adapter: AdapterLike): Promise<GpuProbe> {
  let info = adapter.info;
  if (!info && typeof adapter.requestAdapterInfo === 'function') info = await adapter.requestAdapterInfo().catch(() => undefined);
  const words = [info?.vendor, info?.architecture, info?.device].filter((w): w is string => typeof w === 'string' && w !== '');
  const renderer = [words.join(' '), info?.description ? `(${info.description})` : ''].filter(Boolean).join(' ') || undefined;
  const named = softwareRendererIn([info?.vendor, info?.architecture, info?.device, info?.description].join(' '));
  if (adapter.isFallbackAdapter === true || info?.isFallbackAdapter === true) {
    return { renderer, software: `the WebGPU adapter is a fallback (software) adapter${renderer ? `: ${renderer}` : ''}` };
  }
  if (named) return { renderer, software: `the WebGPU adapter is ${named}, a software rasteriser${renderer ? ` (${renderer})` : ''}` };
  return { renderer };
}

interface GlLike {
  RENDERER: number;
  getExtension(name: string): unknown;
  getParameter(name: number): unknown;
}
type CanvasLike = { getContext(kind: string): unknown };

/** Makes a canvas where one can be made: OffscreenCanvas (also in workers), else a document canvas. */
function defaultCanvas(): CanvasLike | undefined {
  const g = globalThis as { OffscreenCanvas?: new (w: number, h: number) => CanvasLike; document?: { createElement(tag: string): CanvasLike } };
  if (typeof g.OffscreenCanvas === 'function') return new g.OffscreenCanvas(1, 1);
  if (g.document?.createElement) return g.document.createElement('canvas');
  return undefined;
}

/**
 * Reads the WebGL renderer (the unmasked one through WEBGL_debug_renderer_info where the browser
 * offers it) and tells whether it is a software rasteriser. Without a canvas or a context it reports
 * nothing, and tfjs-backend-webgl gives its own reason later.
 */
export function probeWebGlRenderer(makeCanvas: () => CanvasLike | undefined = defaultCanvas): GpuProbe {
  let gl: GlLike | undefined;
  try {
    const canvas = makeCanvas();
    gl = (canvas?.getContext('webgl2') ?? canvas?.getContext('webgl') ?? undefined) as GlLike | undefined;
  } catch {
    return {};
  }
  if (!gl) return {};
  const debug = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
  const unmasked = debug ? gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) : undefined;
  const renderer = String(unmasked ?? gl.getParameter(gl.RENDERER) ?? '') || undefined;
  (gl.getExtension('WEBGL_lose_context') as { loseContext(): void } | null)?.loseContext();
  const named = softwareRendererIn(renderer);
  return named ? { renderer, software: `WebGL renders on ${named}, a software rasteriser (${renderer})` } : { renderer };
}
