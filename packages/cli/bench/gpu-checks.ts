/**
 * Every check that needs an NVIDIA GPU host, in one process (device time is scarce):
 *  1. WebGPU through Dawn: backend, adapter; the cross-backend op suite against the cpu backend;
 *  2. conv2d 3x3 B16 64x64x256->256 forward and forward+backward;
 *  3. WideResNet50-2 (layer1..3) forward at batch 1 and 16;
 *  4. THFR paper configuration (WideResNet50-2 shapes, 256 px, batch 16): ms per training step,
 *     inference images/s at batch 1 and 16, and peak tensor memory.
 * Bundle here and run there (see ../shared/device/README.md):
 *   ../shared/device/prepare.sh packages/cli/bench/gpu-checks.ts
 *   bash .gpu/run.sh node .gpu/gpu-checks.mjs
 */
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { initRuntime, formatBackendDescription } from '@thfr/runtime-node';
import { OP_CASES, compareCase } from '../../runtime-node/test/op-suite.js';
import { runBackboneGpuBench } from '../../backbone/bench/gpu-backbone.js';
import { createRandomResNet } from '@thfr/backbone';
import { TemplateBank } from '@thfr/template-bank';
import { PAPER_CONFIG, ThfrModel, ThfrNetwork, measureLevels, restorationLoss, templateReference } from '@thfr/model';
import { FusedAdam } from '@thfr/nn';
import { countDispatches } from '../src/commands/bench-dispatches.js';

const LIMIT_S = Number(process.env.GPU_CHECKS_LIMIT_S ?? 400);
// GPU_CHECKS_SMALL=1: tiny shapes, to dry-run the script on SwiftShader before spending device time.
const SMALL = process.env.GPU_CHECKS_SMALL === '1';
const CONV = SMALL ? [2, 16, 16, 16] : [16, 64, 64, 256];
const SIZE = SMALL ? 64 : 256;
const BATCH = SMALL ? 2 : 16;
const deadline = setTimeout(() => {
  console.error(`gpu-checks: time limit (${LIMIT_S} s) reached, exiting`);
  process.exit(2);
}, LIMIT_S * 1000);
const t0 = performance.now();
const log = (name: string, value: unknown) => console.log(JSON.stringify({ at_s: +((performance.now() - t0) / 1000).toFixed(1), name, ...(value as object) }));

let peakBytes = 0;
function notePeak(): void {
  const m = tf.memory() as unknown as { numBytes: number; numBytesInGPUAllocated?: number; numBytesInGPU?: number };
  peakBytes = Math.max(peakBytes, m.numBytesInGPUAllocated ?? m.numBytesInGPU ?? m.numBytes);
}

async function median(repeats: number, fn: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function opSuite(): Promise<number> {
  let failures = 0;
  const summary: string[] = [];
  for (const c of OP_CASES) {
    const r = await compareCase(c, 'webgpu', 'cpu');
    if (!r.ok) failures++;
    const worst = (r as unknown as { worst?: { maxRel: number } }).worst;
    if (!r.ok) log('op-suite FAILED', { case: c.name, ...(r as unknown as Record<string, unknown>) });
    else summary.push(`${c.name}: ${worst ? worst.maxRel.toExponential(1) : 'ok'}`);
  }
  log('op-suite vs cpu (max relative error per case)', { passed: OP_CASES.length - failures, failed: failures, cases: summary.join('; ') });
  await tf.setBackend('webgpu');
  return failures;
}

async function convTiming(): Promise<void> {
  const [n, h, w, c] = CONV;
  const x = tf.randomUniform([n, h, w, c], -1, 1) as tf.Tensor4D;
  const k = tf.randomUniform([3, 3, c, c], -0.1, 0.1) as tf.Tensor4D;
  const dy = tf.randomUniform([n, h, w, c], -1, 1) as tf.Tensor4D;
  const gflop = (2 * n * h * w * 9 * c * c) / 1e9;
  const fwd = async () => { const y = tf.conv2d(x, k, 1, 'same'); await y.data(); y.dispose(); };
  const both = async () => {
    const g = tf.grads((a: tf.Tensor, c: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, c as tf.Tensor4D, 1, 'same'))([x, k], dy);
    await Promise.all(g.map((t) => t.data()));
    tf.dispose(g);
  };
  await fwd(); await both();
  const f = await median(10, fwd);
  const b = await median(5, both);
  log(`conv3x3 B${n} ${h}x${w}x${c}->${c}`, { forward_ms: +f.toFixed(2), forward_tflops: +(gflop / f).toFixed(2), forward_backward_ms: +b.toFixed(2), forward_backward_tflops: +((3 * gflop) / b).toFixed(2) });
  tf.dispose([x, k, dy]);
}

async function thfrPaper(): Promise<void> {
  const config = SMALL ? { ...PAPER_CONFIG, imageSize: SIZE, decoderBlocks: [1, 1, 1] } : { ...PAPER_CONFIG };
  const backbone = createRandomResNet(SMALL ? 'resnet18' : 'wide_resnet50_2', { seed: 0 });
  const levels = measureLevels(backbone, config.imageSize);
  const network = new ThfrNetwork(levels, config);
  log('thfr paper network', { levels, trainable_parameters: network.parameterCount() });
  const images = tf.randomUniform([BATCH, SIZE, SIZE, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const features = backbone.extract(images);
  const reference = templateReference(features, network.codeSize);
  const bank = await TemplateBank.fromFeatures(features[features.length - 1], [reference]);
  const [template] = bank.gather(Array.from({ length: BATCH }, (_, i) => (i + 1) % BATCH));
  reference.dispose();
  // What training runs: FusedAdam, and the fused batch norm that initRuntime registered for webgpu.
  const optimizer = new FusedAdam(network.trainableVariables(), { learningRate: config.learningRate, beta1: config.betas[0], beta2: config.betas[1] });
  network.train();
  const lossOf = () => restorationLoss(features, network.forward(features, template), config.lossForm);
  const step = async () => {
    const loss = optimizer.minimize(lossOf);
    notePeak();
    await loss.data();
    loss.dispose();
  };
  await step(); await step();
  const counted = await countDispatches(() => optimizer.minimize(lossOf));
  log('thfr paper training step dispatches', { kernels: counted.dispatches, compute_shaders: counted.shaders });
  if (process.env.GPU_CHECKS_PROFILE === '1') {
    // Which kernels a training step spends its time in (GPU timestamps where the adapter has them).
    const info = await tf.profile(step);
    const byKernel = new Map<string, { ms: number; count: number }>();
    for (const k of info.kernels) {
      const e = byKernel.get(k.name) ?? { ms: 0, count: 0 };
      e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      e.count += 1;
      byKernel.set(k.name, e);
    }
    const top = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14).map(([n, e]) => `${n} ${e.ms.toFixed(0)}ms/${e.count}`);
    log('thfr paper training step profile (top kernels)', { kernels: info.kernels.length, top: top.join('; ') });
  }
  const stepMs = await median(5, step);
  log(`thfr paper training step (batch ${BATCH}, ${SIZE}px, cached features)`, { ms_per_step: +stepMs.toFixed(1), images_per_s: +((BATCH * 1000) / stepMs).toFixed(1), peak_bytes: peakBytes });
  optimizer.dispose();
  tf.dispose([template, ...features]);
  const model = new ThfrModel({ config, backbone, levels, network, bank });
  for (const batch of [1, BATCH]) {
    const x = tf.randomUniform([batch, SIZE, SIZE, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const run = async () => { const out = await model.predictTensors(x); notePeak(); await out.scores.data(); tf.dispose([out.map, out.scores, ...out.levelMaps]); };
    await run(); await run();
    const ms = await median(5, run);
    log('thfr paper inference (backbone + search + restoration + map)', { batch, ms_per_batch: +ms.toFixed(1), images_per_s: +((batch * 1000) / ms).toFixed(1), peak_bytes: peakBytes });
    x.dispose();
  }
  tf.dispose(images);
  model.dispose();
  backbone.dispose();
}

async function main(): Promise<number> {
  const runtime = await initRuntime({ prefer: ['webgpu'], dawnOptions: process.argv.slice(2) }).catch((e: Error) => { console.error(`webgpu unavailable: ${e.message}`); return null; });
  console.log(`tf.getBackend() = ${tf.getBackend()}`);
  if (!runtime || tf.getBackend() !== 'webgpu') return 1;
  console.log(`backend: ${formatBackendDescription(runtime.description)}`);
  const profileOnly = process.env.GPU_CHECKS_PROFILE === '1';
  const failures = profileOnly ? 0 : await opSuite();
  if (!profileOnly) await convTiming();
  if (!SMALL && !profileOnly) for (const row of await runBackboneGpuBench(tf, { batches: [1, 16], repeats: 5 })) log('backbone', row);
  await thfrPaper();
  console.log(failures === 0 ? 'gpu-checks: all op cases match cpu' : `gpu-checks: ${failures} op case(s) FAILED`);
  return failures === 0 ? 0 : 1;
}

main().then((code) => { clearTimeout(deadline); process.exit(code); }, (e) => { console.error(e); process.exit(1); });
