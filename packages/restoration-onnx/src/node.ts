/**
 * @thfr/restoration-onnx/node — the network runner on onnxruntime-node (an optional peer dependency, as for
 * @thfr/backbone-onnx).
 */
import { loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import type { RestorationModel } from '@thfr/restoration';
import { exportRestorationNetworkToOnnx } from './network-onnx.js';
import { OnnxNetworkRunner, type OnnxNetworkRunnerOptions } from './onnx-network-runner.js';

export * from './index.js';

/**
 * Runs `model`'s network on onnxruntime-node for inference from now on (`model.useNetworkRunner`): the network is
 * exported in memory with its current weights, so call it after training. Training, saving and the tfjs network are
 * unchanged; `model.useNetworkRunner(undefined)` goes back to tfjs. Measured on 2 CPU cores: see docs/benchmarks.md.
 */
export async function accelerateNetworkWithOnnx(model: RestorationModel, options: OnnxNetworkRunnerOptions = {}): Promise<OnnxNetworkRunner> {
  const ort = await loadOnnxRuntimeNode();
  const runner = await OnnxNetworkRunner.create(ort, exportRestorationNetworkToOnnx(model.network), options);
  model.useNetworkRunner(runner);
  return runner;
}
