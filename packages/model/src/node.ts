/**
 * Node-only helpers of @thfr/model: saving and loading THFR model folders on disk (@thfr/restoration/node's
 * crash-safe folder writes and checked reads), and THFR in a method registry. Training checkpoints and the
 * output guards are @thfr/restoration/node's and @thfr/detector/node's, re-exported here.
 */
import type { FeatureExtractor } from '@thfr/backbone';
import { presetOf, type DetectorMethod } from '@thfr/detector';
import { folderFileReader, loadCheckpoint as loadRestorationCheckpoint, readModelFolderManifest, writeModelFolder } from '@thfr/restoration/node';
import type { TrainingCheckpoint } from './train.js';
import { deserializeModel, serializeModel, MODEL_FORMAT, THFR_FOLDER_READER, type ModelManifest } from './serialization.js';
import type { ThfrModel } from './thfr-model.js';
import { ThfrDetector, THFR_PRESETS } from './thfr-detector.js';
import type { ThfrConfig } from './config.js';

export { writeFolderAtomically, recoverInterruptedSave, FAULT_STEPS, checkOutputPath, canonicalPath, OutputPathError } from '@thfr/detector/node';
export type { WriteFolderOptions, Recovery, FaultStep, OutputKind, OutputCheckOptions, OutputRefusal, OutputState } from '@thfr/detector/node';
export { MODEL_OUTPUT, CHECKPOINT_OUTPUT, saveCheckpoint, disposeCheckpoint, readCheckpointManifest, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION } from '@thfr/restoration/node';
export { ManifestFieldError } from '@thfr/restoration';
export { PREDICTIONS_OUTPUT } from './output-guard.js';

/**
 * Saves a model folder: manifest.json + weights.bin (+ bank.bin), plus `extraFiles` (relative paths,
 * e.g. an exported backbone under backbone/) written in the same crash-safe swap. An existing `dir` is
 * replaced only if it holds a model folder; a file or any other folder is refused (OutputPathError).
 */
export async function saveModel(model: ThfrModel, dir: string, options: { extraFiles?: Map<string, Uint8Array | string>; method?: string } = {}): Promise<ModelManifest> {
  return writeModelFolder(await serializeModel(model, { method: options.method }), dir, { extraFiles: options.extraFiles, who: 'saveModel' }) as Promise<ModelManifest>;
}

/** Reads and checks a model's manifest without loading weights (to find which backbone it needs). */
export async function readModelManifest(dir: string): Promise<ModelManifest> {
  return readModelFolderManifest(dir, THFR_FOLDER_READER) as unknown as Promise<ModelManifest>;
}

/** Loads a model folder written by saveModel, with the backbone it was trained with. */
export async function loadModel(dir: string, backbone: FeatureExtractor): Promise<ThfrModel> {
  const manifest = await readModelManifest(dir);
  return deserializeModel(manifest, folderFileReader(dir), backbone, dir);
}

/** Loads a THFR training checkpoint for `trainThfr({ resumeFrom })`, which checks its config against the run's; dispose it with disposeCheckpoint. */
export function loadCheckpoint(dir: string): Promise<TrainingCheckpoint> {
  return loadRestorationCheckpoint<ThfrConfig>(dir);
}

/**
 * THFR in a method registry (@thfr/detector's DetectorMethod): create, save (manifest method 'thfr') and
 * load detectors. Folders saved before manifests named their method are recognised by format and config.
 */
export const THFR_METHOD: DetectorMethod<FeatureExtractor, ThfrDetector> = {
  name: 'thfr',
  summary: 'THFR (ICCV 2023): template-guided hierarchical feature restoration',
  create: (backbone, options = {}) => new ThfrDetector(backbone, { config: options.config as Partial<ThfrConfig>, baseConfig: presetOf(THFR_PRESETS, options.preset, 'thfr') }),
  recognizes: (manifest) => manifest.format === MODEL_FORMAT && (manifest.method === undefined ? !isLegacyRd4ad(manifest) : manifest.method === 'thfr'),
  inspect: (dir) => readModelManifest(dir),
  save: (detector, dir, options = {}) => saveModel(detector.model, dir, { ...options, method: detector.method }),
  load: async (dir, backbone) => {
    const model = await loadModel(dir, backbone);
    return ThfrDetector.fromModel(model, 'thfr');
  },
};

/** An RD4AD folder written before manifests named their method: the local bottleneck only, no template. */
function isLegacyRd4ad(manifest: Record<string, unknown>): boolean {
  const config = manifest.config as Partial<ThfrConfig> | undefined;
  return config?.bottleneck === 'lbn' && config?.template === false;
}
