// Page options from the URL: ?model=URL (the model folder, default ./model/), ?backend=NAME
// (force webgpu, webgl, wasm or cpu instead of the best available), ?features=auto|onnx|tfjs (where the
// frozen backbone and the restoration network run) and ?gemm=off|on|auto (thfr's tiled GEMM on WebGPU).
import type { WebBackendName } from '@thfr/runtime-web';
import { FEATURE_RUNTIMES, GEMM_CHOICES, type FeatureRuntime, type GemmChoice } from './worker-protocol.js';

// Listed here rather than imported from @thfr/runtime-web, so the page's own bundle stays free of
// tensor code (the worker loads that).
const BACKENDS: readonly WebBackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface PageOptions {
  /** Absolute URL of the model folder, ending in '/'. */
  modelUrl: string;
  backend?: WebBackendName;
  /** 'auto' (default): onnxruntime-web when the tensor backend is wasm or cpu; 'onnx' always; 'tfjs' never. */
  features: FeatureRuntime;
  /**
   * On WebGPU, thfr's register-tiled GEMM for the convolutions and matrix products: 'off' (default: tfjs' kernels),
   * 'on', or 'auto' (per shape, whichever was faster on this GPU, timed after the warm-up inference).
   */
  gemm: GemmChoice;
}

export function readPageOptions(location: { search: string }, baseUri: string): PageOptions {
  const params = new URLSearchParams(location.search);
  const model = params.get('model') || './model/';
  const modelUrl = new URL(model.endsWith('/') ? model : `${model}/`, baseUri).href;
  const backend = params.get('backend') || undefined;
  if (backend && !(BACKENDS as readonly string[]).includes(backend)) {
    throw new Error(`?backend= must be one of ${BACKENDS.join(', ')}, got '${backend}'`);
  }
  const features = params.get('features') || 'auto';
  if (!(FEATURE_RUNTIMES as readonly string[]).includes(features)) {
    throw new Error(`?features= must be one of ${FEATURE_RUNTIMES.join(', ')}, got '${features}'`);
  }
  const gemm = params.get('gemm') || 'off';
  if (!(GEMM_CHOICES as readonly string[]).includes(gemm)) {
    throw new Error(`?gemm= must be one of ${GEMM_CHOICES.join(', ')}, got '${gemm}'`);
  }
  return { modelUrl, backend: backend as WebBackendName | undefined, features: features as FeatureRuntime, gemm: gemm as GemmChoice };
}
