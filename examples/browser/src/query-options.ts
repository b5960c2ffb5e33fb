// Page options from the URL: ?model=URL (the model folder, default ./model/), ?backend=NAME
// (force webgpu, webgl, wasm or cpu instead of the best available) and ?features=auto|onnx|tfjs (where the
// frozen backbone and the restoration network run).
import type { WebBackendName } from '@thfr/runtime-web';
import { FEATURE_RUNTIMES, type FeatureRuntime } from './worker-protocol.js';

// Listed here rather than imported from @thfr/runtime-web, so the page's own bundle stays free of
// tensor code (the worker loads that).
const BACKENDS: readonly WebBackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface PageOptions {
  /** Absolute URL of the model folder, ending in '/'. */
  modelUrl: string;
  backend?: WebBackendName;
  /** 'auto' (default): onnxruntime-web when the tensor backend is wasm or cpu; 'onnx' always; 'tfjs' never. */
  features: FeatureRuntime;
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
  return { modelUrl, backend: backend as WebBackendName | undefined, features: features as FeatureRuntime };
}
