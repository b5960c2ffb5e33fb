// Moves a loaded model's inference onto onnxruntime-web's wasm build (SIMD, threads when the page is cross-origin
// isolated): the whole of it as one graph (backbone, template search, network, anomaly map) as `thfr export-onnx
// --pipeline` writes, exported in memory from the weights just loaded, so the scores equal tfjs' within float32
// rounding. Why: onnxruntime's
// convolutions run several times faster than tfjs-backend-wasm's on a CPU (docs/benchmarks.md measures the
// Node builds of both); GPU backends keep tfjs, which already runs the convolutions on the GPU.
import { ResNetBackbone, type FeatureExtractor } from '@thfr/backbone';
import { OnnxAcceleratedBackbone, OnnxFeatureExtractor, exportResNetToOnnxAsync, type OnnxRuntimeLike } from '@thfr/backbone-onnx';
import { OnnxNetworkRunner, OnnxPipelineRunner, exportRestorationNetworkToOnnxAsync, exportRestorationPipelineToOnnxAsync } from '@thfr/restoration-onnx';
import type { ThfrModel } from '@thfr/model';
import type { FeatureRuntime } from './worker-protocol.js';

/** Whether the networks go to onnxruntime-web: 'auto' on the CPU backends (wasm, cpu) for a ResNet backbone. */
export function wantsOnnxRuntime(features: FeatureRuntime, backend: string, backbone: FeatureExtractor): backbone is ResNetBackbone {
  if (features === 'tfjs') return false;
  const resnet = backbone instanceof ResNetBackbone;
  if (features === 'onnx') {
    if (!resnet) throw new Error(`?features=onnx: only the ResNet backbones are exported to ONNX; this model's backbone is '${backbone.identity.architecture}' (use ?features=tfjs or auto)`);
    return true;
  }
  return resnet && (backend === 'wasm' || backend === 'cpu');
}

export interface OnnxRuntimeWeb {
  ort: OnnxRuntimeLike;
  /** e.g. 'onnxruntime-web 1.30.0 (wasm, 2 threads)'. */
  description: string;
}

/**
 * Imports onnxruntime-web's wasm build: its own chunk, and its 14 MB .wasm (which the bundler emits as an asset,
 * from the build's `new URL(..., import.meta.url)`) is fetched only by pages that use it. Threads need cross-origin
 * isolation (SharedArrayBuffer), as tfjs' do.
 */
export async function loadOnnxRuntimeWeb(): Promise<OnnxRuntimeWeb> {
  const ort = await import('onnxruntime-web/wasm');
  const threads = self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  ort.env.wasm.numThreads = threads;
  const description = `onnxruntime-web ${ort.env.versions.web ?? ''} (wasm, ${threads} thread${threads === 1 ? '' : 's'})`.replace('  ', ' ');
  return { ort: ort as unknown as OnnxRuntimeLike, description };
}

/** The tfjs ResNet `backbone` with its extraction on onnxruntime-web; it takes ownership of `backbone`. */
export async function backboneOnOnnxRuntime(ort: OnnxRuntimeLike, backbone: ResNetBackbone): Promise<OnnxAcceleratedBackbone> {
  const onnx = await OnnxFeatureExtractor.create(ort, await exportResNetToOnnxAsync(backbone));
  return new OnnxAcceleratedBackbone(backbone, onnx);
}

/**
 * Above this many bytes of templates the page runs only the network on onnxruntime-web: the one graph holds its own
 * copy of the bank (keys and values) in onnxruntime-web's heap, next to the model's.
 */
export const MAX_ONE_GRAPH_BANK_BYTES = 256 * 2 ** 20;

/**
 * Runs `model`'s inference on onnxruntime-web (the model disposes the runner): as one graph, or the network alone
 * when the bank is larger than MAX_ONE_GRAPH_BANK_BYTES. Returns which, for the status line.
 */
export async function inferenceOnOnnxRuntime(ort: OnnxRuntimeLike, model: ThfrModel, backbone: OnnxAcceleratedBackbone): Promise<string> {
  const spec = await model.inferenceSpec();
  const bankBytes = spec.templates ? (spec.templates.keys.length + spec.templates.values.values.length) * 4 : 0;
  if (bankBytes <= MAX_ONE_GRAPH_BANK_BYTES) {
    const bytes = await exportRestorationPipelineToOnnxAsync(backbone.tfjs, spec);
    model.usePipelineRunner(await OnnxPipelineRunner.create(ort, bytes, { where: 'the model on onnxruntime-web (one graph)' }));
    return 'one graph';
  }
  model.useNetworkRunner(await OnnxNetworkRunner.create(ort, await exportRestorationNetworkToOnnxAsync(model.network)));
  return `backbone and network (the bank's ${(bankBytes / 2 ** 20).toFixed(0)} MiB stay on tfjs)`;
}
