/**
 * A small builder for an ONNX graph: float32 / int64 initializers stored as raw little-endian bytes, nodes with
 * typed attributes, value names checked for uniqueness (ONNX requires SSA: one producer per name).
 */
import { OnnxAttributeType, OnnxDataType, type OnnxAttribute, type OnnxDimension, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-schema.js';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Float32 values as raw_data bytes (little-endian, as onnx.proto requires, whatever the host's byte order). */
export function float32RawData(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

function int64RawData(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

export const attr = {
  int: (name: string, i: number): OnnxAttribute => ({ name, type: OnnxAttributeType.INT, i }),
  ints: (name: string, ints: number[]): OnnxAttribute => ({ name, type: OnnxAttributeType.INTS, ints }),
  float: (name: string, f: number): OnnxAttribute => ({ name, type: OnnxAttributeType.FLOAT, f }),
  string: (name: string, s: string): OnnxAttribute => ({ name, type: OnnxAttributeType.STRING, s: new TextEncoder().encode(s) }),
};

/** A tensor value of element type `elemType`: `[d0, d1, ...]` with numbers or symbolic names (e.g. 'batch'). */
function tensorValueInfo(name: string, elemType: number, dims: Array<number | string>, docString?: string): OnnxValueInfo {
  const dim: OnnxDimension[] = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } }, ...(docString ? { docString } : {}) };
}

/** A float32 tensor value: `[d0, d1, ...]` with numbers or symbolic names (e.g. 'batch'). */
export function float32ValueInfo(name: string, dims: Array<number | string>, docString?: string): OnnxValueInfo {
  return tensorValueInfo(name, OnnxDataType.FLOAT, dims, docString);
}

/** An int64 tensor value (indices), dims as float32ValueInfo's. */
export function int64ValueInfo(name: string, dims: Array<number | string>, docString?: string): OnnxValueInfo {
  return tensorValueInfo(name, OnnxDataType.INT64, dims, docString);
}

export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly values = new Set<string>();

  constructor(inputNames: string[]) {
    for (const name of inputNames) this.claim(name);
  }

  private claim(name: string): string {
    if (this.values.has(name)) throw new Error(`ONNX export: the value name '${name}' is produced twice`);
    this.values.add(name);
    return name;
  }

  private requireValue(name: string, user: string): void {
    // '' is ONNX's omitted optional input (e.g. Resize's roi and scales).
    if (name !== '' && !this.values.has(name)) throw new Error(`ONNX export: node '${user}' reads '${name}', which nothing produces before it`);
  }

  /** A float32 initializer (weights); returns its name. The bytes are referenced, not copied. */
  float32(name: string, dims: number[], values: Float32Array): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== values.length) throw new Error(`ONNX export: initializer '${name}' has ${values.length} values for dims [${dims.join(', ')}]`);
    this.initializers.push({ name: this.claim(name), dims, dataType: OnnxDataType.FLOAT, rawData: float32RawData(values) });
    return name;
  }

  /** An int64 initializer (indices); returns its name. */
  int64(name: string, dims: number[], values: number[]): string {
    this.initializers.push({ name: this.claim(name), dims, dataType: OnnxDataType.INT64, rawData: int64RawData(values) });
    return name;
  }

  /**
   * Appends another graph's initializers and nodes (an exported backbone or network), every value and node name
   * passed through `rename`; map its graph inputs onto values this graph already has. A node whose outputs
   * `rename` maps to values that already exist is not appended (the caller gave its result another way, e.g. a
   * layout transpose it already has the source of). Returns its outputs' names after renaming, in order.
   */
  append(graph: OnnxGraph, rename: (name: string) => string): string[] {
    for (const t of graph.initializer) this.initializers.push({ ...t, name: this.claim(rename(t.name)) });
    for (const n of graph.node) {
      const output = n.output.map(rename);
      if (output.every((o) => this.values.has(o))) continue;
      const name = rename(n.name);
      const input = n.input.map((i) => (i === '' ? '' : rename(i)));
      for (const i of input) this.requireValue(i, name);
      this.nodes.push({ ...n, name, input, output: output.map((o) => this.claim(o)) });
    }
    return graph.output.map((o) => rename(o.name));
  }

  /** Drops the nodes and initializers nothing reads on the way to `outputs` (what splicing graphs leaves behind). */
  prune(outputs: readonly string[]): void {
    const needed = new Set(outputs);
    const kept: OnnxNode[] = [];
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const n = this.nodes[k];
      if (!n.output.some((o) => needed.has(o))) continue;
      kept.push(n);
      for (const i of n.input) if (i !== '') needed.add(i);
    }
    this.nodes.splice(0, this.nodes.length, ...kept.reverse());
    const initializers = this.initializers.filter((t) => needed.has(t.name));
    this.initializers.splice(0, this.initializers.length, ...initializers);
  }

  /** Appends a node with one output named `output` (default: the node's name); returns the output name. */
  node(opType: string, name: string, inputs: string[], attributes: OnnxAttribute[] = [], output = name): string {
    for (const input of inputs) this.requireValue(input, name);
    this.nodes.push({ name, opType, input: inputs, output: [this.claim(output)], ...(attributes.length ? { attribute: attributes } : {}) });
    return output;
  }
}
