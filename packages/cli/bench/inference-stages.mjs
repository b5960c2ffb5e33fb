// Where one THFR inference goes, stage by stage, as `thfr predict` runs it on wasm: the backbone and the network on
// onnxruntime-node, the template search and the anomaly map on tfjs-wasm. Build first, then from the repo:
//   node packages/cli/bench/inference-stages.mjs [calls=10]      (THFR_STAGES_CONFIG=default|fast)
// Random weights and images: timings only. Each stage awaits its result, so the stages add up to one call.
import { tf } from '@thfr/tensor';
import { TemplateBank } from '@thfr/template-bank';
import { THFR_PRESETS, ThfrNetwork, measureLevelsAsync, resolveConfig, templateReference } from '@thfr/model';
import { anomalyMap } from '@thfr/postprocess';
import { OnnxNetworkRunner, exportRestorationNetworkToOnnx } from '@thfr/restoration-onnx';
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
const bankImages = 16;
const bankFeatures = await backbone.extractAsync(tf.randomUniform([bankImages, config.imageSize, config.imageSize, 3], 0, 1, 'float32', 1));
const reference = templateReference(bankFeatures, network.codeSize);
const bank = await TemplateBank.fromFeatures(bankFeatures[bankFeatures.length - 1], [reference]);
tf.dispose([...bankFeatures, reference]);
const runner = await OnnxNetworkRunner.create(await loadOnnxRuntimeNode(), exportRestorationNetworkToOnnx(network), { threads: 2 });
const image = tf.randomUniform([1, config.imageSize, config.imageSize, 3], 0, 1, 'float32', 2);

const stages = { backbone: [], search: [], network: [], map: [], total: [] };
for (let call = -2; call < calls; call++) {
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
