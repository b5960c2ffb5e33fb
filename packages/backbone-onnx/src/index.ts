/**
 * @thfr/backbone-onnx — the ResNet backbones of @thfr/backbone as ONNX models and a FeatureExtractor on onnxruntime
 * (browser-safe entry: pass the onnxruntime module yourself; '@thfr/backbone-onnx/node' brings onnxruntime-node).
 */
export { exportResNetToOnnx, exportResNetToOnnxAsync, ONNX_OPSET } from './resnet-onnx.js';
export { readTensorValues, syncTensorValues } from './tensor-values.js';
export type { TensorValues } from './tensor-values.js';
export type { OnnxExportOptions } from './resnet-onnx.js';
export { readOnnxBackboneInfo, ONNX_BACKBONE_FORMAT, ONNX_BACKBONE_FORMAT_VERSION } from './onnx-metadata.js';
export type { OnnxBackboneInfo, OnnxBackboneInput } from './onnx-metadata.js';
export { OnnxFeatureExtractor } from './onnx-extractor.js';
export { ortSessionOptions, ortSpinningConfig } from './session-options.js';
export type { OrtSessionSettings } from './session-options.js';
export { OnnxAcceleratedBackbone } from './onnx-accelerated.js';
export type { OnnxExtractorOptions } from './onnx-extractor.js';
export type { OnnxRuntimeLike, OrtSessionLike, OrtSessionOptionsLike, OrtTensorLike, ExecutionProviderLike } from './ort-types.js';
export { encodeOnnxModel, decodeOnnxModel, OnnxDataType, OnnxAttributeType } from './onnx-schema.js';
export type { OnnxModel, OnnxGraph, OnnxNode, OnnxTensor, OnnxAttribute, OnnxValueInfo, OnnxDimension, OnnxStringEntry } from './onnx-schema.js';
// The graph builder, for other exporters (@thfr/restoration-onnx writes the restoration networks with it).
export { OnnxGraphBuilder, attr as onnxAttribute, float32ValueInfo, int64ValueInfo } from './onnx-graph.js';
