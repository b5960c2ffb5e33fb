/**
 * @thfr/backbone — frozen feature extractors (browser-safe entry; Node-only loaders are in '@thfr/backbone/node').
 */
export type { FeatureLevel, BackboneIdentity, FeatureExtractor } from './feature-extractor.js';
export { imagesToUnitRange } from './feature-extractor.js';

export { RESNET_SPECS, RESNET_LAYER_NAMES, planResNet, resolveResNetSpec } from './resnet-spec.js';
export type { ResNetArchitecture, ResNetSpec, ResNetBlock, ResNetLayerName, ResNetPlan } from './resnet-spec.js';
export { ResNetBackbone, buildResNet, IMAGENET_MEAN, IMAGENET_STD } from './resnet.js';
export type { ResNetOptions } from './resnet.js';
export { WeightMismatchError, validateResNetWeights } from './resnet-weights.js';
export type { NamedFloatArrays } from './resnet-weights.js';
export { createRandomResNet, RandomResNetWeights } from './random-weights.js';
export { loadResNetFromSafetensors, loadResNetFromUrl } from './resnet-loaders.js';
export type { SafetensorsLoadOptions } from './resnet-loaders.js';

export { parseSafetensors, SafetensorsFile, SafetensorsError, halfToFloat } from './safetensors.js';
export type { SafetensorsEntry, SafetensorsDtype } from './safetensors.js';
export { fetchBytes } from './fetch-bytes.js';
export type { FetchBytesOptions, ProgressCallback } from './fetch-bytes.js';

export { layersModelBackbone, LayersBackbone } from './layers-adapter.js';
export type { TapOptions, GraphModelLike } from './layers-adapter.js';
export { buildTappedLayersBackbone } from './keras-backbone.js';
export type { KerasArtifacts, TappedModelOptions } from './keras-backbone.js';
export { loadLayersBackboneFromUrl, serializeLayersBackbone } from './layers-export.js';
export type { ExportedBackboneMetadata } from './layers-export.js';
export { patchTopology } from './layers-topology.js';
export { parseJsLiteral, extractUmdExport, JsLiteralError } from './js-literal.js';
export { DEFAULT_BACKBONES, DEFAULT_BACKBONE_NAME } from './default-backbones.js';
export type { DefaultBackboneName, DefaultBackboneInfo } from './default-backbones.js';
