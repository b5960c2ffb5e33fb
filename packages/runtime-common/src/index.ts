/**
 * @thfr/runtime-common — runtime pieces shared by @thfr/runtime-node and @thfr/runtime-web:
 * training kernels for the wasm backend, backend priority lists, training-support checks.
 * Browser-safe: imports nothing Node-only and no tfjs backend.
 */
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-training-kernels.js';
export type { WasmTrainingKernelOptions } from './wasm-training-kernels.js';
export { registerWasmSliceKernels } from './wasm-slice-kernels.js';
export { registerWasmBroadcastKernels, WASM_BROADCAST_KERNELS } from './wasm-broadcast-kernels.js';
export {
  conv2dFilterGradient,
  conv2dInputGradient,
  depthwiseFilterGradient,
  depthwiseInputGradient,
  unsortedSegmentSumByMatMul,
  maxPoolInputGradient,
} from './conv-gradients.js';
export type { Conv2DPad, DimRoundingMode } from './conv-gradients.js';
export { NODE_BACKEND_PRIORITY, WEB_BACKEND_PRIORITY, backendOrder } from './backend-priority.js';
export type { NodeBackendName, WebBackendName } from './backend-priority.js';
export { TRAINING_KERNELS_BY_OP, checkTrainingSupport, assertTrainingSupport } from './training-support.js';
export type { TrainingSupport } from './training-support.js';
export { describeBackend, formatBackendDescription } from './describe-backend.js';
export type { BackendDescription } from './describe-backend.js';
export { registerBatchNormKernels, ARRAY_BATCH_NORM_BACKENDS } from './batch-norm-kernels.js';
export type { BatchNormKernelOptions } from './batch-norm-kernels.js';
export { batchNormSimdFor } from './batch-norm-simd.js';
export { registerCosineDistanceKernels, cosineDistanceSimdFor, ARRAY_COSINE_DISTANCE_BACKENDS } from './cosine-distance-kernels.js';
export type { CosineDistanceKernelOptions } from './cosine-distance-kernels.js';
export { wasmPatchesFor, tapsTileInput, patchCount } from './wasm-patches.js';
export type { PatchGeometry, WasmPatches } from './wasm-patches.js';
export { wasmHeapModule } from './wasm-heap-module.js';
export type { WasmHeapModule } from './wasm-heap-module.js';
export { registerWebGpuBatchNormKernels, BATCH_NORM_SPLIT_VARIANTS } from './batch-norm-webgpu.js';
export { KernelTuner } from './kernel-tuner.js';
export { registerWebGpuKernelChoices, parseKernelSwitch, SPLIT_BATCH_NORM_ROWS } from './webgpu-kernel-choices.js';
export type { KernelSwitch, WebGpuKernelChoices, WebGpuKernelChoicesRegistration } from './webgpu-kernel-choices.js';
export type { KernelTunerOptions, KernelChoice } from './kernel-tuner.js';
export { registerWebGpuConvFilterGradient, registerWebGpuConvGradients } from './conv-filter-gradient-webgpu.js';
export type { WebGpuFilterGradientOptions } from './conv-filter-gradient-webgpu.js';
export { registerWebGpuConvInputGradient } from './conv-input-gradient-webgpu.js';
export { registerWebGpuTiledGemm, GEMM_VARIANTS } from './gemm-kernels-webgpu.js';
export type { WebGpuTiledGemmOptions } from './gemm-kernels-webgpu.js';
export { tiledGemmProgram, chooseGemmTile, gemmConvGeometry, GEMM_CONV_FIELDS } from './tiled-gemm-webgpu.js';
export type { TiledGemmSpec, GemmMatrixOperand, GemmConvGeometry, GemmIm2colOperand, GemmCol2imOperand, GemmFilterTransposedOperand } from './tiled-gemm-webgpu.js';
export { registerFusedBatchNorm } from './fused-batch-norm.js';
export { registerAdamStep } from './register-adam-step.js';
export type { AdamStepOptions } from './register-adam-step.js';
export { registerWebGpuAdamStep } from './adam-webgpu.js';
export { registerArrayAdamStep, adamStepSimdFor, ARRAY_ADAM_STEP_BACKENDS } from './adam-array-kernels.js';
export type { WebGpuBatchNormOptions } from './batch-norm-webgpu.js';
