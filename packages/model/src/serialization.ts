import type { FeatureExtractor } from '@thfr/backbone';
import { fileRef } from '@thfr/detector';
import { TemplateBank } from '@thfr/template-bank';
import type { TemplateBankManifest } from '@thfr/template-bank';
import {
  MODEL_FORMAT, MODEL_FORMAT_VERSION, fetchModelFolder, parseRestorationManifest, restoreNetwork, serializeRestorationModel,
  type FolderReader, type ModelManifest as RestorationManifest, type ModelFileRef, type SerializedModel as RestorationSerializedModel,
} from '@thfr/restoration';
import { resolveConfig, PAPER_CONFIG, type ThfrConfig } from './config.js';
import { ThfrNetwork } from './network.js';
import { ThfrModel } from './thfr-model.js';

export { MODEL_FORMAT, MODEL_FORMAT_VERSION };
export type { ModelFileRef };

/** manifest.json of a saved THFR model folder (@thfr/restoration's model folder with a THFR config and bank). */
export interface ModelManifest extends RestorationManifest<ThfrConfig> {
  bank?: ModelFileRef & { manifest: TemplateBankManifest & Record<string, unknown> };
}

/** A model as files: the manifest and the binary files it names. */
export interface SerializedModel extends RestorationSerializedModel<ThfrConfig> {
  manifest: ModelManifest;
}

export const THFR_FOLDER_READER: FolderReader = { label: 'THFR', packageName: '@thfr/model' };

/** The model folder's files: manifest, weights.bin and, with templates, bank.bin. */
export async function serializeModel(model: ThfrModel, options: { method?: string } = {}): Promise<SerializedModel> {
  const { manifest, files } = await serializeRestorationModel(model, options);
  const thfrManifest = manifest as ModelManifest;
  if (model.bank) {
    const bank = await model.bank.serialize();
    files.set('bank.bin', bank.buffer);
    thfrManifest.bank = { ...(await fileRef('bank.bin', bank.buffer)), manifest: bank.manifest as TemplateBankManifest & Record<string, unknown> };
  }
  return { manifest: thfrManifest, files };
}

/** Checks the manifest's format, version and every field it reads before anything is allocated. */
export function parseManifest(json: unknown, where: string): ModelManifest {
  return parseRestorationManifest(json, where, THFR_FOLDER_READER) as unknown as ModelManifest;
}

/**
 * Rebuilds a model from its manifest and files, read through `readFile(path)` (fs in Node, fetch in
 * a browser). The backbone must be the one the model was trained with: same architecture, weights
 * and taps, and the same level shapes.
 */
export async function deserializeModel(manifestJson: unknown, readFile: (path: string) => Promise<Uint8Array>, backbone: FeatureExtractor, where = 'model'): Promise<ThfrModel> {
  const manifest = parseManifest(manifestJson, `${where}/manifest.json`);
  const parts = await restoreNetwork(manifest, readFile, backbone, where, {
    resolveConfig: (saved) => resolveConfig(saved as Partial<ThfrConfig>, PAPER_CONFIG),
    buildNetwork: (levels, config) => new ThfrNetwork(levels, config),
  });
  const network = parts.network as ThfrNetwork;
  let bank: TemplateBank | undefined;
  try {
    if (parts.config.template) {
      if (!manifest.bank) throw new Error(`${where}: the config uses templates but the manifest names no bank file`);
      bank = TemplateBank.deserialize(manifest.bank.manifest, await parts.readPart(manifest.bank));
    }
    return new ThfrModel({ config: parts.config, backbone, levels: parts.levels, network, bank, normalStatistics: manifest.normalStatistics, mapStatistics: parts.mapStatistics, training: manifest.training });
  } catch (error) {
    network.dispose();
    bank?.dispose();
    throw error;
  }
}

/** Loads a model folder served over HTTP(S) (browser or Node fetch): `${url}/manifest.json` etc. */
export async function loadModelFromUrl(url: string, backbone: FeatureExtractor, options: { onProgress?: (loadedBytes: number, totalBytes: number) => void; fetch?: typeof fetch } = {}): Promise<ThfrModel> {
  return fetchModelFolder(url, THFR_FOLDER_READER, (manifest, readFile, where) => deserializeModel(manifest, readFile, backbone, where), options);
}
