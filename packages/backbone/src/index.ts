/**
 * @thfr/backbone — frozen feature extractors (browser-safe entry; Node-only loaders are in '@thfr/backbone/node').
 */
export type { FeatureLevel, BackboneIdentity, FeatureExtractor } from './feature-extractor.js';
export { imagesToUnitRange, extractFeatures } from './feature-extractor.js';

export { RESNET_SPECS, RESNET_LAYER_NAMES, planResNet, resolveResNetSpec } from './resnet-spec.js';
export type { ResNetArchitecture, ResNetSpec, ResNetBlock, ResNetLayerName, ResNetPlan } from './resnet-spec.js';
export { ResNetBackbone, buildResNet, IMAGENET_MEAN, IMAGENET_STD, CAFFE_BGR_MEAN } from './resnet.js';
export type { ResNetOptions, ResNetPreprocessing } from './resnet.js';
export { KerasResNetWeights, kerasToTorchName, hwioToOihw } from './keras-resnet-weights.js';
export { RESNET50_IMAGENET_V1, buildResNet50ImagenetV1, resnet50ImagenetWeightsId } from './resnet50-imagenet.js';
export type { KerasResNet50Artifacts } from './resnet50-imagenet.js';
export { serializeResNetBackbone, resnetBackboneFromExport, loadResNetBackboneFromUrl, parseResNetExportManifest, RESNET_EXPORT_FORMAT } from './resnet-export.js';
export type { ResNetExportManifest, ResNetExportOptions } from './resnet-export.js';
export { encodeSafetensors, floatToHalf } from './safetensors-writer.js';
export type { SafetensorsTensor } from './safetensors-writer.js';
export { loadBackboneFromUrl } from './backbone-url.js';
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
export { DEFAULT_BACKBONES, DEFAULT_BACKBONE_NAME, PRETRAINED_BACKBONE_NAMES } from './default-backbones.js';
export type { DefaultBackboneName, DefaultBackboneInfo, NsfwjsBackboneName, PretrainedBackboneName } from './default-backbones.js';
