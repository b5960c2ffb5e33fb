// Host-side cost of one paper-configuration training step on webgpu: the time tfjs and Dawn take to record the step's
// commands (nothing is submitted until the step has returned), with thfr's multi-output kernels (THFR_ADAM_STEP, the
// batch norm's 4 shaders per layer) and with one shader per output (FusedAdam's element-wise ops, 7 batch-norm shaders),
// alternated in one process, and with the multi-output kernels on thfr's register-tiled GEMM (registerWebGpuTiledGemm
// with no size threshold, as every convolution of the full-size network is above it; the input gradient then takes one
// shader where the composed one took three). On an H200 host the paper step was bound by this cost (~0.4 ms per shader, seventh
// session); here it runs on SwiftShader, whose execution is left out by timing the recording alone. The network is the
// bench's twin (WideResNet50-2's layers at 1/8 width; the full network's optimizer buckets) at 1/4 spatial size.
//   node packages/cli/scripts/webgpu-step-recording.mjs [REPEATS]      (after `pnpm build`; Debian's chromium installed)
//   THFR_RECORDING_PROFILE=1 node packages/cli/scripts/webgpu-step-recording.mjs 3
//      also samples the default mode's recording alone with V8's profiler (50 us) and prints the self time per function
//      per step: how much of the host cost is Dawn's native code and how much tfjs' and thfr's JavaScript.
import { existsSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tf } from '@thfr/tensor';
import { initRuntime } from '@thfr/runtime-node';
import { registerWebGpuBatchNormKernels, registerWebGpuTiledGemm } from '@thfr/runtime-common';
import { PAPER_CONFIG, ThfrNetwork, restorationLoss } from '@thfr/model';
import { FusedAdam, partitionIntoBuckets } from '@thfr/nn';
import { DISPATCH_TWIN_WIDTH_DIVISOR } from '../dist/commands/bench-dispatches.js';
import { median } from '../dist/commands/bench-timing.js';

const repeats = Number(process.argv[2] ?? 5);
const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(icd)) process.env.VK_ICD_FILENAMES = icd;
const runtime = await initRuntime({ prefer: ['webgpu'], dawnOptions: process.env.VK_ICD_FILENAMES ? ['backend=vulkan'] : [] });
console.log(`backend ${runtime.backend}: ${runtime.description.details.adapter}`);
const config = PAPER_CONFIG;
const full = [{ name: 'layer1', size: 16, channels: 256 }, { name: 'layer2', size: 8, channels: 512 }, { name: 'layer3', size: 4, channels: 1024 }];
const fullNetwork = new ThfrNetwork(full, config);
const buckets = partitionIntoBuckets(fullNetwork.trainableVariables().map((v) => v.size), 2 ** 24);
fullNetwork.dispose();
const levels = full.map((l) => ({ ...l, channels: l.channels / DISPATCH_TWIN_WIDTH_DIVISOR }));
const network = new ThfrNetwork(levels, config);
const features = levels.map((l, i) => tf.randomUniform([1, l.size, l.size, l.channels], 0, 1, 'float32', i));
const template = tf.randomUniform([1, network.codeSize, network.codeSize, network.templateChannels], 0, 1, 'float32', 7);
network.train();
const modes = {
  'multi-output kernels': { stepKernel: true, multiOutputShaders: true, gemm: false },
  'one shader per output': { stepKernel: false, multiOutputShaders: false, gemm: false },
  'tiled GEMM': { stepKernel: true, multiOutputShaders: true, gemm: true },
};
let removeGemm;
const optimizers = Object.fromEntries(Object.entries(modes).map(([name, m]) => [name, new FusedAdam(network.trainableVariables(), { learningRate: 1e-6, buckets, stepKernel: m.stepKernel })]));
const pass = globalThis.GPUComputePassEncoder.prototype;
const dispatch = pass.dispatchWorkgroups;
let shaders = 0;
pass.dispatchWorkgroups = function (...args) {
  shaders++;
  return dispatch.apply(this, args);
};
const submitBatch = tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE');
const profiler = process.env.THFR_RECORDING_PROFILE ? new Session() : undefined;
/** The inspector's answer to `method`, which it gives synchronously on this thread. */
function inspect(method, params = {}) {
  let answer;
  let failure;
  profiler.post(method, params, (error, result) => {
    failure = error;
    answer = result;
  });
  if (failure) throw failure;
  if (answer === undefined) throw new Error(`inspector ${method}: no synchronous answer`);
  return answer;
}
if (profiler) {
  profiler.connect();
  inspect('Profiler.enable');
  inspect('Profiler.setSamplingInterval', { interval: 50 });
}
/** Self time (ms) per function of one CPU profile, added into `into`, divided by `steps`. */
function addSelfTimes(profile, into, steps) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id).callFrame;
    const key = `${frame.functionName || '(anonymous)'} ${frame.url ? `${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber}` : '(native)'}`;
    into.set(key, (into.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000 / steps);
  });
}
const selfTimes = new Map();

/** One step: ms until minimize() returned (recording only: no submit before), then its execution awaited. */
async function step(name, profile = false) {
  registerWebGpuBatchNormKernels('webgpu', { multiOutputShaders: modes[name].multiOutputShaders });
  removeGemm?.();
  removeGemm = modes[name].gemm ? registerWebGpuTiledGemm({ minMultiplyAdds: 1 }) : undefined;
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 1e9);
  shaders = 0;
  if (profile) inspect('Profiler.start');
  const start = performance.now();
  const loss = optimizers[name].minimize(() => restorationLoss(features, network.forward(features, template), config.lossForm));
  const ms = performance.now() - start;
  if (profile) addSelfTimes(inspect('Profiler.stop').profile, selfTimes, repeats);
  const count = shaders;
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', submitBatch);
  await loss.data();
  loss.dispose();
  return { ms, count };
}
const results = Object.fromEntries(Object.keys(modes).map((name) => [name, []]));
for (const name of Object.keys(modes)) await step(name); // warm-up: pipelines, Adam's state, the buffer pool
for (let r = 0; r < repeats; r++) {
  for (const name of Object.keys(modes)) {
    const { ms, count } = await step(name);
    results[name].push(ms);
    console.log(`repeat ${r}, ${name}: ${count} shaders, recorded in ${ms.toFixed(0)} ms`);
  }
}
const [fused, perOutput, gemm] = Object.keys(modes).map((name) => median(results[name]));
console.log(`median host time to record a step: multi-output kernels ${fused.toFixed(0)} ms, one shader per output ${perOutput.toFixed(0)} ms (${(perOutput / fused).toFixed(2)}x), tiled GEMM ${gemm.toFixed(0)} ms`);
removeGemm?.();
registerWebGpuBatchNormKernels('webgpu');
if (profiler) {
  const timed = [];
  for (let r = 0; r < repeats; r++) timed.push((await step('multi-output kernels', true)).ms);
  const native = [...selfTimes].filter(([key]) => key.endsWith('(native)') && !key.startsWith('(garbage collector)') && !key.startsWith('(program)')).reduce((sum, [, ms]) => sum + ms, 0);
  const all = [...selfTimes.values()].reduce((a, b) => a + b, 0);
  console.log(`profiled recording (multi-output kernels, ${repeats} steps): median ${median(timed).toFixed(0)} ms under the profiler; native code ${native.toFixed(0)} of ${all.toFixed(0)} ms sampled per step; self time per step:`);
  for (const [key, ms] of [...selfTimes].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${ms.toFixed(1).padStart(8)} ms  ${key}`);
}
