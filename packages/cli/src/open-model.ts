import { readModelManifest, loadModel } from '@thfr/model/node';
import type { FeatureExtractor } from '@thfr/backbone';
import type { ThfrModel } from '@thfr/model';
import { openBackboneFor } from './backbones.js';

/** Opens a saved model folder with the backbone its manifest names (ResNets need --weights). */
export async function openModel(dir: string, weights?: string): Promise<{ model: ThfrModel; backbone: FeatureExtractor }> {
  const manifest = await readModelManifest(dir);
  const backbone = await openBackboneFor(manifest.backbone, weights);
  try {
    return { model: await loadModel(dir, backbone), backbone };
  } catch (error) {
    backbone.dispose();
    throw error;
  }
}
