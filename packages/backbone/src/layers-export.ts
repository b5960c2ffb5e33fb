import { tf } from '@thfr/tensor';
import * as tfl from '@tensorflow/tfjs-layers';
import { layersModelBackbone, type LayersBackbone } from './layers-adapter.js';

/** What `exportLayersBackbone` writes into model.json's userDefinedMetadata so a browser can rebuild the backbone. */
export interface ExportedBackboneMetadata {
  taps: string[];
  levelNames: string[];
  inputRange: [number, number];
  resizeToStride: boolean;
  architecture: string;
  weights: string;
}

/** model.json (tfjs layers-model format) and the single weights file for a LayersBackbone's tap model. */
export async function serializeLayersBackbone(backbone: LayersBackbone, weightsFileName = 'weights.bin'): Promise<{ modelJson: unknown; weights: Uint8Array }> {
  const model = backbone.model;
  if (!(model instanceof tfl.LayersModel)) throw new Error('serializeLayersBackbone: only LayersModel backbones can be exported');
  let result: { modelJson: unknown; weights: Uint8Array } | undefined;
  const metadata: ExportedBackboneMetadata = {
    taps: backbone.identity.taps,
    levelNames: backbone.levels.map((l) => l.name),
    inputRange: backbone.inputRange,
    resizeToStride: backbone.resizeToStride,
    architecture: backbone.identity.architecture,
    weights: backbone.identity.weights,
  };
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const weights = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(tf.io.concatenateArrayBuffers(data ?? []));
      result = {
        modelJson: {
          format: 'layers-model',
          generatedBy: artifacts.generatedBy,
          convertedBy: '@thfr/backbone',
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: [weightsFileName], weights: artifacts.weightSpecs }],
          userDefinedMetadata: { thfr: metadata },
        },
        weights,
      };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return result!;
}

/**
 * Loads a backbone exported with `exportLayersBackbone` (model.json + weights.bin served over HTTP, or any
 * tfjs layers-model URL / IOHandler). Taps default to the ones stored in the model's metadata.
 */
export async function loadLayersBackboneFromUrl(
  url: string | tf.io.IOHandler,
  taps?: string[],
  options: { inputRange?: [number, number]; onProgress?: (fraction: number) => void } = {},
): Promise<LayersBackbone> {
  const model = await tfl.loadLayersModel(url, { onProgress: options.onProgress });
  const meta = (model.getUserDefinedMetadata() as { thfr?: ExportedBackboneMetadata } | undefined)?.thfr;
  const useTaps = taps ?? meta?.taps;
  if (!useTaps) {
    model.dispose();
    throw new Error(`loadLayersBackboneFromUrl(${typeof url === 'string' ? url : 'handler'}): no taps given and the model carries no thfr metadata`);
  }
  model.trainable = false;
  return layersModelBackbone(model, {
    taps: useTaps,
    inputRange: options.inputRange ?? meta?.inputRange ?? [0, 1],
    levelNames: taps ? undefined : meta?.levelNames,
    resizeToStride: meta?.resizeToStride ?? false,
    identity: meta ? { architecture: meta.architecture, weights: meta.weights, taps: useTaps } : undefined,
    ownsModel: true,
  });
}
