import { stat } from 'node:fs/promises';
import { tf } from '@thfr/tensor';
import { closeness } from '@thfr/tensor/testing';
import { ResNetBackbone } from '@thfr/backbone';
import { exportResNetToOnnxAsync, readOnnxBackboneInfo, type OnnxBackboneInfo } from '@thfr/backbone-onnx';
import { createOnnxFeatureExtractor, loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import { RestorationModel } from '@thfr/restoration';
import { exportRestorationNetworkToOnnxAsync, exportRestorationPipelineToOnnxAsync, OnnxNetworkRunner, OnnxPipelineRunner, readPipelineOnnxInfo } from '@thfr/restoration-onnx';
import { numberOption, type CommandSpec } from '../command.js';
import type { Output } from '../output.js';
import { inspectModel, openModel } from '../open-model.js';
import { DEFAULT_BACKBONE_NAME, openBackbone, RESNET_NAMES } from '../backbones.js';
import { writeFileAtomically } from '../files.js';
import { setupRuntime } from '../runtime.js';

function noNetworkError(dir: string, method: string): Error {
  return new Error(`--model ${dir} holds a ${method} model, which has no restoration network to export (THFR and RD4AD models do)`);
}

/** The backbones that are ResNetBackbones (and so export): the offline ImageNet ResNet-50 and the torchvision nets. */
const EXPORTABLE = ['resnet50_imagenet_v1', ...RESNET_NAMES];

/** Refuses a folder, and an existing file unless --force (the export replaces it atomically). */
async function checkOutFile(path: string, force: boolean): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return;
  if (info.isDirectory()) throw new Error(`--out ${path} is a folder; give the .onnx file's path`);
  if (!force) throw new Error(`--out ${path} exists; pass --force to replace it`);
}

/** Runs the written file on onnxruntime-node and on tfjs for one deterministic image: max relative difference per level. */
async function checkAgainstTfjs(backbone: ResNetBackbone, bytes: Uint8Array, size: number, batch: number): Promise<number[]> {
  const onnx = await createOnnxFeatureExtractor(bytes, { threads: 1 });
  const values = Float32Array.from({ length: batch * size * size * 3 }, (_, i) => (i % 251) / 250);
  const images = tf.tensor4d(values, [batch, size, size, 3]);
  try {
    const [ours, reference] = [await onnx.extractAsync(images), backbone.extract(images)];
    // The tests' measure (max |a - b| / max |b| per level), so --check and the package's tests agree.
    const errors = await Promise.all(ours.map(async (f, i) => closeness(await f.data(), await reference[i].data()).maxRel));
    tf.dispose([...ours, ...reference]);
    return errors;
  } finally {
    images.dispose();
    onnx.dispose();
  }
}

function describeArtifact(info: OnnxBackboneInfo): { input: string; outputs: string[] } {
  const { name, batch, height, width } = info.input;
  const pre = info.preprocessing === 'caffe' ? "Keras 'caffe' preprocessing inside: x255, RGB->BGR, minus the BGR mean" : 'ImageNet mean/std normalisation inside';
  return {
    input: `${name}: float32 [${batch ?? 'batch'}, ${height ?? 'height'}, ${width ?? 'width'}, 3] NHWC, RGB in [0, 1] (${pre})`,
    outputs: info.outputs.map((o) => `${o.name}: float32 [${o.dims.join(', ')}] NHWC, stride ${info.levels.find((l) => l.name === o.name)?.stride}`),
  };
}

/**
 * A trained THFR or RD4AD model's restoration network (its current weights) as an ONNX model: inputs the backbone
 * levels (and THFR's template reference), outputs the restored levels, all float32 NHWC with a free batch. With
 * `check`, runs it on onnxruntime-node and on tfjs for one seeded random input: max relative difference per level.
 */
async function exportModelNetwork(dir: string, out: string, values: Record<string, string | boolean | undefined>, output: Output): Promise<void> {
  const { detector, backbone } = await openModel(dir, { weights: values.weights as string | undefined, features: 'tfjs' });
  try {
    const model = (detector as { model?: unknown }).model;
    if (!(model instanceof RestorationModel)) throw noNetworkError(dir, detector.method);
    model.network.eval();
    const bytes = await exportRestorationNetworkToOnnxAsync(model.network, { name: `${detector.method}_restoration_network` });
    await writeFileAtomically(out, bytes);
    const graph = model.network.toGraph!();
    const shape = (dims: Array<number | null>) => `[${dims.map((d) => d ?? 'batch').join(', ')}]`;
    output.line(`wrote ${out} (${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB): the ${detector.method} network of ${dir}, ${(model.network.parameterCount() / 1e6).toFixed(2)} M parameters, backbone ${backbone.identity.architecture}`);
    for (const input of graph.inputs) output.line(`  input  ${input.name}: float32 ${shape(input.shape)} NHWC`);
    let check: { relativeErrors: number[] } | { skipped: string } | undefined;
    if (values.check) {
      try {
        const runner = await OnnxNetworkRunner.create(await loadOnnxRuntimeNode(), bytes, { threads: 1 });
        const inputs = graph.inputs.map((input, k) => tf.randomNormal([1, ...input.shape.slice(1).map((d) => d ?? 1)] as [number, number, number, number], 0, 1, 'float32', k + 1) as tf.Tensor4D);
        const template = graph.inputs.findIndex((i) => i.name === 'template');
        const features = inputs.filter((_, k) => k !== template);
        const [ours, reference] = [await runner.run(features, inputs[template]), model.network.forward(features, inputs[template])];
        const relativeErrors = await Promise.all(ours.map(async (r, i) => closeness(await r.data(), await reference[i].data()).maxRel));
        tf.dispose([...inputs, ...ours, ...reference]);
        runner.dispose();
        check = { relativeErrors };
      } catch (error) {
        if (!/onnxruntime-node is not installed/.test((error as Error).message)) throw error;
        check = { skipped: (error as Error).message };
      }
    }
    const outputs = model.levels.map((l) => ({ name: l.name, shape: [null, l.size, l.size, l.channels] }));
    outputs.forEach((o, i) => output.line(`  output restored ${o.name}: float32 ${shape(o.shape)} NHWC${check && 'relativeErrors' in check ? ` (check: onnxruntime vs tfjs max |diff| / max |tfjs| ${check.relativeErrors[i].toExponential(1)})` : ''}`));
    if (check && 'skipped' in check) output.line(`  check skipped: ${check.skipped}`);
    output.result({ out, bytes: bytes.byteLength, method: detector.method, model: dir, inputs: graph.inputs, outputs, check });
  } finally {
    detector.dispose();
    backbone.dispose();
  }
}

/**
 * A trained THFR or RD4AD model's whole inference as one ONNX model (@thfr/restoration-onnx's pipeline): images in,
 * anomaly maps, scores, level maps and (THFR) template indices out. With `check`, runs it on onnxruntime-node and
 * the model on tfjs for two deterministic images: max relative difference of the maps and scores.
 */
async function exportModelPipeline(dir: string, out: string, values: Record<string, string | boolean | undefined>, output: Output): Promise<void> {
  const { detector, backbone } = await openModel(dir, { weights: values.weights as string | undefined, features: 'tfjs' });
  try {
    const model = (detector as { model?: unknown }).model;
    if (!(model instanceof RestorationModel)) throw noNetworkError(dir, detector.method);
    if (!(backbone instanceof ResNetBackbone)) throw new Error(`--pipeline: ${dir}'s backbone ${backbone.identity.architecture} is not a ResNet; only the ResNets export to ONNX`);
    const spec = await model.inferenceSpec();
    const bytes = await exportRestorationPipelineToOnnxAsync(backbone, spec, { name: `${detector.method}_inference` });
    await writeFileAtomically(out, bytes);
    const info = readPipelineOnnxInfo(bytes, out);
    const size = info.imageSize;
    output.line(`wrote ${out} (${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB): the whole ${detector.method} inference of ${dir} (backbone ${backbone.identity.architecture}, ${info.templates ? `${info.templates} templates, ` : ''}network, anomaly map${info.standardized ? ' standardized per position' : ''})`);
    output.line(`  input  ${info.input}: float32 [batch, ${size}, ${size}, 3] NHWC, RGB in [0, 1]`);
    output.line(`  output ${info.outputs.map}: float32 [batch, ${size}, ${size}]; ${info.outputs.score}: float32 [batch]; ${info.outputs.levelMaps.join(', ')}: float32 [batch, ${size}, ${size}]${info.outputs.templateIndex ? `; ${info.outputs.templateIndex}: int64 [batch]` : ''}${info.outputs.rawMap ? `; ${info.outputs.rawMap}, ${info.outputs.rawScore}: before standardization` : ''}`);
    let check: { mapRelativeError: number; scoreRelativeError: number; sameTemplates: boolean } | { skipped: string } | undefined;
    if (values.check) {
      const images = tf.tensor4d(Float32Array.from({ length: 2 * size * size * 3 }, (_, i) => ((i * 7919) % 251) / 250), [2, size, size, 3]);
      try {
        const runner = await OnnxPipelineRunner.create(await loadOnnxRuntimeNode(), bytes, { threads: 1 });
        const [ours, reference] = [await runner.run(images), await model.predictTensors(images)];
        check = {
          mapRelativeError: closeness(await ours.map.data(), await reference.map.data()).maxRel,
          scoreRelativeError: closeness(await ours.scores.data(), await reference.scores.data()).maxRel,
          sameTemplates: ours.extras.every((e, i) => (e.template ?? -1) === (reference.extras[i].template ?? -1)),
        };
        tf.dispose([ours.map, ours.scores, ...ours.levelMaps, reference.map, reference.scores, ...reference.levelMaps]);
        runner.dispose();
        output.line(`  check: onnxruntime vs tfjs on 2 images, max |diff| / max |tfjs|: map ${check.mapRelativeError.toExponential(1)}, scores ${check.scoreRelativeError.toExponential(1)}; templates ${check.sameTemplates ? 'the same' : 'DIFFER'}`);
      } catch (error) {
        if (!/onnxruntime-node is not installed/.test((error as Error).message)) throw error;
        check = { skipped: (error as Error).message };
        output.line(`  check skipped: ${check.skipped}`);
      } finally {
        images.dispose();
      }
    }
    output.result({ out, bytes: bytes.byteLength, method: detector.method, model: dir, pipeline: info, check });
  } finally {
    detector.dispose();
    backbone.dispose();
  }
}

export const exportOnnxCommand: CommandSpec = {
  name: 'export-onnx',
  summary: 'Export a ResNet backbone (default: the ImageNet ResNet-50) as an ONNX model for onnxruntime or Triton: input images float32 NHWC RGB in [0, 1] with the preprocessing inside, one NHWC output per tapped level (layer1..layer3). With --model, export a trained THFR or RD4AD model\'s restoration network instead: inputs the backbone levels (and THFR\'s template reference), outputs the restored levels; with --pipeline, its whole inference as one graph (images in; anomaly maps, scores and template indices out).',
  usage: 'thfr export-onnx [--backbone NAME] [--weights FILE] [--out FILE] [--image-size N] [--check] | --model DIR [--pipeline] [--out FILE] [--check]',
  options: {
    model: { type: 'string', help: "a trained THFR or RD4AD model folder: export its restoration network (default --out network.onnx)", valueName: 'DIR' },
    pipeline: { type: 'boolean', help: "with --model: export the model's whole inference as one graph (backbone, template search, network, anomaly map): images in, maps, scores and template indices out (default --out inference.onnx)" },
    backbone: { type: 'string', help: `backbone to export: ${EXPORTABLE.join(', ')}`, default: DEFAULT_BACKBONE_NAME, valueName: 'NAME' },
    weights: { type: 'string', help: 'safetensors weights for the torchvision ResNets', valueName: 'FILE' },
    out: { type: 'string', help: 'the .onnx file to write (atomically)', default: 'backbone.onnx', valueName: 'FILE' },
    'image-size': { type: 'string', help: 'fix the input to N x N pixels (default: any size; the graph\'s height and width are symbolic)', valueName: 'N' },
    'batch-size': { type: 'string', help: 'fix the batch size (default: any batch)', valueName: 'N' },
    check: { type: 'boolean', help: 'run the written file on onnxruntime-node (when installed) and compare its features with tfjs on one image' },
    force: { type: 'boolean', help: 'replace an existing --out file' },
  },
  examples: [
    'thfr export-onnx --out models/resnet50.onnx',
    'thfr export-onnx --backbone wide_resnet50_2 --weights wide_resnet50_2.safetensors --image-size 256 --out wrn50.onnx',
    'thfr export-onnx --model models/bottle --out bottle-network.onnx --check',
    'thfr export-onnx --model models/bottle --pipeline --out bottle.onnx --check',
  ],
  async run(values, output) {
    if (values.model !== undefined) {
      const out = (values.out as string | undefined) ?? (values.pipeline ? 'inference.onnx' : 'network.onnx');
      if (values['image-size'] !== undefined || values['batch-size'] !== undefined) throw new Error('--image-size and --batch-size fix the backbone export; a model\'s export takes the model\'s sizes (free batch)');
      await checkOutFile(out, Boolean(values.force));
      // Refused from the manifest, before the runtime starts: only the restoration methods have a network to export.
      const { entry } = await inspectModel(values.model as string);
      if (!entry.restorationNetwork) throw noNetworkError(values.model as string, entry.method.name);
      await setupRuntime(values.backend as string | undefined, output, Boolean(values.verbose));
      await (values.pipeline ? exportModelPipeline : exportModelNetwork)(values.model as string, out, values, output);
      return;
    }
    if (values.pipeline) throw new Error('--pipeline exports a trained model\'s whole inference: give its folder with --model DIR');
    const name = (values.backbone as string | undefined) ?? DEFAULT_BACKBONE_NAME;
    if (!EXPORTABLE.includes(name)) throw new Error(`--backbone ${name} cannot be exported: export-onnx exports the ResNets (${EXPORTABLE.join(', ')})`);
    const out = (values.out as string | undefined) ?? 'backbone.onnx';
    const imageSize = numberOption(values, 'image-size', { integer: true, min: 1 });
    const batchSize = numberOption(values, 'batch-size', { integer: true, min: 1 });
    await checkOutFile(out, Boolean(values.force));
    await setupRuntime(values.backend as string | undefined, output, Boolean(values.verbose));
    const backbone = await openBackbone({ name, weights: values.weights as string | undefined, features: 'tfjs' }); // the tfjs network is what is exported
    try {
      if (!(backbone instanceof ResNetBackbone)) throw new Error(`--backbone ${name} did not load as a ResNet`);
      output.note(`exporting ${backbone.identity.architecture} (${backbone.levels.map((l) => l.name).join(', ')})`);
      const bytes = await exportResNetToOnnxAsync(backbone, { imageSize, batchSize });
      await writeFileAtomically(out, bytes);
      const info = readOnnxBackboneInfo(bytes, out);
      const text = describeArtifact(info);
      output.line(`wrote ${out} (${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB): ${info.identity.architecture}, ONNX opset ${info.opset}, weights ${info.identity.weights}`);
      output.line(`  input  ${text.input}`);
      for (const o of text.outputs) output.line(`  output ${o}`);
      let check: { size: number; relativeErrors: number[] } | { skipped: string } | undefined;
      if (values.check) {
        const size = imageSize ?? 64;
        try {
          const relativeErrors = await checkAgainstTfjs(backbone, bytes, size, batchSize ?? 1);
          check = { size, relativeErrors };
          output.line(`  check: onnxruntime vs tfjs at ${size} px, max |diff| / max |tfjs| per level: ${relativeErrors.map((e) => e.toExponential(1)).join(', ')}`);
        } catch (error) {
          if (!/onnxruntime-node is not installed/.test((error as Error).message)) throw error;
          check = { skipped: (error as Error).message };
          output.line(`  check skipped: ${(error as Error).message}`);
        }
      }
      output.result({ out, bytes: bytes.byteLength, opset: info.opset, identity: info.identity, preprocessing: info.preprocessing, input: info.input, levels: info.levels, outputs: info.outputs, check });
    } finally {
      backbone.dispose();
    }
  },
};
