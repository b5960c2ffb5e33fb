import { tf } from '@thfr/tensor';
import type { BackboneIdentity, FeatureExtractor, PretrainedBackboneName } from '@thfr/backbone';
import { createRandomResNet, DEFAULT_BACKBONE_NAME, PRETRAINED_BACKBONE_NAMES, ResNetBackbone } from '@thfr/backbone';
import { OnnxAcceleratedBackbone, accelerateWithOnnx } from '@thfr/backbone-onnx/node';
import { accelerateInferenceWithOnnx, accelerateNetworkWithOnnx } from '@thfr/restoration-onnx/node';
import { RestorationModel } from '@thfr/restoration';
import type { AnomalyDetector } from '@thfr/detector';
import type { ResNetArchitecture } from '@thfr/backbone';
import { loadPretrainedBackbone, loadResNetFromFile } from '@thfr/backbone/node';

/** Backbones that load with no --weights (installed with the packages), the default first. */
export const DEFAULT_BACKBONE_NAMES: readonly string[] = PRETRAINED_BACKBONE_NAMES;
export { DEFAULT_BACKBONE_NAME };
/** torchvision architectures: their ImageNet weights come from a safetensors file (--weights). */
export const RESNET_NAMES: ResNetArchitecture[] = ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'wide_resnet50_2', 'wide_resnet101_2'];

export interface BackboneRequest {
  /** A default (offline) backbone name or a ResNet architecture. */
  name: string;
  /** safetensors file with torchvision / timm names (ResNets). */
  weights?: string;
  /** ResNets only: random weights with this seed (benchmarks; features mean nothing). */
  randomSeed?: number;
  /** Where the frozen backbone runs (--features): 'auto' (default), 'onnx' or 'tfjs'; see withFeatureRuntime. */
  features?: string;
}

export const FEATURE_RUNTIMES = ['auto', 'onnx', 'tfjs'] as const;

/** The --features option of every command that opens a backbone. */
export const FEATURES_OPTION = {
  type: 'string', valueName: 'RUNTIME', default: 'auto',
  help: "where the frozen backbone runs: 'auto' (ResNets on onnxruntime-node when it is installed and the tensor backend is wasm or cpu: 2-5x faster there; else tfjs), 'onnx' (required), 'tfjs'",
} as const;

/**
 * Runs a ResNet backbone's async extraction (feature caches, predict, PatchCore/PaDiM fits) on onnxruntime-node
 * when `features` asks for it: 'onnx' always (an error when it cannot), 'auto' on the CPU backends when
 * onnxruntime-node loads (GPU backends run the backbone fast on tfjs), 'tfjs' never. The features equal tfjs'
 * within ~1e-5 relative; the identity is the same, so saved models do not depend on the choice.
 */
export async function withFeatureRuntime(backbone: FeatureExtractor, features = 'auto'): Promise<FeatureExtractor> {
  if (!(FEATURE_RUNTIMES as readonly string[]).includes(features)) {
    backbone.dispose();
    throw new Error(`--features takes ${FEATURE_RUNTIMES.join(', ')}; got '${features}'`);
  }
  if (features === 'tfjs') return backbone;
  const required = features === 'onnx';
  if (!(backbone instanceof ResNetBackbone)) {
    if (!required) return backbone;
    backbone.dispose();
    throw new Error(`--features onnx: only the ResNet backbones are exported to ONNX; '${backbone.identity.architecture}' runs on tfjs (use --features tfjs or auto)`);
  }
  if (!required && !['wasm', 'cpu'].includes(tf.getBackend())) return backbone;
  try {
    return await accelerateWithOnnx(backbone);
  } catch (error) {
    if (!required) return backbone; // onnxruntime-node is an optional peer: without it, tfjs
    backbone.dispose();
    throw error;
  }
}

/**
 * When the backbone runs on onnxruntime (--features auto / onnx chose it), a restoration detector's inference (THFR,
 * RD4AD) runs there too: the whole of it as one graph (backbone, template search, network, anomaly map, with the
 * trained weights, bank and map statistics: @thfr/restoration-onnx's pipeline), else the network alone (maps equal
 * tfjs' within 1e-4 relative either way). Call after fit or load; training and saving keep the tfjs network.
 */
export async function withNetworkRuntime(detector: AnomalyDetector, backbone: FeatureExtractor): Promise<{ engine: 'onnxruntime (one graph)' | 'onnxruntime' | 'tfjs'; failure?: string }> {
  if (!(backbone instanceof OnnxAcceleratedBackbone)) return { engine: 'tfjs' };
  const model = (detector as { model?: unknown }).model;
  if (!(model instanceof RestorationModel) || typeof model.network.toGraph !== 'function') return { engine: 'tfjs' };
  let pipelineFailure: string | undefined;
  try {
    await accelerateInferenceWithOnnx(model, backbone.tfjs);
    return { engine: 'onnxruntime (one graph)' };
  } catch (error) {
    // e.g. a bank too large for one protobuf (2 GiB): the network alone still runs on onnxruntime.
    pipelineFailure = error instanceof Error ? error.message : String(error);
  }
  try {
    await accelerateNetworkWithOnnx(model);
    return { engine: 'onnxruntime', failure: `the whole inference as one graph: ${pipelineFailure}` };
  } catch (error) {
    // The backbone loaded onnxruntime, so this is unexpected; the tfjs network gives the same maps.
    return { engine: 'tfjs', failure: error instanceof Error ? error.message : String(error) };
  }
}

/** Opens the backbone the user asked for, with an error that lists the choices. */
export async function openBackbone(request: BackboneRequest): Promise<FeatureExtractor> {
  return withFeatureRuntime(await openTfjsBackbone(request), request.features);
}

async function openTfjsBackbone(request: BackboneRequest): Promise<FeatureExtractor> {
  if (DEFAULT_BACKBONE_NAMES.includes(request.name)) {
    if (request.weights) throw new Error(`backbone '${request.name}' is installed with its weights; --weights is for the torchvision ResNets (${RESNET_NAMES.join(', ')})`);
    return loadPretrainedBackbone(request.name as PretrainedBackboneName);
  }
  if ((RESNET_NAMES as string[]).includes(request.name)) {
    const arch = request.name as ResNetArchitecture;
    if (request.weights) return loadResNetFromFile(request.weights, arch);
    if (request.randomSeed !== undefined) return createRandomResNet(arch, { seed: request.randomSeed });
    throw new Error(`backbone '${arch}' needs ImageNet weights: pass --weights FILE.safetensors (a torchvision state dict or timm's '${arch}.tv_in1k' saved as safetensors)`);
  }
  throw new Error(`unknown backbone '${request.name}': choose one of ${[...DEFAULT_BACKBONE_NAMES, ...RESNET_NAMES].join(', ')}`);
}

/** Re-opens the backbone a saved model names (its identity), using --weights for ResNets. */
export async function openBackboneFor(identity: BackboneIdentity, weights?: string, features?: string): Promise<FeatureExtractor> {
  const random = /^random:seed=(\d+)$/.exec(identity.weights);
  return openBackbone({ name: identity.architecture, weights, randomSeed: random && !weights ? Number(random[1]) : undefined, features });
}
