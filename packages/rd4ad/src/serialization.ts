import type { FeatureExtractor } from '@thfr/backbone';
import {
  fetchModelFolder, parseRestorationManifest, restoreNetwork, serializeRestorationModel,
  type FolderReader, type ModelManifest, type SerializedModel,
} from '@thfr/restoration';
import { resolveRd4adConfig, type Rd4adConfig } from './config.js';
import { Rd4adNetwork } from './network.js';
import { Rd4adModel } from './rd4ad-model.js';

/** An RD4AD folder is @thfr/restoration's model folder (format 'thfr-model') with method 'rd4ad' and an RD4AD config. */
export type Rd4adManifest = ModelManifest<Rd4adConfig>;

export const RD4AD_FOLDER_READER: FolderReader = { label: 'RD4AD', packageName: '@thfr/rd4ad' };

/**
 * True when a model manifest holds RD4AD: method 'rd4ad', or (folders saved before manifests named their
 * method, or by THFR's network in RD4AD's configuration) a THFR config with the local bottleneck only and no template.
 */
export function isRd4adManifest(manifest: { method?: unknown; config?: unknown }): boolean {
  if (manifest.method !== undefined) return manifest.method === 'rd4ad';
  const config = manifest.config as { bottleneck?: unknown; template?: unknown } | undefined;
  return config?.bottleneck === 'lbn' && config?.template === false;
}

export async function serializeRd4ad(model: Rd4adModel): Promise<SerializedModel<Rd4adConfig>> {
  return serializeRestorationModel(model, { method: 'rd4ad' });
}

/** Checks an RD4AD manifest; a THFR model of another variant is refused by name. */
export function parseRd4adManifest(json: unknown, where: string): Rd4adManifest {
  const manifest = parseRestorationManifest(json, where, RD4AD_FOLDER_READER);
  if (!isRd4adManifest(manifest)) {
    const config = manifest.config as unknown as { bottleneck?: string; template?: boolean };
    throw new Error(`${where} holds a ${manifest.method ?? 'THFR'} model (bottleneck '${config.bottleneck}', template ${config.template}), not RD4AD (bottleneck 'lbn', no template); load it with its own method (THFR: loadModel)`);
  }
  return manifest;
}

/** Rebuilds an RD4AD model from its manifest and files (read through `readFile`: fs in Node, fetch in a browser). */
export async function deserializeRd4ad(manifestJson: unknown, readFile: (path: string) => Promise<Uint8Array>, backbone: FeatureExtractor, where = 'model'): Promise<Rd4adModel> {
  const manifest = parseRd4adManifest(manifestJson, `${where}/manifest.json`);
  const parts = await restoreNetwork(manifest, readFile, backbone, where, {
    resolveConfig: (saved) => resolveRd4adConfig(saved as Partial<Rd4adConfig> & Record<string, unknown>),
    buildNetwork: (levels, config) => new Rd4adNetwork(levels, config),
  });
  const model = new Rd4adModel(parts.config, backbone, parts.levels, parts.network as Rd4adNetwork, manifest.normalStatistics, manifest.training);
  model.mapStatistics = parts.mapStatistics;
  return model;
}

/** Loads an RD4AD model folder served over HTTP(S) (browser or Node fetch). */
export async function loadRd4adFromUrl(url: string, backbone: FeatureExtractor, options: { onProgress?: (loadedBytes: number, totalBytes: number) => void; fetch?: typeof fetch } = {}): Promise<Rd4adModel> {
  return fetchModelFolder(url, RD4AD_FOLDER_READER, (manifest, readFile, where) => deserializeRd4ad(manifest, readFile, backbone, where), options);
}
