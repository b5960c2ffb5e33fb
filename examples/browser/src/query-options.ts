// Page options from the URL: ?model=URL (the model folder, default ./model/) and ?backend=NAME
// (force webgpu, webgl, wasm or cpu instead of the best available).
import type { WebBackendName } from '@thfr/runtime-web';

// Listed here rather than imported from @thfr/runtime-web, so the page's own bundle stays free of
// tensor code (the worker loads that).
const BACKENDS: readonly WebBackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface PageOptions {
  /** Absolute URL of the model folder, ending in '/'. */
  modelUrl: string;
  backend?: WebBackendName;
}

export function readPageOptions(location: { search: string }, baseUri: string): PageOptions {
  const params = new URLSearchParams(location.search);
  const model = params.get('model') || './model/';
  const modelUrl = new URL(model.endsWith('/') ? model : `${model}/`, baseUri).href;
  const backend = params.get('backend') || undefined;
  if (backend && !(BACKENDS as readonly string[]).includes(backend)) {
    throw new Error(`?backend= must be one of ${BACKENDS.join(', ')}, got '${backend}'`);
  }
  return { modelUrl, backend: backend as WebBackendName | undefined };
}
