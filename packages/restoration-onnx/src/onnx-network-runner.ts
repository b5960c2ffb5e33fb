/**
 * Runs an exported restoration network (`exportNetworkGraphToOnnx`) on onnxruntime: tfjs tensors in, tfjs tensors
 * out, as a `NetworkRunner` a RestorationModel can use for inference. The runtime module is passed in
 * (onnxruntime-node from '@thfr/restoration-onnx/node', or onnxruntime-web), so this file stays browser-safe.
 */
import { tf } from '@thfr/tensor';
import { decodeOnnxModel, type OnnxRuntimeLike, type OrtSessionLike, type OrtTensorLike } from '@thfr/backbone-onnx';
import { OnnxSessionRunner, openRunnerSession, type OnnxRunnerOptions } from './onnx-session-runner.js';
import type { NetworkRunner } from '@thfr/restoration';
import { NETWORK_ONNX_METADATA_KEY, type NetworkOnnxInfo } from './network-onnx.js';

/** How the network runner opens its session (errors name it `where`, default 'ONNX restoration network'). */
export type OnnxNetworkRunnerOptions = OnnxRunnerOptions;

export class OnnxNetworkRunner extends OnnxSessionRunner implements NetworkRunner {
  readonly engine = 'onnxruntime';

  private constructor(ort: OnnxRuntimeLike, session: OrtSessionLike, readonly info: NetworkOnnxInfo, where: string) {
    super(ort, session, where);
  }

  static async create(ort: OnnxRuntimeLike, model: Uint8Array, options: OnnxNetworkRunnerOptions = {}): Promise<OnnxNetworkRunner> {
    const where = options.where ?? 'ONNX restoration network';
    const entry = decodeOnnxModel(model, where).metadataProps?.find((p) => p.key === NETWORK_ONNX_METADATA_KEY);
    if (!entry) throw new Error(`${where}: no '${NETWORK_ONNX_METADATA_KEY}' metadata; not a network exported by @thfr/restoration-onnx`);
    const info = JSON.parse(entry.value) as NetworkOnnxInfo;
    return new OnnxNetworkRunner(ort, await openRunnerSession(ort, model, options, where), info, where);
  }

  /** features: the backbone levels in the graph's input order; template: when the network takes one. */
  run(features: tf.Tensor4D[], template?: tf.Tensor4D): Promise<tf.Tensor4D[]> {
    return this.tracked(() => this.runOnce(features, template));
  }

  private async runOnce(features: tf.Tensor4D[], template?: tf.Tensor4D): Promise<tf.Tensor4D[]> {
    const tensors = [...features, ...(template ? [template] : [])];
    if (tensors.length !== this.info.inputs.length) {
      throw new Error(`${this.where}: takes ${this.info.inputs.length} inputs (${this.info.inputs.map((i) => i.name).join(', ')}), got ${features.length} feature levels${template ? ' and a template' : ''}`);
    }
    const feeds: Record<string, OrtTensorLike> = {};
    for (let i = 0; i < tensors.length; i++) {
      const { name, shape } = this.info.inputs[i];
      const got = tensors[i].shape;
      if (got.length !== 4 || shape.some((d, j) => d !== null && d !== got[j])) throw new Error(`${this.where}: input '${name}' must be [${shape.map((d) => d ?? 'B').join(', ')}], got [${got.join(', ')}]`);
      feeds[name] = new this.ort.Tensor('float32', (await tensors[i].data()) as Float32Array, got);
    }
    return this.runSession(feeds, ({ output, keep }) => this.info.outputs.map(({ name }) => {
      const r = output(name, 'float32', 4, 'float32 NHWC');
      return keep(tf.tensor4d(r.data as Float32Array, [...r.dims] as [number, number, number, number]));
    }));
  }
}
