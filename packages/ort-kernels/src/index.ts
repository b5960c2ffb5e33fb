/**
 * @thfr/ort-kernels — tfjs-backend-wasm's convolution, its gradients and matMul on onnxruntime-node's native CPU
 * code, in Node (an optional peer dependency, like tfjs-node). `@thfr/runtime-node`'s users get it from the CLI, or
 * call `registerOrtKernels()` after the wasm backend is set.
 */
export { registerOrtKernels, activeOrtKernels, withOrtKernels, ORT_KERNELS } from './ort-kernels.js';
export type { OrtKernelOptions, OrtKernels, OrtKernelStats, OrtKernelName } from './ort-kernels.js';
export { convForwardModel, convFilterGradientModel, convInputGradientModel, matMulModel, patchProductModel } from './kernel-graphs.js';
export type { ConvGeometry, KernelModel, FeedLayout } from './kernel-graphs.js';
