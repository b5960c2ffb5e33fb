// Where one THFR inference goes, stage by stage, with the backbone and the network on onnxruntime-node and the
// template search and the anomaly map on tfjs-wasm; and, by turns in the same loop, the whole inference as one
// onnxruntime graph (@thfr/restoration-onnx's pipeline, what `thfr predict` runs). Build first, then from the repo:
//   node packages/cli/bench/inference-stages.mjs [calls=10]      (THFR_STAGES_CONFIG=default|fast, THFR_STAGES_BANK=16)
// Random weights and images: timings only. Each stage awaits its result, so the stages add up to one call.
import { tf } from '@thfr/tensor';
import { TemplateBank } from '@thfr/template-bank';
import { THFR_PRESETS, ThfrModel, ThfrNetwork, measureLevelsAsync, resolveConfig, templateReference } from '@thfr/model';
import { anomalyMap } from '@thfr/postprocess';
import { OnnxNetworkRunner, OnnxPipelineRunner, exportRestorationNetworkToOnnx, exportRestorationPipelineToOnnx } from '@thfr/restoration-onnx';
import { exportResNetToOnnx } from '@thfr/backbone-onnx';
import { loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import { openBackbone, DEFAULT_BACKBONE_NAME } from '../dist/backbones.js';
import { setupRuntime } from '../dist/runtime.js';

const calls = Number(process.argv[2] ?? 10);
const quiet = { note: () => {}, line: console.log, result: () => {} };
await setupRuntime('wasm', quiet);
const config = resolveConfig({ imageSize: 256 }, THFR_PRESETS[process.env.THFR_STAGES_CONFIG ?? 'default']);
const backbone = await openBackbone({ name: DEFAULT_BACKBONE_NAME, features: 'auto' });
const levels = await measureLevelsAsync(backbone, config.imageSize);
const network = new ThfrNetwork(levels, config);
network.eval();
const bankImages = Number(process.env.THFR_STAGES_BANK ?? 16);
const bankFeatures = await backbone.extractAsync(tf.randomUniform([bankImages, config.imageSize, config.imageSize, 3], 0, 1, 'float32', 1));
const reference = templateReference(bankFeatures, network.codeSize);
const bank = await TemplateBank.fromFeatures(bankFeatures[bankFeatures.length - 1], [reference]);
tf.dispose([...bankFeatures, reference]);
const runner = await OnnxNetworkRunner.create(await loadOnnxRuntimeNode(), exportRestorationNetworkToOnnx(network), { threads: 2 });
const model = new ThfrModel({ config, backbone, levels, network, bank });
const pipeline = await OnnxPipelineRunner.create(await loadOnnxRuntimeNode(), exportRestorationPipelineToOnnx(exportResNetToOnnx(backbone.tfjs, { imageSize: config.imageSize }), await model.inferenceSpec()), { threads: 2 });
const image = tf.randomUniform([1, config.imageSize, config.imageSize, 3], 0, 1, 'float32', 2);

const stages = { backbone: [], search: [], network: [], map: [], total: [], 'one graph': [] };
for (let call = -2; call < calls; call++) {
  const p0 = performance.now();
  const whole = await pipeline.run(image);
  await whole.scores.data();
  const p1 = performance.now();
  tf.dispose([whole.map, whole.scores, ...whole.levelMaps]);
  if (call >= 0) stages['one graph'].push(p1 - p0);
  const t = [performance.now()];
  const features = await backbone.extractAsync(image);
  t.push(performance.now());
  const found = (await bank.search(features[features.length - 1], { topN: 1 })).indices;
  const [template] = bank.gather(Int32Array.from(found, (c) => c[0]));
  await template.data();
  t.push(performance.now());
  const restored = await runner.run(features, template);
  t.push(performance.now());
  const map = anomalyMap(features, restored, { outputSize: config.imageSize, sigma: config.sigma });
  await map.scores.data();
  t.push(performance.now());
  tf.dispose([...features, template, ...restored, map.map, map.scores, ...map.levelMaps]);
  if (call < 0) continue; // warm-up
  ['backbone', 'search', 'network', 'map'].forEach((name, i) => stages[name].push(t[i + 1] - t[i]));
  stages.total.push(t[4] - t[0]);
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
for (const [name, v] of Object.entries(stages)) console.log(`${name.padEnd(9)} median ${median(v).toFixed(1)} ms, min ${Math.min(...v).toFixed(1)} ms`);
console.log(`tensors alive after: ${tf.memory().numTensors}`);
process.exit(0);
