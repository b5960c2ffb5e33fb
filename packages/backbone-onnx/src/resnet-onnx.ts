/**
 * Exports a `ResNetBackbone` of @thfr/backbone (torchvision v1.5 ResNets / WideResNets, the Keras v1 ImageNet
 * ResNet-50) as an ONNX model that computes exactly what its `extract()` computes: the model's own pixel
 * normalisation on an NHWC float32 input in [0, 1], then the stem, max pool and residual stages with the BatchNorms
 * already folded into the convs (the backbone folded them at load), and one NHWC output per tapped level.
 */
import { CAFFE_BGR_MEAN, IMAGENET_MEAN, IMAGENET_STD, ResNetBackbone, hwioToOihw, type ResNetPlan } from '@thfr/backbone';
import { attr, float32ValueInfo, OnnxGraphBuilder } from './onnx-graph.js';
import { backboneMetadataProps, type OnnxBackboneInfo, type OnnxBackboneInput } from './onnx-metadata.js';
import { encodeOnnxModel, type OnnxModel } from './onnx-schema.js';
import { readTensorValues, syncTensorValues, type TensorValues } from './tensor-values.js';

/** ONNX operator set of the exported graph (Conv, MaxPool, Relu, Add, Sub, Div, Mul, Gather, Transpose). */
export const ONNX_OPSET = 13;
/** IR version 7 is what opset 13 was released with; every onnxruntime since 1.6 and Triton's ONNX backend read it. */
const ONNX_IR_VERSION = 7;

export interface OnnxExportOptions {
  /**
   * Fixes the input's spatial size (a number for square images, or [height, width]). Default: free, so one file
   * serves any image size (the graph's dimensions are symbolic: 'height', 'width').
   */
  imageSize?: number | [number, number];
  /** Fixes the batch size. Default: free (symbolic 'batch'). */
  batchSize?: number;
  /** Name of the graph input (default 'images'). */
  inputName?: string;
  /** How the weights are read back (default: synchronously; `exportResNetToOnnxAsync` reads them ahead). */
  values?: TensorValues;
}

type ConvBn = ResNetPlan['stem'];

/** torch's output size of a conv / pool: floor((n + 2p - k) / s) + 1. */
const convOut = (n: number, kernel: number, stride: number, pad: number) => Math.floor((n + 2 * pad - kernel) / stride) + 1;

function checkSize(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`exportResNetToOnnx: ${what} must be a positive integer, got ${value}`);
  return value;
}

/**
 * The ONNX model (the bytes of a `.onnx` file) of a ResNet backbone. Input `images` (or `options.inputName`):
 * float32 `[batch, height, width, 3]`, RGB in [0, 1]. Outputs: one per level of `backbone.levels`, named as the
 * level (`layer1`, ...), float32 NHWC `[batch, h, w, channels]`. The backbone's identity, levels, preprocessing and
 * the input's layout are stored in the model's metadata (see `readOnnxBackboneInfo`). Reads the weights back from
 * the backbone's tensors (synchronously: on tfjs-webgpu in Node use `exportResNetToOnnxAsync`), so the backbone must
 * not be disposed yet.
 */
export function exportResNetToOnnx(backbone: ResNetBackbone, options: OnnxExportOptions = {}): Uint8Array {
  if (!(backbone instanceof ResNetBackbone)) {
    const name = (backbone as { identity?: { architecture?: string } } | null)?.identity?.architecture ?? String(backbone);
    throw new Error(`exportResNetToOnnx: '${name}' is not a ResNetBackbone of @thfr/backbone; only the ResNets (resnet50_imagenet_v1, resnet18 .. wide_resnet101_2) are exported`);
  }
  const inputName = options.inputName ?? 'images';
  const size = options.imageSize === undefined ? undefined : typeof options.imageSize === 'number' ? [options.imageSize, options.imageSize] : options.imageSize;
  const [height, width] = size ? [checkSize(size[0], 'imageSize (height)'), checkSize(size[1], 'imageSize (width)')] : [null, null];
  const batch = options.batchSize === undefined ? null : checkSize(options.batchSize, 'batchSize');
  const architecture = backbone.identity.architecture;
  if (backbone.levels.some((l) => l.name === inputName)) throw new Error(`exportResNetToOnnx: the input name '${inputName}' is also a level name`);

  const convs = backbone.foldedConvs();
  const read = options.values ?? syncTensorValues;
  const graph = new OnnxGraphBuilder([inputName]);

  const conv = (spec: ConvBn, x: string, relu: boolean): string => {
    const folded = convs.get(spec.conv);
    if (!folded) throw new Error(`exportResNetToOnnx: ${architecture} holds no folded conv '${spec.conv}' (built without this stage?)`);
    if (folded.filter.isDisposed) throw new Error(`exportResNetToOnnx: ${architecture} was disposed; export before dispose()`);
    const shape = folded.filter.shape;
    const weight = graph.float32(`${spec.conv}.weight`, [shape[3], shape[2], shape[0], shape[1]], hwioToOihw(read(folded.filter), shape));
    const bias = graph.float32(`${spec.conv}.bias`, [shape[3]], Float32Array.from(read(folded.bias)));
    const y = graph.node('Conv', spec.conv, [x, weight, bias], [
      attr.ints('kernel_shape', [spec.kernel, spec.kernel]),
      attr.ints('strides', [spec.stride, spec.stride]),
      attr.ints('pads', [spec.pad, spec.pad, spec.pad, spec.pad]), // symmetric, as torch pads
      attr.ints('dilations', [1, 1]),
      attr.int('group', 1),
    ]);
    return relu ? graph.node('Relu', `${spec.conv}.relu`, [y]) : y;
  };

  // Preprocessing, in the order (and float32 arithmetic) of ResNetBackbone.normalise, after the transpose to NCHW:
  // per-channel constants broadcast over whole planes there, where on NHWC's innermost axis of 3 onnxruntime's
  // Gather and Sub took ~3 ms of a 256 px image.
  let x = graph.node('Transpose', 'preprocess.to_nchw', [inputName], [attr.ints('perm', [0, 3, 1, 2])]);
  const perChannel = (name: string, values: readonly number[]) => graph.float32(name, [1, 3, 1, 1], Float32Array.from(values));
  if (backbone.preprocessing === 'caffe') {
    const scaled = graph.node('Mul', 'preprocess.to_0_255', [x, graph.float32('preprocess.scale', [], Float32Array.of(255))]);
    const bgr = graph.node('Gather', 'preprocess.rgb_to_bgr', [scaled, graph.int64('preprocess.bgr_order', [3], [2, 1, 0])], [attr.int('axis', 1)]);
    x = graph.node('Sub', 'preprocess.sub_bgr_mean', [bgr, perChannel('preprocess.bgr_mean', CAFFE_BGR_MEAN)]);
  } else {
    const centred = graph.node('Sub', 'preprocess.sub_mean', [x, perChannel('preprocess.mean', IMAGENET_MEAN)]);
    x = graph.node('Div', 'preprocess.div_std', [centred, perChannel('preprocess.std', IMAGENET_STD)]);
  }

  const plan = backbone.plan;
  x = conv(plan.stem, x, true);
  // ONNX MaxPool ignores padded cells (as torch's -inf padding), like tfjs's numeric pool padding in extract().
  x = graph.node('MaxPool', 'maxpool', [x], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])]);
  let spatial = height === null ? null : [convOut(convOut(height, 7, 2, 3), 3, 2, 1), convOut(convOut(width!, 7, 2, 3), 3, 2, 1)];

  const wanted = new Set(backbone.levels.map((l) => l.name));
  const lastStage = Math.max(...plan.stages.map((s, i) => (wanted.has(s.name) ? i : -1)));
  const outputDims = new Map<string, Array<number | string>>();
  for (const stage of plan.stages.slice(0, lastStage + 1)) {
    for (const block of stage.blocks) {
      const shortcut = block.downsample ? conv(block.downsample, x, false) : x;
      let y = x;
      block.convs.forEach((spec, i) => {
        y = conv(spec, y, i < block.convs.length - 1);
        if (spatial) spatial = spatial.map((n) => convOut(n, spec.kernel, spec.stride, spec.pad));
      });
      x = graph.node('Relu', `${block.prefix}.relu`, [graph.node('Add', `${block.prefix}.add`, [y, shortcut])]);
    }
    if (wanted.has(stage.name)) {
      graph.node('Transpose', `${stage.name}.to_nhwc`, [x], [attr.ints('perm', [0, 2, 3, 1])], stage.name);
      outputDims.set(stage.name, [batch ?? 'batch', spatial ? spatial[0] : `${stage.name}_height`, spatial ? spatial[1] : `${stage.name}_width`, stage.channels]);
    }
  }

  const input: OnnxBackboneInput = { name: inputName, layout: 'NHWC', dtype: 'float32', channels: 'RGB', range: [0, 1], batch, height, width };
  const info: Omit<OnnxBackboneInfo, 'opset' | 'outputs'> = { identity: backbone.identity, levels: backbone.levels, preprocessing: backbone.preprocessing, input };
  const preprocessingText = backbone.preprocessing === 'caffe'
    ? `Keras 'caffe' preprocessing inside the graph (x 255, RGB -> BGR, minus the BGR mean [${CAFFE_BGR_MEAN.join(', ')}])`
    : `ImageNet preprocessing inside the graph ((x - [${IMAGENET_MEAN.join(', ')}]) / [${IMAGENET_STD.join(', ')}])`;
  const dimsText = (dims: Array<number | string>) => `[${dims.join(', ')}]`;
  const inputDims = [batch ?? 'batch', height ?? 'height', width ?? 'width', 3];
  const outputs = backbone.levels.map((l) => `${l.name} ${dimsText(outputDims.get(l.name)!)} (stride ${l.stride})`);
  const model: OnnxModel = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: '@thfr/backbone-onnx',
    docString: `Frozen feature extractor ${architecture} (weights ${backbone.identity.weights}), exported by @thfr/backbone-onnx. ` +
      `Input '${inputName}': float32 NHWC ${dimsText(inputDims)}, RGB in [0, 1]; ${preprocessingText}. ` +
      `Outputs (float32 NHWC, BatchNorm folded into the convs): ${outputs.join(', ')}.`,
    graph: {
      name: architecture,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [float32ValueInfo(inputName, inputDims, `RGB images in [0, 1], NHWC; ${preprocessingText}`)],
      output: backbone.levels.map((l) => float32ValueInfo(l.name, outputDims.get(l.name)!, `${l.name} features, NHWC, stride ${l.stride}, ${l.channels} channels`)),
    },
    metadataProps: backboneMetadataProps(info),
  };
  return encodeOnnxModel(model);
}

/**
 * `exportResNetToOnnx` for any tfjs backend: the folded weights are read back asynchronously first (all together),
 * which tfjs-webgpu in Node needs (it has no synchronous read-back).
 */
export async function exportResNetToOnnxAsync(backbone: ResNetBackbone, options: Omit<OnnxExportOptions, 'values'> = {}): Promise<Uint8Array> {
  if (!(backbone instanceof ResNetBackbone)) return exportResNetToOnnx(backbone, options); // its error, by name
  const values = await readTensorValues([...backbone.foldedConvs().values()].flatMap((f) => [f.filter, f.bias]));
  return exportResNetToOnnx(backbone, { ...options, values });
}
