import { serializeLayersBackbone, type FeatureExtractor, LayersBackbone } from '@thfr/backbone';
import { saveModel } from '@thfr/model/node';
import type { ModelManifest, ThfrModel } from '@thfr/model';

/**
 * Saves the model folder; a tfjs-layers backbone (the offline default) is exported into backbone/
 * (model.json + weights.bin) in the same atomic write, so a browser can load model and backbone
 * from one served folder.
 */
export async function saveModelFolder(model: ThfrModel, backbone: FeatureExtractor, dir: string): Promise<ModelManifest> {
  const extraFiles = new Map<string, Uint8Array | string>();
  if (backbone instanceof LayersBackbone) {
    const { modelJson, weights } = await serializeLayersBackbone(backbone);
    extraFiles.set('backbone/model.json', JSON.stringify(modelJson));
    extraFiles.set('backbone/weights.bin', weights);
  }
  return saveModel(model, dir, { extraFiles });
}
