/**
 * A recorded NetworkGraph (@thfr/nn) as an ONNX model for inference: NHWC inputs and outputs as in tfjs, NCHW
 * inside (what ONNX's Conv and onnxruntime's kernels use), batch norms folded into the conv or transposed conv they
 * follow where they can be (BatchNormalization nodes elsewhere; inference-folding.ts says why), the pairwise relation
 * as MatMul + Transpose + Concat.
 */
import { tf } from '@thfr/tensor';
import type { GraphNode, NetworkGraph } from '@thfr/nn';
import type { RestorationNetwork } from '@thfr/restoration';
import { hwioToOihw } from '@thfr/backbone';
import { OnnxGraphBuilder, encodeOnnxModel, float32ValueInfo, onnxAttribute as attr, readTensorValues, syncTensorValues, type OnnxModel, type TensorValues } from '@thfr/backbone-onnx';
import { batchNormAffine, foldIntoConv, foldableBatchNorms, type ChannelAffine } from './inference-folding.js';

/** Operator set of the exported graphs (Conv, ConvTranspose, BatchNormalization where one is not folded, Slice with inputs, GlobalMaxPool, MatMul). */
export const NETWORK_ONNX_OPSET = 13;
const ONNX_IR_VERSION = 7;
/** Metadata key holding the graph's input and output names and shapes (JSON), read back by the runner. */
export const NETWORK_ONNX_METADATA_KEY = 'thfr.network';

export interface NetworkOnnxInfo {
  /** NHWC inputs, as in the NetworkGraph. */
  inputs: NetworkGraph['inputs'];
  /** Output names (restored levels, shallowest first) and their NHWC shapes. */
  outputs: Array<{ name: string; shape: Array<number | null> }>;
}

export interface NetworkOnnxOptions {
  /** Name of the ONNX graph (default 'restoration_network'). */
  name?: string;
  /** Output names, in the graph's output order (default: 'restored_<i>'). */
  outputNames?: string[];
  docString?: string;
  /** How the weights are read back (default: synchronously; the `...Async` exports read them ahead). */
  values?: TensorValues;
}

/**
 * The ONNX model (bytes of a `.onnx` file) of `graph` with the weights of `state` (its state dict; read back
 * synchronously). Inputs and outputs are float32 NHWC with a free batch dimension.
 */
export function exportNetworkGraphToOnnx(graph: NetworkGraph, state: Map<string, tf.Tensor>, options: NetworkOnnxOptions = {}): Uint8Array {
  return encodeOnnxModel(networkGraphToOnnxModel(graph, state, options));
}

/** exportNetworkGraphToOnnx's ModelProto before encoding (the pipeline export splices its graph). */
export function networkGraphToOnnxModel(graph: NetworkGraph, state: Map<string, tf.Tensor>, options: NetworkOnnxOptions = {}): OnnxModel {
  if (graph.format !== 'thfr-network-graph' || graph.version !== 1) throw new Error(`exportNetworkGraphToOnnx: not a thfr-network-graph v1 (format '${String(graph.format)}', version ${String(graph.version)})`);
  const outputNames = options.outputNames ?? graph.outputs.map((_, i) => `restored_${i}`);
  if (outputNames.length !== graph.outputs.length) throw new Error(`exportNetworkGraphToOnnx: ${outputNames.length} output names for ${graph.outputs.length} outputs`);
  const b = new OnnxGraphBuilder(graph.inputs.map((i) => i.name));
  const nchw = new Map<string, string>();
  for (const input of graph.inputs) {
    nchw.set(input.name, b.node('Transpose', `${input.name}.to_nchw`, [input.name], [attr.ints('perm', [0, 3, 1, 2])]));
  }
  const weight = (node: GraphNode, role: string): tf.Tensor => {
    const key = node.params?.[role];
    const value = key === undefined ? undefined : state.get(key);
    if (!value) throw new Error(`exportNetworkGraphToOnnx: '${node.output}' needs weight '${key ?? role}', missing from the state dict`);
    if (value.isDisposed) throw new Error(`exportNetworkGraphToOnnx: weight '${key}' was disposed; export before dispose()`);
    return value;
  };
  const read = options.values ?? syncTensorValues;
  const values = (node: GraphNode, role: string): Float32Array => Float32Array.from(read(weight(node, role)));
  /** The weight with its axes reversed-and-swapped ([3, 2, 0, 1]: tfjs' HWIO / [k, k, out, in] to ONNX's layouts). */
  const transposedValues = (w: tf.Tensor): Float32Array => hwioToOihw(read(w), w.shape);
  const initializer = (node: GraphNode, role: string): string => b.float32(`${node.params![role]}`, weight(node, role).shape, values(node, role));
  const int64 = (name: string, values: number[]) => b.int64(name, [values.length], values);
  // Batch norms folded into the conv before them: the conv is written where its batch norm was, under the batch
  // norm's output name (nothing else reads the conv's own output).
  const folds = foldableBatchNorms(graph);
  const deferred = new Set([...folds.values()].map((conv) => conv.output));
  const affineOf = (bn: GraphNode): ChannelAffine => batchNormAffine(values(bn, 'weight'), values(bn, 'bias'), values(bn, 'mean'), values(bn, 'variance'), bn.attrs!.epsilon);
  /**
   * The Conv's weight and bias initializers, named after the layer's state-dict keys; with `affine` folded in when
   * given, and then suffixed '.folded': those values are no longer the state dict's.
   */
  const convInitializers = (node: GraphNode, w: { dims: number[]; values: Float32Array }, bias: Float32Array | undefined, affine: ChannelAffine | undefined, outAxis: 0 | 1): string[] => {
    if (!affine) return [b.float32(node.params!.weight, w.dims, w.values), ...(bias ? [b.float32(node.params!.bias, [bias.length], bias)] : [])];
    const weightKey = node.params!.weight;
    const biasKey = node.params?.bias ?? `${weightKey.replace(/\.weight$/, '')}.bias`;
    const folded = foldIntoConv(w.values, w.dims, outAxis, bias, affine);
    return [b.float32(`${weightKey}.folded`, w.dims, folded.weight), b.float32(`${biasKey}.folded`, [folded.bias.length], folded.bias)];
  };
  const emitConv = (node: GraphNode, input: string, out: string, affine?: ChannelAffine): string => {
    const a = node.attrs ?? {};
    const w = weight(node, 'weight');
    const bias = node.params?.bias ? values(node, 'bias') : undefined;
    if (node.op === 'conv2d') {
      const [kh, kw, cin, cout] = w.shape as [number, number, number, number];
      const oihw = { dims: [cout, cin, kh, kw], values: transposedValues(w) };
      return b.node('Conv', out, [input, ...convInitializers(node, oihw, bias, affine, 0)], [attr.ints('kernel_shape', [kh, kw]), attr.ints('strides', [a.stride, a.stride]), attr.ints('pads', [a.pad, a.pad, a.pad, a.pad])]);
    }
    // conv_transpose2d, kernel = stride = k. ONNX's weight is [in, out, k, k]: W[i, o, h, w] = f[h, w, o, i].
    const [k, , cout, cin] = w.shape as [number, number, number, number];
    const iohw = { dims: [cin, cout, k, k], values: transposedValues(w) };
    return b.node('ConvTranspose', out, [input, ...convInitializers(node, iohw, bias, affine, 1)], [attr.ints('kernel_shape', [k, k]), attr.ints('strides', [a.kernel, a.kernel])]);
  };

  for (const node of graph.nodes) {
    if (deferred.has(node.output)) continue; // written with its batch norm, below
    const foldedConv = node.op === 'batch_norm' ? folds.get(node.output) : undefined;
    const x = (foldedConv ?? node).inputs.map((name) => {
      const value = nchw.get(name);
      if (!value) throw new Error(`exportNetworkGraphToOnnx: '${node.output}' reads '${name}', produced by nothing before it`);
      return value;
    });
    const a = node.attrs ?? {};
    const out = node.output;
    let y: string;
    switch (node.op) {
      case 'conv2d':
      case 'conv_transpose2d':
        y = emitConv(node, x[0], out);
        break;
      case 'batch_norm': {
        if (foldedConv) {
          y = emitConv(foldedConv, x[0], out, affineOf(node));
          break;
        }
        y = b.node('BatchNormalization', out, [x[0], initializer(node, 'weight'), initializer(node, 'bias'), initializer(node, 'mean'), initializer(node, 'variance')], [attr.float('epsilon', a.epsilon)]);
        break;
      }
      case 'relu': y = b.node('Relu', out, x); break;
      case 'add': y = b.node('Add', out, x); break;
      case 'concat': y = b.node('Concat', out, x, [attr.int('axis', 1)]); break;
      case 'slice_channels':
        y = b.node('Slice', out, [x[0], int64(`${out}.starts`, [a.start]), int64(`${out}.ends`, [a.start + a.size]), int64(`${out}.axes`, [1])]);
        break;
      case 'global_max_pool': y = b.node('GlobalMaxPool', out, x); break;
      case 'pairwise_relation': {
        // NCHW [B, E, H, W] -> [B, E, m]; A = Q^T K * scale [B, m, m]; relation [B, m, 2m] = [A, A^T] -> NCHW [B, 2m, H, W].
        const m = a.height * a.width;
        const flat = int64(`${out}.flat_shape`, [0, 0, m]);
        const q = b.node('Transpose', `${out}.query_t`, [b.node('Reshape', `${out}.query`, [x[0], flat])], [attr.ints('perm', [0, 2, 1])]);
        const k = b.node('Reshape', `${out}.key`, [x[1], flat]);
        const affinity = b.node('Mul', `${out}.affinity`, [b.node('MatMul', `${out}.qk`, [q, k]), b.float32(`${out}.scale`, [], Float32Array.of(a.scale))]);
        const both = b.node('Concat', `${out}.both`, [affinity, b.node('Transpose', `${out}.affinity_t`, [affinity], [attr.ints('perm', [0, 2, 1])])], [attr.int('axis', 2)]);
        const channelsFirst = b.node('Transpose', `${out}.channels_first`, [both], [attr.ints('perm', [0, 2, 1])]);
        y = b.node('Reshape', out, [channelsFirst, int64(`${out}.grid_shape`, [0, 2 * m, a.height, a.width])]);
        break;
      }
      default: throw new Error(`exportNetworkGraphToOnnx: op '${(node as GraphNode).op}' has no ONNX lowering`);
    }
    nchw.set(node.output, y);
  }

  const outputs: NetworkOnnxInfo['outputs'] = graph.outputs.map((value, i) => {
    b.node('Transpose', `${outputNames[i]}.to_nhwc`, [nchw.get(value)!], [attr.ints('perm', [0, 2, 3, 1])], outputNames[i]);
    return { name: outputNames[i], shape: [null, null, null, null] };
  });
  const info: NetworkOnnxInfo = { inputs: graph.inputs, outputs };
  const dims = (shape: Array<number | null>, name: string) => shape.map((d, i) => d ?? (i === 0 ? 'batch' : `${name}_${i}`));
  const model: OnnxModel = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: NETWORK_ONNX_OPSET }],
    producerName: '@thfr/restoration-onnx',
    docString: options.docString ?? `Restoration network exported by @thfr/restoration-onnx: inputs ${graph.inputs.map((i) => `${i.name} [${dims(i.shape, i.name).join(', ')}]`).join(', ')}; outputs ${outputNames.join(', ')} (float32 NHWC).`,
    graph: {
      name: options.name ?? 'restoration_network',
      node: b.nodes,
      initializer: b.initializers,
      input: graph.inputs.map((i) => float32ValueInfo(i.name, dims(i.shape, i.name))),
      output: outputs.map((o) => float32ValueInfo(o.name, dims(o.shape, o.name))),
    },
    metadataProps: [{ key: NETWORK_ONNX_METADATA_KEY, value: JSON.stringify(info) }],
  };
  return model;
}

/** A restoration network (THFR's, RD4AD's: anything with `toGraph()`) with its current weights as an ONNX model; outputs 'restored_<level>'. */
export function exportRestorationNetworkToOnnx(network: RestorationNetwork, options: Omit<NetworkOnnxOptions, 'outputNames'> = {}): Uint8Array {
  if (typeof network.toGraph !== 'function') throw new Error(`exportRestorationNetworkToOnnx: the network (${network.constructor.name}) has no toGraph(); only networks that record their graph can be exported`);
  const graph = network.toGraph();
  const levelNames = graph.inputs.map((i) => i.name).filter((n) => n !== 'template');
  return exportNetworkGraphToOnnx(graph, network.stateDict() as Map<string, tf.Tensor>, { ...options, outputNames: graph.outputs.map((_, i) => `restored_${levelNames[i] ?? i}`) });
}

/**
 * `exportRestorationNetworkToOnnx` for any tfjs backend: the weights are read back asynchronously first (all
 * together), which tfjs-webgpu in Node needs (it has no synchronous read-back).
 */
export async function exportRestorationNetworkToOnnxAsync(network: RestorationNetwork, options: Omit<NetworkOnnxOptions, 'outputNames' | 'values'> = {}): Promise<Uint8Array> {
  return exportRestorationNetworkToOnnx(network, { ...options, values: await readNetworkValues(network) });
}

/** Every weight of `network`'s state dict, read back asynchronously (for the `values` option of the exports). */
export async function readNetworkValues(network: RestorationNetwork): Promise<TensorValues> {
  return readTensorValues((network.stateDict() as Map<string, tf.Tensor>).values());
}
