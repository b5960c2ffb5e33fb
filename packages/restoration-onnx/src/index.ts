/**
 * @thfr/restoration-onnx — restoration networks (THFR, RD4AD) as ONNX models, from the NetworkGraph their modules
 * record, and a NetworkRunner on onnxruntime for a RestorationModel's inference; a model's whole inference
 * (backbone, template search, network, anomaly map) as one ONNX graph and its PipelineRunner (browser-safe entry:
 * pass the onnxruntime module yourself; '@thfr/restoration-onnx/node' brings onnxruntime-node).
 */
export { exportNetworkGraphToOnnx, exportRestorationNetworkToOnnx, exportRestorationNetworkToOnnxAsync, readNetworkValues, NETWORK_ONNX_OPSET, NETWORK_ONNX_METADATA_KEY } from './network-onnx.js';
export type { NetworkOnnxInfo, NetworkOnnxOptions } from './network-onnx.js';
export { OnnxNetworkRunner } from './onnx-network-runner.js';
export type { OnnxNetworkRunnerOptions } from './onnx-network-runner.js';
export { exportRestorationPipelineToOnnx, exportRestorationPipelineToOnnxAsync, PIPELINE_ONNX_METADATA_KEY, PIPELINE_ONNX_FORMAT } from './pipeline-onnx.js';
export type { PipelineOnnxInfo, PipelineOnnxOptions } from './pipeline-onnx.js';
export { OnnxPipelineRunner, readPipelineOnnxInfo } from './onnx-pipeline-runner.js';
export type { OnnxPipelineRunnerOptions } from './onnx-pipeline-runner.js';
