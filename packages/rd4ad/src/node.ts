/** @thfr/rd4ad/node — RD4AD model folders are THFR model folders (@thfr/model/node), checked to be RD4AD-shaped. */
import type { FeatureExtractor } from '@thfr/backbone';
import type { DetectorMethod } from '@thfr/detector';
import { loadModel, presetOf, readModelManifest, saveModel } from '@thfr/model/node';
import { MODEL_FORMAT, type ModelManifest } from '@thfr/model';
import { isRd4adConfig, Rd4adDetector, RD4AD_PRESETS, type Rd4adConfig, type Rd4adModel } from './rd4ad.js';

/** Saves an RD4AD model folder (manifest.json + weights.bin), atomically. */
export async function saveRd4ad(model: Rd4adModel, dir: string, options: { extraFiles?: Map<string, Uint8Array | string> } = {}): Promise<ModelManifest> {
  if (!isRd4adConfig(model.config)) throw new Error(`saveRd4ad: the model is not RD4AD (bottleneck '${model.config.bottleneck}', template ${model.config.template}); use @thfr/model/node's saveModel`);
  return saveModel(model, dir, { ...options, method: 'rd4ad' });
}

/** Loads a folder written by saveRd4ad; rejects THFR folders of other variants by name. */
export async function loadRd4ad(dir: string, backbone: FeatureExtractor): Promise<Rd4adModel> {
  const model = await loadModel(dir, backbone);
  if (!isRd4adConfig(model.config)) {
    const { bottleneck, template } = model.config;
    model.dispose();
    throw new Error(`${dir} holds a THFR model (bottleneck '${bottleneck}', template ${template}), not RD4AD (bottleneck 'lbn', no template); load it with @thfr/model/node's loadModel`);
  }
  return model;
}

/** RD4AD in a method registry (@thfr/detector's DetectorMethod): saved manifests say method 'rd4ad'. */
export const RD4AD_METHOD: DetectorMethod<FeatureExtractor, Rd4adDetector> = {
  name: 'rd4ad',
  summary: 'RD4AD (CVPR 2022): reverse distillation from a one-class embedding',
  create: (backbone, options = {}) => new Rd4adDetector(backbone, { config: options.config as Partial<Rd4adConfig>, baseConfig: presetOf(RD4AD_PRESETS, options.preset, 'rd4ad') }),
  recognizes: (manifest) => {
    const config = manifest.config as { bottleneck?: string; template?: boolean } | undefined;
    return manifest.format === MODEL_FORMAT && config?.bottleneck === 'lbn' && config?.template === false;
  },
  inspect: (dir) => readModelManifest(dir),
  save: (detector, dir, options = {}) => saveRd4ad(detector.model, dir, options),
  load: async (dir, backbone) => {
    const model = await loadRd4ad(dir, backbone);
    const detector = new Rd4adDetector(backbone, { baseConfig: model.config });
    detector.attach(model);
    return detector;
  },
};
