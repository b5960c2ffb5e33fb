import { tf } from '@thfr/tensor';
import type { BackboneIdentity } from './feature-extractor.js';
import { fetchBytes, type FetchBytesOptions } from './fetch-bytes.js';
import { ResNetBackbone, type ResNetPreprocessing } from './resnet.js';
import { convBnsOf, planResNet, RESNET_LAYER_NAMES, resolveResNetSpec, type ResNetLayerName, type ResNetSpec } from './resnet-spec.js';
import type { FoldedConv } from './resnet-weights.js';
import { parseSafetensors } from './safetensors.js';
import { encodeSafetensors, type SafetensorsTensor } from './safetensors-writer.js';

export const RESNET_EXPORT_FORMAT = 'thfr-resnet-backbone';
export const RESNET_EXPORT_VERSION = 1;

/**
 * `backbone.json` of an exported ResNet: the architecture, the taps, the preprocessing and the identity of the
 * source weights; the folded convs (BN already folded in: `<conv>.filter` HWIO and `<conv>.bias`) are in
 * `weights` (safetensors, float16 or float32).
 */
export interface ResNetExportManifest {
  format: typeof RESNET_EXPORT_FORMAT;
  version: number;
  spec: ResNetSpec;
  levels: ResNetLayerName[];
  preprocessing: ResNetPreprocessing;
  identity: BackboneIdentity;
  weights: { path: string; dtype: 'F16' | 'F32'; bytes: number };
}

export interface ResNetExportOptions {
  /** 'F16' (default: half the bytes; features within ~1e-3 relative) or 'F32' (exact). */
  dtype?: 'F16' | 'F32';
  weightsFileName?: string;
}

/** The manifest and safetensors bytes of a ResNet backbone's folded convs (what a browser loads). */
export async function serializeResNetBackbone(backbone: ResNetBackbone, options: ResNetExportOptions = {}): Promise<{ manifest: ResNetExportManifest; weights: Uint8Array }> {
  const dtype = options.dtype ?? 'F16';
  const tensors: SafetensorsTensor[] = [];
  for (const [name, { filter, bias }] of backbone.foldedConvs()) {
    tensors.push({ name: `${name}.filter`, shape: filter.shape, values: (await filter.data()) as Float32Array });
    tensors.push({ name: `${name}.bias`, shape: bias.shape, values: (await bias.data()) as Float32Array });
  }
  const weights = encodeSafetensors(tensors, dtype, { format: RESNET_EXPORT_FORMAT });
  const manifest: ResNetExportManifest = {
    format: RESNET_EXPORT_FORMAT,
    version: RESNET_EXPORT_VERSION,
    spec: backbone.spec,
    levels: backbone.levels.map((l) => l.name as ResNetLayerName),
    preprocessing: backbone.preprocessing,
    identity: backbone.identity,
    weights: { path: options.weightsFileName ?? 'weights.safetensors', dtype, bytes: weights.byteLength },
  };
  return { manifest, weights };
}

/** Checks a parsed backbone.json, naming the bad field. */
export function parseResNetExportManifest(json: unknown, where: string): ResNetExportManifest {
  const m = json as Partial<ResNetExportManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== RESNET_EXPORT_FORMAT) throw new Error(`${where}: not an exported ResNet backbone (format '${(m as { format?: unknown } | null)?.format ?? 'missing'}', expected '${RESNET_EXPORT_FORMAT}')`);
  if (m.version !== RESNET_EXPORT_VERSION) throw new Error(`${where}: format version ${String(m.version)}; this @thfr/backbone reads version ${RESNET_EXPORT_VERSION}`);
  for (const field of ['spec', 'levels', 'preprocessing', 'identity', 'weights'] as const) {
    if (m[field] === undefined) throw new Error(`${where}: missing field '${field}'`);
  }
  if (!Array.isArray(m.levels) || m.levels.some((l) => !RESNET_LAYER_NAMES.includes(l))) throw new Error(`${where}: field 'levels' must list layer1..layer4, got ${JSON.stringify(m.levels)}`);
  if (m.preprocessing !== 'imagenet' && m.preprocessing !== 'caffe') throw new Error(`${where}: field 'preprocessing' must be 'imagenet' or 'caffe', got ${JSON.stringify(m.preprocessing)}`);
  resolveResNetSpec(m.spec!);
  return m as ResNetExportManifest;
}

/** Rebuilds the backbone from an export (manifest + safetensors bytes), checking every conv's shape. */
export function resnetBackboneFromExport(manifest: ResNetExportManifest, weightBytes: Uint8Array, where = 'backbone'): ResNetBackbone {
  const file = parseSafetensors(weightBytes, `${where}/${manifest.weights.path}`);
  const spec = resolveResNetSpec(manifest.spec);
  const plan = planResNet(spec);
  const lastStage = Math.max(...manifest.levels.map((n) => RESNET_LAYER_NAMES.indexOf(n)));
  const problems: string[] = [];
  for (const conv of convBnsOf(plan, lastStage)) {
    const expected: Array<[string, number[]]> = [
      [`${conv.conv}.filter`, [conv.kernel, conv.kernel, conv.inChannels, conv.outChannels]],
      [`${conv.conv}.bias`, [conv.outChannels]],
    ];
    for (const [key, shape] of expected) {
      const info = file.info(key);
      if (!info) problems.push(`missing '${key}' [${shape.join(', ')}]`);
      else if (info.shape.join(',') !== shape.join(',')) problems.push(`'${key}': expected [${shape.join(', ')}], got [${info.shape.join(', ')}]`);
    }
  }
  if (problems.length > 0) throw new Error(`${where}/${manifest.weights.path} does not fit ${manifest.identity.architecture}: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? `; ... ${problems.length - 8} more` : ''}`);
  const convs = new Map<string, FoldedConv>();
  for (const conv of convBnsOf(plan, lastStage)) {
    convs.set(conv.conv, {
      spec: conv,
      filter: tf.keep(tf.tensor4d(file.readFloat32(`${conv.conv}.filter`), [conv.kernel, conv.kernel, conv.inChannels, conv.outChannels])),
      bias: tf.keep(tf.tensor1d(file.readFloat32(`${conv.conv}.bias`))),
    });
  }
  return new ResNetBackbone(spec, plan, convs, manifest.levels, manifest.identity, manifest.preprocessing);
}

/** Loads an exported ResNet from `<url>/backbone.json` and its weights file (browser or Node fetch). */
export async function loadResNetBackboneFromUrl(url: string, options: FetchBytesOptions = {}): Promise<ResNetBackbone> {
  const base = url.endsWith('/') ? url : `${url}/`;
  const manifestBytes = await fetchBytes(`${base}backbone.json`, { fetch: options.fetch, signal: options.signal });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch (error) {
    throw new Error(`${base}backbone.json: not JSON (${(error as Error).message})`);
  }
  const manifest = parseResNetExportManifest(json, `${base}backbone.json`);
  const weights = await fetchBytes(`${base}${manifest.weights.path}`, options);
  if (weights.byteLength !== manifest.weights.bytes) throw new Error(`${base}${manifest.weights.path}: ${weights.byteLength} bytes, backbone.json says ${manifest.weights.bytes} (truncated or replaced file)`);
  return resnetBackboneFromExport(manifest, weights, base.replace(/\/$/, ''));
}
