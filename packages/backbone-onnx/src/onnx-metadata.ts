/**
 * What an exported backbone says about itself, stored in the ModelProto's `metadata_props` (string pairs that
 * onnxruntime, Netron and Triton carry along): the identity of the tfjs backbone it came from, its levels, the
 * preprocessing inside the graph and the input's layout, so a loader rebuilds a `FeatureExtractor` from the file alone.
 */
import type { BackboneIdentity, FeatureLevel } from '@thfr/backbone';
import { decodeOnnxModel, type OnnxStringEntry } from './onnx-schema.js';

export const ONNX_BACKBONE_FORMAT = 'thfr-onnx-backbone';
export const ONNX_BACKBONE_FORMAT_VERSION = 1;

/** The graph's input: one NHWC float32 tensor of RGB values in [0, 1]; `null` sizes are free (symbolic). */
export interface OnnxBackboneInput {
  name: string;
  layout: 'NHWC';
  dtype: 'float32';
  channels: 'RGB';
  range: [0, 1];
  batch: number | null;
  height: number | null;
  width: number | null;
}

export interface OnnxBackboneInfo {
  identity: BackboneIdentity;
  /** One graph output per level, named as the level: NHWC `[batch, H / stride, W / stride, channels]` (sizes rounded as the convs' padding rounds them). */
  levels: FeatureLevel[];
  /** The pixel normalisation inside the graph: 'imagenet' (x - mean) / std, or 'caffe' RGB->BGR, x255, minus the BGR mean. */
  preprocessing: 'imagenet' | 'caffe';
  input: OnnxBackboneInput;
  /** The graph's outputs with their dimensions: numbers, or symbolic names ('batch', 'layer1_height', ...). */
  outputs: Array<{ name: string; dims: Array<number | string> }>;
  opset: number;
}

const KEYS = {
  format: 'thfr.format',
  version: 'thfr.format_version',
  identity: 'thfr.identity',
  levels: 'thfr.levels',
  preprocessing: 'thfr.preprocessing',
  input: 'thfr.input',
} as const;

/** The `metadata_props` entries of an export. */
export function backboneMetadataProps(info: Omit<OnnxBackboneInfo, 'opset' | 'outputs'>): OnnxStringEntry[] {
  return [
    { key: KEYS.format, value: ONNX_BACKBONE_FORMAT },
    { key: KEYS.version, value: String(ONNX_BACKBONE_FORMAT_VERSION) },
    { key: KEYS.identity, value: JSON.stringify(info.identity) },
    { key: KEYS.levels, value: JSON.stringify(info.levels) },
    { key: KEYS.preprocessing, value: info.preprocessing },
    { key: KEYS.input, value: JSON.stringify(info.input) },
  ];
}

function parseJsonField<T>(props: Map<string, string>, key: string, where: string): T {
  const text = props.get(key);
  if (text === undefined) throw new Error(`${where}: metadata '${key}' is missing`);
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`${where}: metadata '${key}' is not JSON (${(error as Error).message})`);
  }
}

/**
 * Reads the backbone description of an exported `.onnx` file (its bytes). Throws, naming `where`, when the file
 * is not an ONNX model, not a thfr backbone export, or of a format version this package does not read.
 */
export function readOnnxBackboneInfo(bytes: Uint8Array, where = 'model.onnx'): OnnxBackboneInfo {
  const model = decodeOnnxModel(bytes, where);
  const props = new Map((model.metadataProps ?? []).map((p) => [p.key, p.value]));
  const format = props.get(KEYS.format);
  if (format !== ONNX_BACKBONE_FORMAT) {
    throw new Error(`${where}: not a thfr ONNX backbone (metadata '${KEYS.format}' is ${format === undefined ? 'missing' : `'${format}'`}, expected '${ONNX_BACKBONE_FORMAT}'); export one with exportResNetToOnnx or 'thfr export-onnx'`);
  }
  const version = Number(props.get(KEYS.version));
  if (version !== ONNX_BACKBONE_FORMAT_VERSION) throw new Error(`${where}: format version ${props.get(KEYS.version)}; this @thfr/backbone-onnx reads version ${ONNX_BACKBONE_FORMAT_VERSION}`);
  const identity = parseJsonField<BackboneIdentity>(props, KEYS.identity, where);
  const levels = parseJsonField<FeatureLevel[]>(props, KEYS.levels, where);
  const input = parseJsonField<OnnxBackboneInput>(props, KEYS.input, where);
  const preprocessing = props.get(KEYS.preprocessing);
  if (preprocessing !== 'imagenet' && preprocessing !== 'caffe') throw new Error(`${where}: metadata '${KEYS.preprocessing}' must be 'imagenet' or 'caffe', got ${JSON.stringify(preprocessing)}`);
  if (!Array.isArray(levels) || levels.length === 0 || levels.some((l) => typeof l?.name !== 'string' || !(l.stride > 0) || !(l.channels > 0))) {
    throw new Error(`${where}: metadata '${KEYS.levels}' must list { name, stride, channels } per output, got ${props.get(KEYS.levels)}`);
  }
  const graphInputs = (model.graph?.input ?? []).map((i) => i.name);
  const graphOutputs = (model.graph?.output ?? []).map((o) => o.name);
  if (!graphInputs.includes(input.name)) throw new Error(`${where}: the metadata names input '${input.name}', the graph has [${graphInputs.join(', ')}]`);
  const missing = levels.filter((l) => !graphOutputs.includes(l.name)).map((l) => l.name);
  if (missing.length > 0) throw new Error(`${where}: the metadata lists levels [${missing.join(', ')}] that are not graph outputs (outputs: [${graphOutputs.join(', ')}])`);
  const opset = Math.max(...(model.opsetImport ?? []).filter((o) => !o.domain).map((o) => o.version));
  const outputs = (model.graph?.output ?? []).map((o) => ({
    name: o.name,
    dims: (o.type?.tensorType?.shape?.dim ?? []).map((d) => ('dimParam' in d && d.dimParam ? d.dimParam : (d as { dimValue?: number }).dimValue ?? '?')),
  }));
  return { identity, levels, preprocessing, input, outputs, opset };
}
