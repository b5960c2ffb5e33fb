import { sha256Hex } from './digest.js';
import { fetchBytes, type FetchBytesOptions } from './fetch-bytes.js';
import { buildResNet, type ResNetBackbone, type ResNetOptions } from './resnet.js';
import type { ResNetArchitecture, ResNetSpec } from './resnet-spec.js';
import { parseSafetensors } from './safetensors.js';

export interface SafetensorsLoadOptions extends ResNetOptions {
  /** Name used in error messages (a file name or URL). */
  source?: string;
}

/**
 * Builds a ResNet from safetensors bytes with torchvision / timm parameter names (`conv1.weight`,
 * `layer1.0.downsample.1.running_var`, ...; `fc.*` and `num_batches_tracked` ignored). The identity's weights
 * field is 'sha256:<hex>' of the bytes unless options.weightsId is given.
 */
export async function loadResNetFromSafetensors(bytes: ArrayBuffer | Uint8Array, arch: ResNetArchitecture | ResNetSpec, options: SafetensorsLoadOptions = {}): Promise<ResNetBackbone> {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const file = parseSafetensors(view, options.source ?? 'safetensors data');
  const hex = options.weightsId ? undefined : await sha256Hex(view);
  const weightsId = options.weightsId ?? (hex ? `sha256:${hex}` : `unhashed:${file.source}`);
  return buildResNet(arch, file, { ...options, weightsId });
}

/** Fetches a safetensors file (with progress) and builds the ResNet (browser or Node). */
export async function loadResNetFromUrl(url: string, arch: ResNetArchitecture | ResNetSpec, options: ResNetOptions & FetchBytesOptions = {}): Promise<ResNetBackbone> {
  const bytes = await fetchBytes(url, options);
  return loadResNetFromSafetensors(bytes, arch, { ...options, source: url });
}
