import { tf } from '@thfr/tensor';
import type { Module } from './module.js';

/**
 * A network as a flat list of operations over named values: what its `forward` computes in inference mode,
 * written down once by the modules themselves (`record`) so that other engines can run the same network with the
 * same state dict: the ONNX export (@thfr/restoration-onnx) and the PyTorch peer of `thfr bench`. Values are NHWC,
 * as in tfjs; weights are named by their state-dict keys and keep tfjs' layouts (conv HWIO, transposed conv
 * [k, k, out, in]); each consumer converts.
 */
export const NETWORK_GRAPH_FORMAT = 'thfr-network-graph';
export const NETWORK_GRAPH_VERSION = 1;

/**
 * The operations (attributes in brackets):
 * - conv2d: x -> conv(x, weight) + bias? [stride, pad: symmetric zero padding, as torch's `padding`];
 * - conv_transpose2d: x -> transposed conv with kernel = stride [kernel] (+ bias?), torch's ConvTranspose2d(k, stride=k);
 * - batch_norm: x -> (x - mean) / sqrt(variance + epsilon) * weight + bias [epsilon, momentum (training only)];
 * - relu, add (a + b), concat (along channels);
 * - slice_channels: x[..., start : start + size] [start, size];
 * - global_max_pool: x -> max over H, W, kept as 1x1;
 * - pairwise_relation: (query, key), both [B, H, W, E] -> [B, H, W, 2HW]: A = Q K^T * scale over the m = HW positions,
 *   position i's channels are [A[i, :], A^T[i, :]] (@thfr/compensation's PairwiseRelation) [scale, height, width].
 */
export type GraphOp = 'conv2d' | 'conv_transpose2d' | 'batch_norm' | 'relu' | 'add' | 'concat' | 'slice_channels' | 'global_max_pool' | 'pairwise_relation';

export interface GraphNode {
  op: GraphOp;
  /** Values read, in order. */
  inputs: string[];
  /** The value it produces (unique in the graph). */
  output: string;
  /** State-dict keys of the weights it reads, by role: weight, bias, mean, variance. */
  params?: Record<string, string>;
  attrs?: Record<string, number>;
}

export interface NetworkGraph {
  format: typeof NETWORK_GRAPH_FORMAT;
  version: typeof NETWORK_GRAPH_VERSION;
  layout: 'NHWC';
  /** Graph inputs with their shapes ([batch, height, width, channels]; null = free). */
  inputs: Array<{ name: string; shape: Array<number | null> }>;
  outputs: string[];
  nodes: GraphNode[];
}

/** Collects the nodes modules emit from their `record` methods; names weights by `root`'s state dict. */
export class GraphRecorder {
  private readonly weightNames: Map<tf.Variable, string>;
  private readonly nodes: GraphNode[] = [];
  private readonly inputs: NetworkGraph['inputs'] = [];
  private readonly values = new Set<string>();

  constructor(root: Module) {
    this.weightNames = new Map([...root.stateDict()].map(([name, variable]) => [variable, name]));
  }

  input(name: string, shape: Array<number | null>): string {
    this.inputs.push({ name, shape });
    return this.claim(name);
  }

  /**
   * Appends an operation and returns the name of its output, derived from its first weight's module path (e.g.
   * 'decoder.stage1.0.conv1.conv') or from the op, made unique.
   */
  node(op: GraphOp, inputs: string[], options: { params?: Record<string, tf.Variable | undefined>; attrs?: Record<string, number>; name?: string } = {}): string {
    for (const input of inputs) if (!this.values.has(input)) throw new Error(`GraphRecorder: '${op}' reads '${input}', which nothing produced`);
    const params: Record<string, string> = {};
    for (const [role, variable] of Object.entries(options.params ?? {})) {
      if (!variable) continue;
      const key = this.weightNames.get(variable);
      if (!key) throw new Error(`GraphRecorder: '${op}' reads a weight ('${role}', ${variable.name}) that is not in the recorded module's state dict`);
      params[role] = key;
    }
    const first = Object.values(params)[0];
    const base = options.name ?? (first ? `${first.slice(0, first.lastIndexOf('.'))}.${op}` : op);
    let output = base;
    for (let i = 1; this.values.has(output); i++) output = `${base}_${i}`;
    this.nodes.push({ op, inputs, output: this.claim(output), ...(Object.keys(params).length ? { params } : {}), ...(options.attrs ? { attrs: options.attrs } : {}) });
    return output;
  }

  finish(outputs: string[]): NetworkGraph {
    for (const output of outputs) if (!this.values.has(output)) throw new Error(`GraphRecorder: output '${output}' was never produced`);
    return { format: NETWORK_GRAPH_FORMAT, version: NETWORK_GRAPH_VERSION, layout: 'NHWC', inputs: this.inputs, outputs, nodes: this.nodes };
  }

  private claim(name: string): string {
    if (this.values.has(name)) throw new Error(`GraphRecorder: value '${name}' is produced twice`);
    this.values.add(name);
    return name;
  }
}

/**
 * Runs a recorded graph on tfjs in inference mode (batch norm with the running statistics): the reference
 * semantics of the format, used to check that a module's `record` matches its `forward`.
 */
export function runNetworkGraph(graph: NetworkGraph, state: Map<string, tf.Tensor>, inputs: Record<string, tf.Tensor4D>): tf.Tensor4D[] {
  return tf.tidy(() => {
    const values = new Map<string, tf.Tensor4D>();
    for (const { name } of graph.inputs) {
      if (!inputs[name]) throw new Error(`runNetworkGraph: missing input '${name}'`);
      values.set(name, inputs[name]);
    }
    const weight = (node: GraphNode, role: string): tf.Tensor => {
      const key = node.params?.[role];
      const value = key === undefined ? undefined : state.get(key);
      if (!value) throw new Error(`runNetworkGraph: '${node.output}' needs weight '${key ?? role}', missing from the state dict`);
      return value;
    };
    const optional = (node: GraphNode, role: string) => (node.params?.[role] === undefined ? undefined : weight(node, role));
    for (const node of graph.nodes) {
      const x = node.inputs.map((name) => values.get(name)!);
      const a = node.attrs ?? {};
      let y: tf.Tensor4D;
      switch (node.op) {
        case 'conv2d': {
          const p = a.pad;
          y = tf.conv2d(x[0], weight(node, 'weight') as tf.Tensor4D, a.stride, p === 0 ? 'valid' : [[0, 0], [p, p], [p, p], [0, 0]]);
          break;
        }
        case 'conv_transpose2d': {
          const w = weight(node, 'weight') as tf.Tensor4D;
          const [b, h, wd] = x[0].shape;
          y = tf.conv2dTranspose(x[0], w, [b, h * a.kernel, wd * a.kernel, w.shape[2]], a.kernel, 'valid');
          break;
        }
        case 'batch_norm':
          y = tf.batchNorm(x[0], weight(node, 'mean'), weight(node, 'variance'), weight(node, 'bias'), weight(node, 'weight'), a.epsilon) as tf.Tensor4D;
          break;
        case 'relu': y = tf.relu(x[0]); break;
        case 'add': y = tf.add(x[0], x[1]); break;
        case 'concat': y = tf.concat(x, 3); break;
        case 'slice_channels': y = tf.slice(x[0], [0, 0, 0, a.start], [-1, -1, -1, a.size]); break;
        case 'global_max_pool': y = tf.max(x[0], [1, 2], true) as tf.Tensor4D; break;
        case 'pairwise_relation': {
          const [b, h, w, e] = x[0].shape;
          const m = h * w;
          const affinity = tf.mul(tf.matMul(tf.reshape(x[0], [b, m, e]), tf.reshape(x[1], [b, m, e]), false, true), a.scale);
          y = tf.reshape(tf.concat([affinity, tf.transpose(affinity, [0, 2, 1])], 2), [b, h, w, 2 * m]);
          break;
        }
        default: throw new Error(`runNetworkGraph: unknown op '${(node as GraphNode).op}'`);
      }
      const bias = node.op === 'conv2d' || node.op === 'conv_transpose2d' ? optional(node, 'bias') : undefined;
      values.set(node.output, bias ? tf.add(y, bias) : y);
    }
    return graph.outputs.map((name) => values.get(name)!);
  });
}
