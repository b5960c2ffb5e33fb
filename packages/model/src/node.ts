/**
 * Node-only helpers of @thfr/model: saving and loading model folders and training checkpoints on
 * disk. Saves are crash-safe (atomic-folder.ts) and refuse to replace anything but a previous output
 * of the same kind (output-guard.ts); loads first recover what a killed save left behind.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeatureExtractor } from '@thfr/backbone';
import { readCheckedFile, readFolderJson } from '@thfr/detector/node';
import { writeFolderAtomically } from './atomic-folder.js';
import { MODEL_OUTPUT } from './output-guard.js';
import { deserializeModel, parseManifest, serializeModel, type ModelManifest } from './serialization.js';
import { sha256Hex } from './tensor-pack.js';
import type { ThfrModel } from './thfr-model.js';
import type { DetectorMethod } from '@thfr/detector';
import { MODEL_FORMAT } from './serialization.js';
import { ThfrDetector, THFR_PRESETS } from './thfr-detector.js';
import type { ThfrConfig } from './config.js';

export { writeFolderAtomically, recoverInterruptedSave, FAULT_STEPS } from './atomic-folder.js';
export type { WriteFolderOptions, Recovery, FaultStep } from './atomic-folder.js';
export { checkOutputPath, canonicalPath, OutputPathError, MODEL_OUTPUT, CHECKPOINT_OUTPUT, PREDICTIONS_OUTPUT } from './output-guard.js';
export type { OutputKind, OutputCheckOptions, OutputRefusal, OutputState } from './output-guard.js';
export { saveCheckpoint, loadCheckpoint, disposeCheckpoint, readCheckpointManifest, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION } from './checkpoint-files.js';
export { ManifestFieldError } from './manifest-schema.js';

/**
 * Saves a model folder: manifest.json + weights.bin (+ bank.bin), plus `extraFiles` (relative paths,
 * e.g. an exported backbone under backbone/) written in the same crash-safe swap. An existing `dir` is
 * replaced only if it holds a THFR model; a file or any other folder is refused (OutputPathError).
 */
export async function saveModel(model: ThfrModel, dir: string, options: { extraFiles?: Map<string, Uint8Array | string>; method?: string } = {}): Promise<ModelManifest> {
  const { manifest, files } = await serializeModel(model, { method: options.method });
  const extra = [...(options.extraFiles ?? [])];
  if (extra.length > 0) {
    manifest.extraFiles = await Promise.all(extra.map(async ([path, content]) => {
      const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
      return { path, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
    }));
  }
  const all = new Map<string, Uint8Array | string>([...extra, ...files]);
  all.set('manifest.json', JSON.stringify(manifest, null, 2));
  await writeFolderAtomically(dir, all, { kind: MODEL_OUTPUT, who: 'saveModel' });
  return manifest;
}

/** Reads and checks a model's manifest without loading weights (to find which backbone it needs). */
export async function readModelManifest(dir: string): Promise<ModelManifest> {
  const path = join(dir, 'manifest.json');
  const manifest = parseManifest(await readFolderJson(dir, 'saved THFR model'), path);
  // Files the manifest lists besides its own (e.g. the exported backbone/weights.*), checked by size and SHA-256.
  for (const ref of manifest.extraFiles ?? []) await readCheckedFile(dir, ref, path);
  return manifest;
}

/** Loads a model folder written by saveModel, with the backbone it was trained with. */
export async function loadModel(dir: string, backbone: FeatureExtractor): Promise<ThfrModel> {
  const manifest = await readModelManifest(dir);
  return deserializeModel(manifest, async (path) => {
    try {
      return new Uint8Array(await readFile(join(dir, path)));
    } catch {
      throw new Error(`${join(dir, path)} is missing (named in ${join(dir, 'manifest.json')})`);
    }
  }, backbone, dir);
}

/**
 * THFR in a method registry (@thfr/detector's DetectorMethod): create, save (manifest method 'thfr') and
 * load detectors. Folders saved before manifests named their method are recognised by format and config.
 */
export const THFR_METHOD: DetectorMethod<FeatureExtractor, ThfrDetector> = {
  name: 'thfr',
  summary: 'THFR (ICCV 2023): template-guided hierarchical feature restoration',
  create: (backbone, options = {}) => new ThfrDetector(backbone, { config: options.config as Partial<ThfrConfig>, baseConfig: presetOf(THFR_PRESETS, options.preset, 'thfr') }),
  recognizes: (manifest) => manifest.format === MODEL_FORMAT && !isLegacyRd4ad(manifest),
  inspect: (dir) => readModelManifest(dir),
  save: (detector, dir, options = {}) => saveModel(detector.model, dir, { ...options, method: detector.method }),
  load: async (dir, backbone) => {
    const model = await loadModel(dir, backbone);
    return ThfrDetector.fromModel(model, 'thfr');
  },
};

/** The preset's config, or an error listing the presets. */
export function presetOf<T>(presets: Record<string, T>, preset: string | undefined, method: string): T {
  const name = preset ?? 'default';
  if (!(name in presets)) throw new Error(`${method}: unknown preset '${name}': choose one of ${Object.keys(presets).join(', ')}`);
  return presets[name];
}

/** An RD4AD folder written before manifests named their method: the local bottleneck only, no template. */
function isLegacyRd4ad(manifest: Record<string, unknown>): boolean {
  const config = manifest.config as Partial<ThfrConfig> | undefined;
  return config?.bottleneck === 'lbn' && config?.template === false;
}
