import type { FeatureExtractor } from './feature-extractor.js';
import { loadLayersBackboneFromUrl } from './layers-export.js';
import { loadResNetBackboneFromUrl } from './resnet-export.js';

/**
 * Loads the backbone exported into a served folder (the `backbone/` of a model saved by `thfr train`):
 * `backbone.json` + safetensors (a ResNet, e.g. the ImageNet ResNet-50) or `model.json` (a tfjs layers model,
 * e.g. MobileNetV2). Errors say which file was missing.
 */
export async function loadBackboneFromUrl(folderUrl: string, options: { onProgress?: (fraction: number) => void; fetch?: typeof fetch } = {}): Promise<FeatureExtractor> {
  const base = folderUrl.endsWith('/') ? folderUrl : `${folderUrl}/`;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const probe = await fetchFn(`${base}backbone.json`, { method: 'HEAD' });
  // A dev server's SPA fallback answers 200 with HTML for a missing file: trust only a JSON answer.
  const isJson = probe.ok && (probe.headers.get('content-type') ?? 'application/json').includes('json');
  if (isJson) {
    return loadResNetBackboneFromUrl(base, {
      fetch: fetchFn,
      onProgress: (received, total) => options.onProgress?.(total ? received / total : 0),
    });
  }
  const layers = await fetchFn(`${base}model.json`, { method: 'HEAD' });
  if (!layers.ok || !(layers.headers.get('content-type') ?? 'application/json').includes('json')) {
    throw new Error(`backbone not found at ${base}: neither backbone.json (ResNet) nor model.json (tfjs layers model) is served there`);
  }
  return loadLayersBackboneFromUrl(`${base}model.json`, undefined, { onProgress: options.onProgress });
}
