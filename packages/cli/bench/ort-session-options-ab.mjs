// onnxruntime's session options on the whole THFR inference graph (default configuration, 256 px, batch 1; random
// network weights, the ImageNet ResNet-50): one session per variant over the same bytes, timed by turns in one process
// with 30 ms between calls (as a service's calls come), medians of `rounds` calls; the scores are checked equal.
// docs/benchmarks.md, "Eighteenth session". Build first, then from the repo:
//   node packages/cli/bench/ort-session-options-ab.mjs [rounds=12]
import { tf } from '@thfr/tensor';
import { TemplateBank } from '@thfr/template-bank';
import { THFR_PRESETS, ThfrModel, ThfrNetwork, measureLevelsAsync, resolveConfig, templateReference } from '@thfr/model';
import { exportRestorationPipelineToOnnxAsync } from '@thfr/restoration-onnx';
import { ortSessionOptions } from '@thfr/backbone-onnx';
import { loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import { openBackbone, DEFAULT_BACKBONE_NAME } from '../dist/backbones.js';
import { setupRuntime } from '../dist/runtime.js';
import { median } from '../dist/commands/bench-timing.js';

const rounds = Number(process.argv[2] ?? 12);
const quiet = { note: () => {}, line: console.log, result: () => {} };
await setupRuntime('wasm', quiet);
const config = resolveConfig({ imageSize: 256 }, THFR_PRESETS.default);
const backbone = await openBackbone({ name: DEFAULT_BACKBONE_NAME, features: 'auto' });
const levels = await measureLevelsAsync(backbone, config.imageSize);
const network = new ThfrNetwork(levels, config);
network.eval();
const bankFeatures = await backbone.extractAsync(tf.randomUniform([16, 256, 256, 3], 0, 1, 'float32', 1));
const reference = templateReference(bankFeatures, network.codeSize);
const bank = await TemplateBank.fromFeatures(bankFeatures[bankFeatures.length - 1], [reference]);
const model = new ThfrModel({ config, backbone, levels, network, bank });
const bytes = await exportRestorationPipelineToOnnxAsync(backbone.tfjs, await model.inferenceSpec());
const ort = await loadOnnxRuntimeNode();
// Each variant is thfr's own session options (ortSessionOptions, as the runners open theirs) with 2 threads, spinning
// or not, and more session config entries.
const variants = {
  'default (no spin)': { allowSpinning: false },
  'spin': { allowSpinning: true },
  'spin, dynamic_block_base 4': { allowSpinning: true, entries: { dynamic_block_base: '4' } },
  'no spin, dynamic_block_base 4': { allowSpinning: false, entries: { dynamic_block_base: '4' } },
  'no spin, denormals as zero': { allowSpinning: false, entries: { set_denormal_as_zero: '1' } },
};
const sessions = {};
for (const [name, { allowSpinning, entries }] of Object.entries(variants)) {
  sessions[name] = await ort.InferenceSession.create(bytes, ortSessionOptions({ threads: 2, allowSpinning, sessionOptions: { extra: { session: entries ?? {} } } }, name));
}
const s0 = Object.values(sessions)[0];
const image = new ort.Tensor('float32', Float32Array.from({ length: 256 * 256 * 3 }, (_, i) => ((i * 7919) % 1000) / 1000), [1, 256, 256, 3]);
const feeds = { [s0.inputNames[0]]: image };
const times = Object.fromEntries(Object.keys(variants).map((n) => [n, []]));
let ref;
if (!s0.outputNames.includes('score')) throw new Error(`the pipeline graph has no 'score' output: ${s0.outputNames.join(', ')}`);
for (let r = -2; r < rounds; r++) {
  for (const [name, s] of Object.entries(sessions)) {
    const t = performance.now();
    const out = await s.run(feeds);
    const ms = performance.now() - t;
    if (r >= 0) times[name].push(ms);
    const scores = out.score.data;
    if (!ref) ref = scores; else if (scores && Math.abs(scores[0] - ref[0]) > 1e-5 * Math.abs(ref[0])) console.log('MISMATCH', name, scores[0], ref[0]);
    await new Promise((res) => setTimeout(res, 30));
  }
}
for (const [n, xs] of Object.entries(times)) console.log(`${n.padEnd(32)} median ${median(xs).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)}`);
