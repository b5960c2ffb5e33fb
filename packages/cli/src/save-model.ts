import { serializeLayersBackbone, serializeResNetBackbone, type FeatureExtractor, LayersBackbone, ResNetBackbone } from '@thfr/backbone';
import type { AnomalyDetector } from '@thfr/detector';
import { OnnxAcceleratedBackbone } from '@thfr/backbone-onnx';
import type { CliMethod } from './methods.js';

/**
 * The backbone exported as files under backbone/, so a browser can load model and backbone from one
 * served folder (`loadBackboneFromUrl('<model>/backbone/')`): a ResNet (the default ImageNet ResNet-50) as
 * backbone.json + float16 weights.safetensors, a tfjs-layers backbone as model.json + weights.bin.
 */
export async function backboneFiles(opened: FeatureExtractor): Promise<Map<string, Uint8Array | string>> {
  // A backbone running on onnxruntime is exported from its tfjs network (the same weights).
  const backbone = opened instanceof OnnxAcceleratedBackbone ? opened.tfjs : opened;
  const files = new Map<string, Uint8Array | string>();
  if (backbone instanceof LayersBackbone) {
    const { modelJson, weights } = await serializeLayersBackbone(backbone);
    files.set('backbone/model.json', JSON.stringify(modelJson));
    files.set('backbone/weights.bin', weights);
  } else if (backbone instanceof ResNetBackbone) {
    const { manifest, weights } = await serializeResNetBackbone(backbone, { dtype: 'F16' });
    files.set('backbone/backbone.json', JSON.stringify(manifest, null, 2));
    files.set(`backbone/${manifest.weights.path}`, weights);
  }
  return files;
}

/** Saves a fitted detector through its method, with the backbone exported into backbone/ in the same atomic write. */
export async function saveDetectorFolder(entry: CliMethod, detector: AnomalyDetector, backbone: FeatureExtractor, dir: string): Promise<Record<string, unknown>> {
  return (await entry.method.save(detector, dir, { extraFiles: await backboneFiles(backbone) })) as Record<string, unknown>;
}
