/**
 * A restoration model's whole inference as one ONNX graph: images in, anomaly maps, scores and (THFR) template
 * indices out. The exported backbone's graph, the template search (the bank's keys and values as initializers), the
 * exported network's graph and the anomaly map (1 - cosine per level, bilinear upsampling, sum, Gaussian blur,
 * standardization, max) are spliced into one graph, so that one onnxruntime session runs everything without
 * handing features back and forth, and the layout transposes between the backbone and the network cancel out.
 * The same file serves a model on onnxruntime or Triton Inference Server without any of this library.
 */
import { blurMatrixValues, gaussianKernel1d } from '@thfr/postprocess';
import type { InferenceTemplateSearch, RestorationInferenceSpec } from '@thfr/restoration';
import type { ResNetBackbone } from '@thfr/backbone';
import { OnnxGraphBuilder, decodeOnnxModel, encodeOnnxModel, exportResNetToOnnxAsync, float32ValueInfo, int64ValueInfo, onnxAttribute as attr, readOnnxBackboneInfo, type OnnxGraph, type OnnxModel, type OnnxNode, type TensorValues } from '@thfr/backbone-onnx';
import { networkGraphToOnnxModel, readNetworkValues, NETWORK_ONNX_OPSET } from './network-onnx.js';

/** Metadata key holding the pipeline's description (PipelineOnnxInfo, JSON), read back by OnnxPipelineRunner. */
export const PIPELINE_ONNX_METADATA_KEY = 'thfr.pipeline';
export const PIPELINE_ONNX_FORMAT = 'thfr-onnx-pipeline';
const ONNX_IR_VERSION = 7;
/** torch's F.cosine_similarity eps, as @thfr/postprocess's anomaly map: the product of the squared norms is clamped at eps². */
const COSINE_EPS = 1e-8;

/** What an exported pipeline computes and how its inputs and outputs are named (its `thfr.pipeline` metadata). */
export interface PipelineOnnxInfo {
  format: typeof PIPELINE_ONNX_FORMAT;
  version: 1;
  /** The model's class ('ThfrModel', 'Rd4adModel'). */
  method: string;
  /** float32 [batch, imageSize, imageSize, 3], RGB in [0, 1]. */
  input: string;
  imageSize: number;
  /** int64 [batch]: per image a template index never chosen, -1 for none (present when exported with excludeInput). */
  excludeInput?: string;
  /** The feature levels, shallowest first. */
  levels: string[];
  /** Templates in the graph (0: the model uses none). */
  templates: number;
  /** Whether `map` is standardized by per-position statistics (then `rawMap` and `rawScore` are the papers' map and score). */
  standardized: boolean;
  sigma: number;
  outputs: {
    /** float32 [batch, imageSize, imageSize]: the anomaly map the model predicts. */
    map: string;
    /** float32 [batch]: its maximum, the image score. */
    score: string;
    /** Per level, float32 [batch, imageSize, imageSize]: 1 - cosine upsampled, before the sum and blur. */
    levelMaps: string[];
    /** int64 [batch]: the template chosen for each image. */
    templateIndex?: string;
    rawMap?: string;
    rawScore?: string;
  };
}

export interface PipelineOnnxOptions {
  /** Adds the int64 input `exclude_template` (leave-one-out on training images, as predict's excludeTemplates). Default false. */
  excludeInput?: boolean;
  /** Name of the ONNX graph (default '<method>_inference'). */
  name?: string;
  /** How the network's weights are read back (default: synchronously; `exportRestorationPipelineToOnnxAsync` reads them ahead). */
  values?: TensorValues;
}

/** protobuf's limit on one message: a larger ModelProto needs external data files, which this export does not write. */
const MAX_MODEL_BYTES = 2 ** 31 - 1;

/**
 * The ONNX model (bytes of a `.onnx` file) of a restoration model's whole inference: `backboneOnnx` is the model's
 * backbone exported by @thfr/backbone-onnx (exportResNetToOnnx; its free or fixed size must admit the model's
 * imageSize), `spec` the model's `inferenceSpec()`. Equal to the model's predict within float32 rounding.
 */
export function exportRestorationPipelineToOnnx(backboneOnnx: Uint8Array, spec: RestorationInferenceSpec, options: PipelineOnnxOptions = {}): Uint8Array {
  const who = 'exportRestorationPipelineToOnnx';
  const backboneInfo = readOnnxBackboneInfo(backboneOnnx, `${who}: the backbone`);
  const size = spec.imageSize;
  for (const [extent, what] of [[backboneInfo.input.height, 'height'], [backboneInfo.input.width, 'width']] as const) {
    if (extent !== null && extent !== size) throw new Error(`${who}: the backbone was exported for an image ${what} of ${extent}, the model's imageSize is ${size}; export it with imageSize ${size} or a free size`);
  }
  const backboneLevels = new Set(backboneInfo.outputs.map((o) => o.name));
  const missing = spec.levels.filter((l) => !backboneLevels.has(l.name));
  if (missing.length) throw new Error(`${who}: the backbone's outputs (${[...backboneLevels].join(', ')}) lack the model's levels ${missing.map((l) => l.name).join(', ')}`);
  if (typeof spec.network.toGraph !== 'function') throw new Error(`${who}: the ${spec.method}'s network has no toGraph(); only networks that record their graph can be exported`);

  const backbone = decodeOnnxModel(backboneOnnx, `${who}: the backbone`).graph;
  const networkGraph = spec.network.toGraph();
  const network = networkGraphToOnnxModel(networkGraph, spec.network.stateDict() as Parameters<typeof networkGraphToOnnxModel>[1], { values: options.values }).graph;
  const images = backboneInfo.input.name;
  const exclude = options.excludeInput ? 'exclude_template' : undefined;
  const b = new OnnxGraphBuilder([images, ...(exclude ? [exclude] : [])]);
  b.append(backbone, (name) => name);
  // The NCHW value behind each level (the backbone computes NCHW and transposes to NHWC at its outputs).
  const nchwLevel = new Map(spec.levels.map((l) => [l.name, channelsFirstSource(backbone, l.name) ?? b.node('Transpose', `${l.name}.to_nchw`, [l.name], [attr.ints('perm', [0, 3, 1, 2])])]));

  const template = spec.templates ? appendTemplateSearch(b, spec.templates, nchwLevel.get(spec.templates.queryLevel), exclude) : undefined;
  if (!template && exclude) throw new Error(`${who}: excludeInput asks to exclude templates, but the ${spec.method} uses none`);
  if (spec.templates && !networkGraph.inputs.some((i) => i.name === 'template')) throw new Error(`${who}: the model has templates, its network takes none`);

  // The network: its values under 'network/', its inputs the backbone's levels and the gathered template; its
  // NHWC -> NCHW transposes of the levels are the backbone's NCHW values (those nodes are not appended).
  const inputs = new Map<string, string>(spec.levels.map((l) => [l.name, l.name]));
  if (template) inputs.set('template', template.values);
  for (const input of network.input) if (!inputs.has(input.name)) throw new Error(`${who}: the network reads '${input.name}', which the pipeline does not have`);
  const rename = new Map<string, string>();
  for (const node of network.node) {
    const level = node.opType === 'Transpose' && isPerm(node, [0, 3, 1, 2]) ? nchwLevel.get(node.input[0]) : undefined;
    if (level) rename.set(node.output[0], level);
  }
  const restoredNhwc = b.append(network, (name) => inputs.get(name) ?? rename.get(name) ?? `network/${name}`);
  const restored = network.output.map((o, i) => {
    const source = channelsFirstSource(network, o.name);
    return source ? `network/${source}` : b.node('Transpose', `${restoredNhwc[i]}.to_nchw`, [restoredNhwc[i]], [attr.ints('perm', [0, 3, 1, 2])]);
  });

  const map = appendAnomalyMap(b, spec, images, spec.levels.map((l) => nchwLevel.get(l.name)!), restored);
  const outputs: PipelineOnnxInfo['outputs'] = { map: map.map, score: map.score, levelMaps: map.levelMaps, ...(template ? { templateIndex: template.index } : {}), ...(map.rawMap ? { rawMap: map.rawMap, rawScore: map.rawScore } : {}) };
  const outputNames = [outputs.map, outputs.score, ...outputs.levelMaps, ...(outputs.templateIndex ? [outputs.templateIndex] : []), ...(outputs.rawMap ? [outputs.rawMap, outputs.rawScore!] : [])];
  b.prune(outputNames);

  const info: PipelineOnnxInfo = {
    format: PIPELINE_ONNX_FORMAT, version: 1, method: spec.method, input: images, imageSize: size, ...(exclude ? { excludeInput: exclude } : {}),
    levels: spec.levels.map((l) => l.name), templates: spec.templates?.size ?? 0, standardized: Boolean(spec.mapStatistics), sigma: spec.sigma, outputs,
  };
  const mapDims = ['batch', size, size];
  const graph: OnnxGraph = {
    name: options.name ?? `${spec.method}_inference`,
    node: b.nodes,
    initializer: b.initializers,
    input: [
      float32ValueInfo(images, ['batch', size, size, 3], 'RGB images in [0, 1], NHWC'),
      ...(exclude ? [int64ValueInfo(exclude, ['batch'], 'per image, a template index never chosen (-1: none)')] : []),
    ],
    output: [
      float32ValueInfo(outputs.map, mapDims, info.standardized ? 'anomaly map standardized by the per-position statistics of normal images' : 'anomaly map'),
      float32ValueInfo(outputs.score, ['batch'], 'image score: the maximum of the map'),
      ...outputs.levelMaps.map((name, i) => float32ValueInfo(name, mapDims, `level ${info.levels[i]}: 1 - cosine, upsampled`)),
      ...(outputs.templateIndex ? [int64ValueInfo(outputs.templateIndex, ['batch'], 'index of the template used, in the bank')] : []),
      ...(outputs.rawMap ? [float32ValueInfo(outputs.rawMap, mapDims, 'the papers\' anomaly map, before standardization'), float32ValueInfo(outputs.rawScore!, ['batch'], 'the maximum of the raw map')] : []),
    ],
  };
  const model: OnnxModel = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: NETWORK_ONNX_OPSET }],
    producerName: '@thfr/restoration-onnx',
    docString: `${spec.method} inference at ${size} px exported by @thfr/restoration-onnx: backbone ${backboneInfo.identity.architecture} (${backboneInfo.identity.weights}), ` +
      `${spec.templates ? `template search over ${spec.templates.size} templates, ` : ''}restoration network, anomaly map (sigma ${spec.sigma}${info.standardized ? ', standardized per position' : ''}).`,
    graph,
    metadataProps: [{ key: PIPELINE_ONNX_METADATA_KEY, value: JSON.stringify(info) }],
  };
  const bytes = encodeOnnxModel(model);
  if (bytes.byteLength > MAX_MODEL_BYTES) throw new Error(`${who}: the model is ${(bytes.byteLength / 2 ** 30).toFixed(2)} GiB, over protobuf's 2 GiB; subsample the template bank (bankRatio) or export the parts separately`);
  return bytes;
}

/**
 * `exportRestorationPipelineToOnnx` for any tfjs backend: the network's weights are read back asynchronously first
 * (all together), which tfjs-webgpu in Node needs. `backbone` is the exported backbone's bytes, or the tfjs ResNet
 * itself, then exported here at the model's imageSize (`exportResNetToOnnxAsync`).
 */
export async function exportRestorationPipelineToOnnxAsync(backbone: Uint8Array | ResNetBackbone, spec: RestorationInferenceSpec, options: Omit<PipelineOnnxOptions, 'values'> = {}): Promise<Uint8Array> {
  const backboneOnnx = backbone instanceof Uint8Array ? backbone : await exportResNetToOnnxAsync(backbone, { imageSize: spec.imageSize });
  return exportRestorationPipelineToOnnx(backboneOnnx, spec, { ...options, values: await readNetworkValues(spec.network) });
}

function isPerm(node: OnnxNode, perm: number[]): boolean {
  const ints = node.attribute?.find((a) => a.name === 'perm')?.ints?.map(Number);
  return Boolean(ints && ints.length === perm.length && ints.every((p, i) => p === perm[i]));
}

/** The NCHW value an NHWC graph value was transposed from, when its producer is that transpose. */
function channelsFirstSource(graph: OnnxGraph, value: string): string | undefined {
  const producer = graph.node.find((n) => n.output.includes(value));
  return producer && producer.opType === 'Transpose' && isPerm(producer, [0, 2, 3, 1]) ? producer.input[0] : undefined;
}

/**
 * The template search and gather: query (the level NHWC, pooled, flattened, projected) . keys^T, excluded templates
 * at -inf, ArgMax (the first of equal maxima: the lower index, as the bank's search), Gather of the template values.
 */
function appendTemplateSearch(b: OnnxGraphBuilder, search: InferenceTemplateSearch, queryNchw: string | undefined, exclude: string | undefined): { index: string; values: string } {
  if (!queryNchw) throw new Error(`exportRestorationPipelineToOnnx: the template query level '${search.queryLevel}' is not a level of the model`);
  const { size, keyDim } = search;
  if (search.keys.length !== size * keyDim) throw new Error(`exportRestorationPipelineToOnnx: template keys hold ${search.keys.length} values, expected ${size} x ${keyDim}`);
  let pooled = queryNchw;
  if (search.pooling > 1) {
    const p = search.pooling;
    pooled = b.node('AveragePool', 'search/pooled_query', [queryNchw], [attr.ints('kernel_shape', [p, p]), attr.ints('strides', [p, p])]);
  }
  // Keys were flattened from NHWC features: flatten the query in the same order.
  const nhwc = b.node('Transpose', 'search/query_nhwc', [pooled], [attr.ints('perm', [0, 2, 3, 1])]);
  let query = b.node('Reshape', 'search/query_rows', [nhwc, b.int64('search/rows_shape', [2], [0, -1])]);
  if (search.projection) {
    const { rows, values } = search.projection;
    if (values.length !== rows * keyDim) throw new Error(`exportRestorationPipelineToOnnx: the key projection holds ${values.length} values, expected ${rows} x ${keyDim}`);
    query = b.node('MatMul', 'search/projected_query', [query, b.float32('search/projection', [rows, keyDim], values)]);
  }
  const keysT = new Float32Array(keyDim * size);
  for (let t = 0; t < size; t++) for (let j = 0; j < keyDim; j++) keysT[j * size + t] = search.keys[t * keyDim + j];
  let similarity = b.node('MatMul', 'search/similarity', [query, b.float32('search/keys_t', [keyDim, size], keysT)]);
  if (exclude) {
    const excluded = b.node('Equal', 'search/excluded', [b.node('Unsqueeze', 'search/exclude_column', [exclude, b.int64('search/axis1', [1], [1])]), b.int64('search/template_ids', [1, size], Array.from({ length: size }, (_, i) => i))]);
    similarity = b.node('Where', 'search/similarity_allowed', [excluded, b.float32('search/never', [], Float32Array.of(-Infinity)), similarity]);
  }
  const index = b.node('ArgMax', 'search/template_index', [similarity], [attr.int('axis', 1), attr.int('keepdims', 0)], 'template_index');
  const count = search.values.shape.reduce((a, c) => a * c, 1);
  if (search.values.values.length !== size * count) throw new Error(`exportRestorationPipelineToOnnx: template values hold ${search.values.values.length} floats, expected ${size} x [${search.values.shape.join(', ')}]`);
  const values = b.node('Gather', 'search/template', [b.float32('search/template_values', [size, ...search.values.shape], search.values.values), index], [attr.int('axis', 0)]);
  return { index, values };
}

/**
 * @thfr/postprocess's anomalyMap (+ standardizeMaps) on NCHW features: per level 1 - cosine over the channels
 * (clamped as torch's), bilinear upsampling with half-pixel centres, the sum, the Gaussian blur as two products with
 * its reflect-folded matrices, standardization, the maximum.
 */
function appendAnomalyMap(b: OnnxGraphBuilder, spec: RestorationInferenceSpec, images: string, features: string[], restored: string[]) {
  const size = spec.imageSize;
  const channelAxis = b.int64('map/channel_axis', [1], [1]);
  const one = b.float32('map/one', [], Float32Array.of(1));
  const epsSquared = b.float32('map/eps_squared', [], Float32Array.of(COSINE_EPS * COSINE_EPS));
  // Resize's output sizes [batch, 1, size, size], the batch read from the images.
  const batch = b.node('Slice', 'map/batch', [b.node('Shape', 'map/images_shape', [images]), b.int64('map/zero', [1], [0]), b.int64('map/one_i', [1], [1])]);
  const sizes = b.node('Concat', 'map/sizes', [batch, b.int64('map/channel_and_size', [3], [1, size, size])], [attr.int('axis', 0)]);
  const upsampled = spec.levels.map((level, i) => {
    const at = `map/${level.name}`;
    // Sums over the channels as ones [1, C] x [B, C, h*w]: onnxruntime's ReduceSum over NCHW's strided channel axis
    // took ~12 ms of a 256 px inference (three per level), the product ~2.
    const ones = b.float32(`${at}/ones`, [1, level.channels], new Float32Array(level.channels).fill(1));
    const rows = b.int64(`${at}/rows_shape`, [3], [0, level.channels, -1]);
    const grid = b.int64(`${at}/grid_shape`, [4], [0, 1, level.size, level.size]);
    const reduce = (name: string, x: string) => b.node('Reshape', name, [b.node('MatMul', `${name}/sum`, [ones, b.node('Reshape', `${name}/rows`, [x, rows])]), grid]);
    const [f, r] = [features[i], restored[i]];
    const dot = reduce(`${at}/dot`, b.node('Mul', `${at}/f_r`, [f, r]));
    const norms = b.node('Mul', `${at}/norms_squared`, [reduce(`${at}/f_f_sum`, b.node('Mul', `${at}/f_f`, [f, f])), reduce(`${at}/r_r_sum`, b.node('Mul', `${at}/r_r`, [r, r]))]);
    const cosine = b.node('Div', `${at}/cosine`, [dot, b.node('Sqrt', `${at}/norm`, [b.node('Max', `${at}/clamped`, [norms, epsSquared])])]);
    const distance = b.node('Sub', `${at}/distance`, [one, cosine]);
    return b.node('Resize', `${at}/upsampled`, [distance, '', '', sizes], [attr.string('mode', 'linear'), attr.string('coordinate_transformation_mode', 'half_pixel')]);
  });
  const levelMaps = spec.levels.map((level, i) => b.node('Squeeze', `level_map_${level.name}`, [upsampled[i], channelAxis]));
  let summed = upsampled.length === 1 ? upsampled[0] : b.node('Sum', 'map/sum', upsampled);
  if (spec.sigma > 0) {
    const weights = gaussianKernel1d(spec.sigma);
    const blur = blurMatrixValues(size, weights);
    const blurT = new Float32Array(size * size);
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) blurT[i * size + j] = blur[j * size + i];
    // Rows from the right (x B), columns from the left (B^T x): gaussianBlur's two passes.
    const rows = b.node('MatMul', 'map/blur_rows', [summed, b.float32('map/blur', [size, size], blur)]);
    summed = b.node('MatMul', 'map/blur_columns', [b.float32('map/blur_t', [size, size], blurT), rows]);
  }
  const statistics = spec.mapStatistics;
  const raw = b.node('Squeeze', statistics ? 'raw_anomaly_map' : 'anomaly_map', [summed, channelAxis]);
  const maximum = (name: string, x: string) => b.node('ReduceMax', name, [x], [attr.ints('axes', [1, 2]), attr.int('keepdims', 0)]);
  if (!statistics) return { map: raw, score: maximum('score', raw), levelMaps };
  if (statistics.height !== size || statistics.width !== size) throw new Error(`exportRestorationPipelineToOnnx: the map statistics are ${statistics.height}x${statistics.width}, the maps ${size}x${size}`);
  const mean = b.float32('map/position_mean', [1, size, size], Float32Array.from(statistics.mean));
  const std = b.float32('map/position_std', [1, size, size], Float32Array.from(statistics.std));
  const map = b.node('Div', 'anomaly_map', [b.node('Sub', 'map/centred', [raw, mean]), std]);
  return { map, score: maximum('score', map), levelMaps, rawMap: raw, rawScore: maximum('raw_score', raw) };
}
