/** @thfr/rd4ad/node — RD4AD model folders are THFR model folders (@thfr/model/node), checked to be RD4AD-shaped. */
import type { FeatureExtractor } from '@thfr/backbone';
import { loadModel, saveModel } from '@thfr/model/node';
import type { ModelManifest } from '@thfr/model';
import { isRd4adConfig, type Rd4adModel } from './rd4ad.js';

/** Saves an RD4AD model folder (manifest.json + weights.bin), atomically. */
export async function saveRd4ad(model: Rd4adModel, dir: string): Promise<ModelManifest> {
  if (!isRd4adConfig(model.config)) throw new Error(`saveRd4ad: the model is not RD4AD (bottleneck '${model.config.bottleneck}', template ${model.config.template}); use @thfr/model/node's saveModel`);
  return saveModel(model, dir);
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
