/**
 * The exported ModelProto itself (no onnxruntime needed): it decodes with the same schema, carries the backbone's
 * identity / levels / preprocessing, has the documented input and outputs, stores the folded convs in ONNX's OIHW
 * layout, and the exporter refuses what it cannot export.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { createRandomResNet, hwioToOihw, RESNET_SPECS, type ResNetBackbone, type ResNetSpec } from '@thfr/backbone';
import { tinyBackbone } from '@thfr/backbone/testing';
import { decodeOnnxModel, OnnxAttributeType, encodeOnnxModel, exportResNetToOnnx, exportResNetToOnnxAsync, ONNX_OPSET, readOnnxBackboneInfo, readTensorValues, type OnnxValueInfo } from '../src/index.js';

const SMALL_BASIC: ResNetSpec = { ...RESNET_SPECS.resnet18, widths: [8, 16, 32, 64], stemWidth: 8 };

const dimsOf = (v: OnnxValueInfo) => v.type.tensorType.shape.dim.map((d) => ('dimValue' in d ? d.dimValue : d.dimParam));

let backbone: ResNetBackbone;
beforeAll(async () => {
  await tf.setBackend('cpu');
  backbone = createRandomResNet(SMALL_BASIC, { seed: 3 });
});
afterAll(() => backbone.dispose());

describe('exportResNetToOnnx', () => {
  it('writes a model whose metadata, input and outputs describe the backbone (size-agnostic by default)', () => {
    const bytes = exportResNetToOnnx(backbone);
    const model = decodeOnnxModel(bytes);
    expect(model.irVersion).toBe(7);
    expect(model.opsetImport.map((o) => [o.domain ?? '', o.version])).toEqual([['', ONNX_OPSET]]); // '' = ai.onnx
    expect(model.graph.input.map((i) => i.name)).toEqual(['images']);
    expect(dimsOf(model.graph.input[0])).toEqual(['batch', 'height', 'width', 3]);
    expect(model.graph.output.map((o) => o.name)).toEqual(['layer1', 'layer2', 'layer3']);
    expect(model.graph.output.map(dimsOf)).toEqual([
      ['batch', 'layer1_height', 'layer1_width', 8],
      ['batch', 'layer2_height', 'layer2_width', 16],
      ['batch', 'layer3_height', 'layer3_width', 32],
    ]);
    const info = readOnnxBackboneInfo(bytes);
    expect(info.identity).toEqual(backbone.identity);
    expect(info.levels).toEqual(backbone.levels);
    expect(info.preprocessing).toBe('imagenet');
    expect(info.outputs).toEqual(model.graph.output.map((o) => ({ name: o.name, dims: dimsOf(o) })));
    expect(info.opset).toBe(ONNX_OPSET);
    expect(info.input).toEqual({ name: 'images', layout: 'NHWC', dtype: 'float32', channels: 'RGB', range: [0, 1], batch: null, height: null, width: null });
    // Stem + 3 stages of 2 BasicBlocks (2 convs each) + the 2 downsamples of layer2/3 = 15 convs; layer4 is not exported.
    const convs = model.graph.node.filter((n) => n.opType === 'Conv');
    expect(convs.length).toBe(15);
    expect(model.graph.node.some((n) => n.name.startsWith('layer4'))).toBe(false);
    // To NCHW first: the per-channel constants then broadcast over whole planes.
    expect(model.graph.node.slice(0, 3).map((n) => n.opType)).toEqual(['Transpose', 'Sub', 'Div']);
    expect(model.graph.initializer.find((t) => t.name === 'preprocess.mean')!.dims).toEqual([1, 3, 1, 1]);
  });

  it('stores each folded conv in OIHW with its bias, and computes fixed output sizes as torch rounds them', async () => {
    const bytes = exportResNetToOnnx(backbone, { imageSize: [50, 38], batchSize: 2 });
    const model = decodeOnnxModel(bytes);
    expect(dimsOf(model.graph.input[0])).toEqual([2, 50, 38, 3]);
    // 50 -> conv7/s2 25 -> pool 13 -> 13, 7, 4;  38 -> 19 -> 10 -> 10, 5, 3
    expect(model.graph.output.map(dimsOf)).toEqual([[2, 13, 10, 8], [2, 7, 5, 16], [2, 4, 3, 32]]);
    const folded = backbone.foldedConvs().get('layer2.0.conv1')!;
    const hwio = (await folded.filter.array()) as number[][][][]; // [3, 3, 8, 16]
    const weight = model.graph.initializer.find((t) => t.name === 'layer2.0.conv1.weight')!;
    expect(weight.dims).toEqual([16, 8, 3, 3]);
    const oihw = new Float32Array(new Uint8Array(weight.rawData).buffer);
    for (const [o, i, h, w] of [[0, 0, 0, 0], [15, 7, 2, 1], [3, 5, 1, 2]]) expect(oihw[((o * 8 + i) * 3 + h) * 3 + w]).toBe(hwio[h][w][i][o]);
    const bias = model.graph.initializer.find((t) => t.name === 'layer2.0.conv1.bias')!;
    expect(Array.from(new Float32Array(new Uint8Array(bias.rawData).buffer))).toEqual(Array.from(await folded.bias.data()));
    const conv = model.graph.node.find((n) => n.name === 'layer2.0.conv1')!;
    expect(Object.fromEntries(conv.attribute!.map((a) => [a.name, a.type === OnnxAttributeType.INTS ? a.ints : a.i]))).toEqual({ kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 });
  });

  it('puts Keras caffe preprocessing (x255, RGB -> BGR, minus the BGR mean) into the graph for caffe backbones', () => {
    const caffe = createRandomResNet({ ...SMALL_BASIC }, { seed: 4 });
    // A random ResNet normalises the torchvision way; flip it to 'caffe' as the Keras ResNet-50 loads.
    Object.assign(caffe, { preprocessing: 'caffe' });
    const model = decodeOnnxModel(exportResNetToOnnx(caffe));
    caffe.dispose();
    expect(model.graph.node.slice(0, 4).map((n) => n.opType)).toEqual(['Transpose', 'Mul', 'Gather', 'Sub']);
    expect(model.graph.node[2].attribute).toEqual([expect.objectContaining({ name: 'axis', i: 1 })]);
    const order = model.graph.initializer.find((t) => t.name === 'preprocess.bgr_order')!;
    expect(Array.from(new BigInt64Array(new Uint8Array(order.rawData).buffer))).toEqual([2n, 1n, 0n]);
  });

  it('refuses a backbone that is not a ResNet, a disposed one, and bad sizes', () => {
    const tiny = tinyBackbone();
    expect(() => exportResNetToOnnx(tiny as unknown as ResNetBackbone)).toThrow(/'tiny-test' is not a ResNetBackbone of @thfr\/backbone/);
    tiny.dispose();
    expect(() => exportResNetToOnnx(backbone, { imageSize: 0 })).toThrow(/imageSize \(height\) must be a positive integer, got 0/);
    expect(() => exportResNetToOnnx(backbone, { batchSize: 1.5 })).toThrow(/batchSize must be a positive integer, got 1.5/);
    const gone = createRandomResNet(SMALL_BASIC, { seed: 5 });
    gone.dispose();
    expect(() => exportResNetToOnnx(gone)).toThrow(/was disposed; export before dispose\(\)/);
  });
});

describe('exportResNetToOnnxAsync and readTensorValues (backends without synchronous read-back: tfjs-webgpu in Node)', () => {
  it('reads every folded weight ahead and writes the same bytes as the synchronous export', async () => {
    const options = { imageSize: 48, batchSize: 2 };
    const bytes = exportResNetToOnnx(backbone, options);
    const dataSync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    try {
      expect(await exportResNetToOnnxAsync(backbone, options)).toEqual(bytes);
      expect(dataSync).not.toHaveBeenCalled(); // what tfjs-webgpu in Node cannot do
    } finally {
      dataSync.mockRestore();
    }
    // Every weight goes through the `values` reader: one that refuses fails the export.
    expect(() => exportResNetToOnnx(backbone, { values: () => { throw new Error('synchronous read'); } })).toThrow(/synchronous read/);
  });

  it('reads each tensor once, refuses one it did not read and disposed ones, by shape', async () => {
    const [a, b] = [tf.tensor2d([[1, 2, 3], [4, 5, 6]]), tf.tensor1d([7, 8])];
    const read = await readTensorValues([a, b, a]);
    expect(Array.from(read(a))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(read(b))).toEqual([7, 8]);
    const other = tf.zeros([3, 1]);
    expect(() => read(other)).toThrow(/the tensor of shape \[3, 1\] was not among those read ahead/);
    other.dispose();
    await expect(readTensorValues([other])).rejects.toThrow(/a tensor of shape \[3, 1\] was disposed; export before dispose\(\)/);
    tf.dispose([a, b]);
  });

  it("the exports' filter reorder (@thfr/backbone's hwioToOihw) is the [3, 2, 0, 1] transpose", () => {
    const hwio = tf.randomUniform([2, 3, 4, 5], -1, 1, 'float32', 9);
    const expected = tf.transpose(hwio, [3, 2, 0, 1]);
    expect(Array.from(hwioToOihw(hwio.dataSync() as Float32Array, hwio.shape))).toEqual(Array.from(expected.dataSync()));
    tf.dispose([hwio, expected]);
  });
});

describe('readOnnxBackboneInfo', () => {
  it('names the file when it is not ONNX or not a thfr backbone export', () => {
    expect(() => readOnnxBackboneInfo(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 'junk.onnx')).toThrow(/junk\.onnx: not an ONNX model/);
    const plain = encodeOnnxModel({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], producerName: 'other', metadataProps: [], graph: { name: 'g', node: [], initializer: [], input: [], output: [] } });
    expect(() => readOnnxBackboneInfo(plain, 'other.onnx')).toThrow(/other\.onnx: not a thfr ONNX backbone \(metadata 'thfr\.format' is missing/);
  });
});
