/**
 * Inference-time folding of a recorded NetworkGraph's batch norms, done by the ONNX export rather than left to the
 * runtime: an eval-mode batch norm that is the only reader of a conv's (or transposed conv's) output is folded into
 * that conv's weight and bias. onnxruntime folds Conv + BatchNormalization when it optimises a session, but not
 * ConvTranspose + BatchNormalization: in the default THFR network those nine batch norms ran as separate passes over
 * memory (2.2 ms per image on a 2-core CPU, of the network's ~80), and a graph served by another runtime may fold
 * none. Scales are computed in float64, weights stored in float32.
 */
import type { GraphNode, NetworkGraph } from '@thfr/nn';

/** Per-output-channel affine map of an eval-mode batch norm: y = x * scale + shift. */
export interface ChannelAffine {
  scale: Float64Array;
  shift: Float64Array;
}

/**
 * The batch norms that can be folded: for each, the conv (or transposed conv) whose output it alone reads. Keyed
 * by the batch norm's output; a value that is a graph output or read by anything else keeps its batch norm.
 */
export function foldableBatchNorms(graph: NetworkGraph): Map<string, GraphNode> {
  const readers = new Map<string, number>();
  for (const node of graph.nodes) for (const input of node.inputs) readers.set(input, (readers.get(input) ?? 0) + 1);
  for (const output of graph.outputs) readers.set(output, (readers.get(output) ?? 0) + 1);
  const producers = new Map(graph.nodes.map((node) => [node.output, node]));
  const folds = new Map<string, GraphNode>();
  for (const node of graph.nodes) {
    if (node.op !== 'batch_norm') continue;
    const producer = producers.get(node.inputs[0]);
    if (producer && (producer.op === 'conv2d' || producer.op === 'conv_transpose2d') && readers.get(producer.output) === 1) folds.set(node.output, producer);
  }
  return folds;
}

/** scale = weight / sqrt(variance + epsilon), shift = bias - mean * scale. */
export function batchNormAffine(weight: Float32Array, bias: Float32Array, mean: Float32Array, variance: Float32Array, epsilon: number): ChannelAffine {
  const scale = new Float64Array(weight.length);
  const shift = new Float64Array(weight.length);
  for (let c = 0; c < weight.length; c++) {
    scale[c] = weight[c] / Math.sqrt(variance[c] + epsilon);
    shift[c] = bias[c] - mean[c] * scale[c];
  }
  return { scale, shift };
}

/**
 * A conv's ONNX weight and bias with a batch norm folded in. `outAxis` says which axis of `dims` is the output
 * channel: 0 for Conv (OIHW), 1 for ConvTranspose (IOHW). A missing bias counts as zero. Returns new arrays.
 */
export function foldIntoConv(weight: Float32Array, dims: readonly number[], outAxis: 0 | 1, bias: Float32Array | undefined, affine: ChannelAffine): { weight: Float32Array; bias: Float32Array } {
  const outChannels = dims[outAxis];
  const inner = dims.slice(outAxis + 1).reduce((p, d) => p * d, 1);
  const folded = new Float32Array(weight.length);
  for (let j = 0; j < weight.length; j++) folded[j] = weight[j] * affine.scale[Math.floor(j / inner) % outChannels];
  const foldedBias = Float32Array.from({ length: outChannels }, (_, o) => (bias ? bias[o] : 0) * affine.scale[o] + affine.shift[o]);
  return { weight: folded, bias: foldedBias };
}
