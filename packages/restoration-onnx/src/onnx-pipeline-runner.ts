/**
 * Runs an exported pipeline (`exportRestorationPipelineToOnnx`) on onnxruntime as a RestorationModel's
 * PipelineRunner: images in, the model's maps, scores, level maps and template indices out as tfjs tensors. The
 * runtime module is passed in (onnxruntime-node from '@thfr/restoration-onnx/node', or onnxruntime-web), so this
 * file stays browser-safe.
 */
import { tf } from '@thfr/tensor';
import { imagesToUnitRange } from '@thfr/backbone';
import { decodeOnnxModel, type OnnxRuntimeLike, type OrtSessionLike, type OrtTensorLike } from '@thfr/backbone-onnx';
import { OnnxSessionRunner, openRunnerSession, type OnnxRunnerOptions } from './onnx-session-runner.js';
import type { PipelineRunner, RestorationBatchOptions, RestorationPredictionTensors } from '@thfr/restoration';
import { PIPELINE_ONNX_FORMAT, PIPELINE_ONNX_METADATA_KEY, type PipelineOnnxInfo } from './pipeline-onnx.js';

/** How the pipeline runner opens its session (errors name it `where`, default 'ONNX pipeline'). */
export type OnnxPipelineRunnerOptions = OnnxRunnerOptions;

/** The pipeline description stored in an exported file; throws, naming `where`, when it is not one. */
export function readPipelineOnnxInfo(model: Uint8Array, where = 'ONNX pipeline'): PipelineOnnxInfo {
  const entry = decodeOnnxModel(model, where).metadataProps?.find((p) => p.key === PIPELINE_ONNX_METADATA_KEY);
  if (!entry) throw new Error(`${where}: no '${PIPELINE_ONNX_METADATA_KEY}' metadata; not an inference exported by @thfr/restoration-onnx's exportRestorationPipelineToOnnx`);
  const info = JSON.parse(entry.value) as PipelineOnnxInfo;
  if (info.format !== PIPELINE_ONNX_FORMAT || info.version !== 1) throw new Error(`${where}: pipeline format '${info.format}' version ${info.version}; this package reads '${PIPELINE_ONNX_FORMAT}' version 1`);
  return info;
}

export class OnnxPipelineRunner extends OnnxSessionRunner implements PipelineRunner {
  readonly engine = 'onnxruntime (one graph)';

  private constructor(ort: OnnxRuntimeLike, session: OrtSessionLike, readonly info: PipelineOnnxInfo, where: string) {
    super(ort, session, where);
  }

  static async create(ort: OnnxRuntimeLike, model: Uint8Array, options: OnnxPipelineRunnerOptions = {}): Promise<OnnxPipelineRunner> {
    const where = options.where ?? 'ONNX pipeline';
    const info = readPipelineOnnxInfo(model, where);
    return new OnnxPipelineRunner(ort, await openRunnerSession(ort, model, options, where), info, where);
  }

  /** Images [B, imageSize, imageSize, 3] in [0, 1]. excludeTemplates needs a file exported with excludeInput; rawMap, a standardized one's raw outputs (or an unstandardized file). */
  run(images: tf.Tensor4D, options: RestorationBatchOptions = {}): Promise<RestorationPredictionTensors> {
    return this.tracked(() => this.runOnce(images, options));
  }

  private excludeFeed(batch: number, exclude: RestorationBatchOptions['excludeTemplates']): OrtTensorLike | undefined {
    const { info } = this;
    const given = exclude !== undefined && Array.from({ length: batch }, (_, i) => exclude[i]).some((e) => e !== undefined && e !== null);
    if (!info.excludeInput) {
      if (given) throw new Error(`${this.where}: excludeTemplates needs a pipeline exported with excludeInput${info.templates === 0 ? ' (and templates: this one has none)' : ''}`);
      return undefined;
    }
    if (exclude && exclude.length > batch) throw new Error(`${this.where}: excludeTemplates has ${exclude.length} entries for ${batch} images`);
    const values = new BigInt64Array(batch).fill(-1n);
    for (let i = 0; i < batch; i++) {
      const e = exclude?.[i];
      if (e === undefined || e === null) continue;
      if (!Number.isInteger(e) || e < 0 || e >= info.templates) throw new RangeError(`${this.where}: excludeTemplates[${i}] must be a template index in [0, ${info.templates - 1}], got ${e}`);
      if (info.templates === 1) throw new RangeError(`${this.where}: image ${i} has no template left (the bank holds only the excluded one)`);
      values[i] = BigInt(e);
    }
    return new this.ort.Tensor('int64', values, [batch]);
  }

  private async runOnce(images: tf.Tensor4D, options: RestorationBatchOptions): Promise<RestorationPredictionTensors> {
    const { info } = this;
    const [batch, height, width, channels] = images.shape;
    if (images.rank !== 4 || height !== info.imageSize || width !== info.imageSize || channels !== 3 || (images.dtype !== 'float32' && images.dtype !== 'int32')) {
      throw new Error(`${this.where}: images must be [B, ${info.imageSize}, ${info.imageSize}, 3] RGB (float32 in [0, 1] or int32 0..255), got [${images.shape.join(', ')}] ${images.dtype}`);
    }
    const raw = Boolean(options.rawMap && info.standardized);
    const feeds: Record<string, OrtTensorLike> = {};
    const exclude = this.excludeFeed(batch, options.excludeTemplates);
    if (exclude) feeds[info.excludeInput!] = exclude;
    // int32 0..255 as the backbones take it: divided by 255 as imagesToUnitRange does.
    const unit = images.dtype === 'float32' ? images : tf.tidy(() => imagesToUnitRange(images));
    try {
      feeds[info.input] = new this.ort.Tensor('float32', (await unit.data()) as Float32Array, [...images.shape]);
    } finally {
      if (unit !== images) unit.dispose();
    }
    return this.runSession(feeds, ({ output, keep }) => {
      const mapName = raw ? info.outputs.rawMap! : info.outputs.map;
      const scoreName = raw ? info.outputs.rawScore! : info.outputs.score;
      const map3d = (name: string) => keep(tf.tensor3d(output(name, 'float32', 3, 'float32 of rank 3').data as Float32Array, [batch, info.imageSize, info.imageSize]));
      const map = map3d(mapName);
      const scores = keep(tf.tensor1d(output(scoreName, 'float32', 1, 'float32 of rank 1').data as Float32Array));
      const levelMaps = info.outputs.levelMaps.map(map3d);
      const indices = info.outputs.templateIndex ? output(info.outputs.templateIndex, 'int64', 1, 'int64 [B]').data as BigInt64Array : undefined;
      const extras: RestorationPredictionTensors['extras'] = indices ? Array.from(indices, (index) => ({ template: Number(index) })) : Array.from({ length: batch }, () => ({}));
      return { map, scores, levelMaps, extras };
    });
  }
}
