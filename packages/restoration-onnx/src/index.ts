/**
 * @thfr/restoration-onnx — restoration networks (THFR, RD4AD) as ONNX models, from the NetworkGraph their modules
 * record, and a NetworkRunner on onnxruntime for a RestorationModel's inference (browser-safe entry: pass the
 * onnxruntime module yourself; '@thfr/restoration-onnx/node' brings onnxruntime-node).
 */
export { exportNetworkGraphToOnnx, exportRestorationNetworkToOnnx, NETWORK_ONNX_OPSET, NETWORK_ONNX_METADATA_KEY } from './network-onnx.js';
export type { NetworkOnnxInfo, NetworkOnnxOptions } from './network-onnx.js';
export { OnnxNetworkRunner } from './onnx-network-runner.js';
export type { OnnxNetworkRunnerOptions } from './onnx-network-runner.js';
