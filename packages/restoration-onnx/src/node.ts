/**
 * @thfr/restoration-onnx/node — the network runner on onnxruntime-node (an optional peer dependency, as for
 * @thfr/backbone-onnx).
 */
import { loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import type { ResNetBackbone } from '@thfr/backbone';
import type { RestorationModel } from '@thfr/restoration';
import { exportRestorationNetworkToOnnxAsync } from './network-onnx.js';
import { OnnxNetworkRunner, type OnnxNetworkRunnerOptions } from './onnx-network-runner.js';
import { exportRestorationPipelineToOnnxAsync } from './pipeline-onnx.js';
import { OnnxPipelineRunner, type OnnxPipelineRunnerOptions } from './onnx-pipeline-runner.js';

export * from './index.js';

/**
 * Runs `model`'s network on onnxruntime-node for inference from now on (`model.useNetworkRunner`): the network is
 * exported in memory with its current weights, so call it after training. Training, saving and the tfjs network are
 * unchanged; `model.useNetworkRunner(undefined)` goes back to tfjs. Measured on 2 CPU cores: see docs/benchmarks.md.
 */
export async function accelerateNetworkWithOnnx(model: RestorationModel, options: OnnxNetworkRunnerOptions = {}): Promise<OnnxNetworkRunner> {
  const ort = await loadOnnxRuntimeNode();
  const runner = await OnnxNetworkRunner.create(ort, await exportRestorationNetworkToOnnxAsync(model.network), options);
  model.useNetworkRunner(runner);
  return runner;
}

/**
 * Runs `model`'s whole inference on onnxruntime-node as one graph from now on (`model.usePipelineRunner`): the
 * backbone (the tfjs ResNet the model's features come from, exported at the model's imageSize), the template search
 * over the bank, the network and the anomaly map, with the model's current weights, templates and map statistics,
 * so call it after training and calibration. The graph takes predict's excludeTemplates. Maps equal the model's
 * within float32 rounding; `model.usePipelineRunner(undefined)` goes back. Works from any tfjs backend (the weights
 * are read back asynchronously); `{ executionProviders: ['webgpu'] }` runs the graph on onnxruntime's WebGPU. Measured on 2 CPU cores: see
 * docs/benchmarks.md.
 */
export async function accelerateInferenceWithOnnx(model: RestorationModel, backbone: ResNetBackbone, options: OnnxPipelineRunnerOptions = {}): Promise<OnnxPipelineRunner> {
  const ort = await loadOnnxRuntimeNode();
  if (backbone.identity.weights !== model.backbone.identity.weights || backbone.identity.architecture !== model.backbone.identity.architecture) {
    throw new Error(`accelerateInferenceWithOnnx: the backbone (${backbone.identity.architecture}, ${backbone.identity.weights}) is not the model's (${model.backbone.identity.architecture}, ${model.backbone.identity.weights})`);
  }
  const spec = await model.inferenceSpec();
  const bytes = await exportRestorationPipelineToOnnxAsync(backbone, spec, { excludeInput: Boolean(spec.templates) });
  const runner = await OnnxPipelineRunner.create(ort, bytes, { where: `${model.constructor.name} on onnxruntime (one graph)`, ...options });
  model.usePipelineRunner(runner);
  return runner;
}
