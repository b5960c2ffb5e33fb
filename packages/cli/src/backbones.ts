import type { BackboneIdentity, FeatureExtractor, PretrainedBackboneName } from '@thfr/backbone';
import { createRandomResNet, DEFAULT_BACKBONE_NAME, PRETRAINED_BACKBONE_NAMES } from '@thfr/backbone';
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
}

/** Opens the backbone the user asked for, with an error that lists the choices. */
export async function openBackbone(request: BackboneRequest): Promise<FeatureExtractor> {
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
export async function openBackboneFor(identity: BackboneIdentity, weights?: string): Promise<FeatureExtractor> {
  const random = /^random:seed=(\d+)$/.exec(identity.weights);
  return openBackbone({ name: identity.architecture, weights, randomSeed: random && !weights ? Number(random[1]) : undefined });
}
