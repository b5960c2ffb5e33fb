/** @thfr/rd4ad/node — RD4AD model folders and training checkpoints on disk (@thfr/restoration/node's crash-safe writes and checked reads). */
import type { FeatureExtractor } from '@thfr/backbone';
import { presetOf, type DetectorMethod } from '@thfr/detector';
import { MODEL_FORMAT, type ModelManifest } from '@thfr/restoration';
import { folderFileReader, loadCheckpoint, readModelFolderManifest, writeModelFolder } from '@thfr/restoration/node';
import { RD4AD_PRESETS, type Rd4adConfig } from './config.js';
import { Rd4adDetector } from './rd4ad-detector.js';
import type { Rd4adModel } from './rd4ad-model.js';
import { deserializeRd4ad, isRd4adManifest, parseRd4adManifest, RD4AD_FOLDER_READER, serializeRd4ad, type Rd4adManifest } from './serialization.js';
import type { Rd4adCheckpoint } from './train.js';

/** Saves an RD4AD model folder (manifest.json + weights.bin, + extraFiles such as an exported backbone), atomically. */
export async function saveRd4ad(model: Rd4adModel, dir: string, options: { extraFiles?: Map<string, Uint8Array | string> } = {}): Promise<Rd4adManifest> {
  return writeModelFolder(await serializeRd4ad(model), dir, { extraFiles: options.extraFiles, who: 'saveRd4ad' });
}

/** Reads and checks an RD4AD folder's manifest (and its extra files) without loading weights. */
export async function readRd4adManifest(dir: string): Promise<Rd4adManifest> {
  return parseRd4adManifest(await readModelFolderManifest(dir, RD4AD_FOLDER_READER), `${dir}/manifest.json`);
}

/** Loads a folder written by saveRd4ad (or an older THFR-shaped RD4AD folder); other THFR variants are refused by name. */
export async function loadRd4ad(dir: string, backbone: FeatureExtractor): Promise<Rd4adModel> {
  return deserializeRd4ad(await readRd4adManifest(dir), folderFileReader(dir), backbone, dir);
}

/** Loads an RD4AD training checkpoint for `trainRd4ad({ resumeFrom })`, which checks its config against the run's. */
export function loadRd4adCheckpoint(dir: string): Promise<Rd4adCheckpoint> {
  return loadCheckpoint<Rd4adConfig>(dir);
}

/** RD4AD in a method registry (@thfr/detector's DetectorMethod): saved manifests say method 'rd4ad'. */
export const RD4AD_METHOD: DetectorMethod<FeatureExtractor, Rd4adDetector> = {
  name: 'rd4ad',
  summary: 'RD4AD (CVPR 2022): reverse distillation from a one-class embedding',
  create: (backbone, options = {}) => new Rd4adDetector(backbone, { config: options.config as Partial<Rd4adConfig>, baseConfig: presetOf(RD4AD_PRESETS, options.preset, 'rd4ad') }),
  recognizes: (manifest) => manifest.format === MODEL_FORMAT && isRd4adManifest(manifest),
  inspect: (dir) => readRd4adManifest(dir) as Promise<ModelManifest<Rd4adConfig>>,
  save: (detector, dir, options = {}) => saveRd4ad(detector.model, dir, options),
  load: async (dir, backbone) => Rd4adDetector.fromModel(await loadRd4ad(dir, backbone)),
};
