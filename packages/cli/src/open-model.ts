import { join } from 'node:path';
import type { FeatureExtractor } from '@thfr/backbone';
import type { AnomalyDetector } from '@thfr/detector';
import { readFolderManifest } from '@thfr/detector/node';
import { openBackboneFor, withNetworkRuntime } from './backbones.js';
import { cliMethod, cliMethodForManifest, type CliMethod } from './methods.js';

/**
 * Reads a saved model folder's manifest and checks it with its method's own checks (no tensors are
 * loaded): the method it names (or is recognised as) and the backbone to open. `expected` (--method)
 * must match the folder's method when given.
 */
export async function inspectModel(dir: string, expected?: string): Promise<{ entry: CliMethod; backbone: { architecture: string; weights: string; taps: string[] } }> {
  const manifest = await readFolderManifest(dir, 'saved THFR model');
  const entry = cliMethodForManifest(manifest, join(dir, 'manifest.json'));
  if (expected !== undefined && cliMethod(expected) !== entry) throw new Error(`--method ${expected}: ${dir} holds a ${entry.method.name} model`);
  const { backbone } = await entry.method.inspect(dir);
  return { entry, backbone };
}

/** Opens a saved model folder in one step: its method from the manifest, the backbone it names (ResNets need --weights), the detector. */
export async function openModel(dir: string, options: { weights?: string; method?: string; features?: string } = {}): Promise<{ detector: AnomalyDetector; backbone: FeatureExtractor; entry: CliMethod }> {
  const { entry, backbone: identity } = await inspectModel(dir, options.method);
  const backbone = await openBackboneFor(identity, options.weights, options.features);
  try {
    const detector = await entry.method.load(dir, backbone);
    await withNetworkRuntime(detector, backbone);
    return { detector, backbone, entry };
  } catch (error) {
    backbone.dispose();
    throw error;
  }
}
