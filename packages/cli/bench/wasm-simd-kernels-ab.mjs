// A/B of the wasm training step's batch norm, Adam, convolution patches and loss cosine, in one process by turns (this machine's
// load moves absolute figures by a third within an hour; turns in one process compare like with like). Build first,
// then from the repo:
//   node packages/cli/bench/wasm-simd-kernels-ab.mjs [rounds=3]      (THFR_AB_CONFIG=fast|default, default: default;
//   THFR_AB_VARIANTS=0,1: only those variants)
// Each variant: one warm-up step, then the median (and minimum) of 3 training steps of THFR's network at batch 4 on
// random cached features, convolutions on onnxruntime-node when it loads (as `thfr train` runs them on wasm).
import { tf, THFR_ADAM_STEP, THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD, THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD } from '@thfr/tensor';
import { initRuntime } from '@thfr/runtime-node';
import { registerAdamStep, registerCosineDistanceKernels, registerFusedBatchNorm } from '@thfr/runtime-common';
import { registerOrtKernels } from '@thfr/ort-kernels';
import { FusedAdam } from '@thfr/nn';
import { THFR_PRESETS, ThfrNetwork, resolveConfig, restorationLoss } from '@thfr/model';

const rounds = Number(process.argv[2] ?? 3);
await initRuntime({ prefer: ['wasm'] });
let convolutions = 'wasm';
let onOrt = false;
try {
  convolutions = `onnxruntime-node (${registerOrtKernels().threads} threads)`;
  onOrt = true;
} catch (error) {
  convolutions = `wasm (${error.message})`;
}
const patches = (wasmPatches) => onOrt && registerOrtKernels({ wasmPatches });
const config = resolveConfig({ imageSize: 256 }, THFR_PRESETS[process.env.THFR_AB_CONFIG ?? 'default']);
const levels = [{ name: 'layer1', channels: 256, size: 64 }, { name: 'layer2', channels: 512, size: 32 }, { name: 'layer3', channels: 1024, size: 16 }];
const network = new ThfrNetwork(levels, config);
const batch = 4;
const features = levels.map((l, i) => tf.randomUniform([batch, l.size, l.size, l.channels], 0, 1, 'float32', i));
const template = tf.randomUniform([batch, 8, 8, 1792], 0, 1, 'float32', 9);
const optimizer = new FusedAdam(network.trainableVariables(), { learningRate: 1e-3 });
network.train();
const step = async () => {
  const loss = optimizer.minimize(() => restorationLoss(features, network.forward(features, template), config.lossForm), true);
  await loss.data();
  loss.dispose();
};
const unregister = (...names) => names.forEach((name) => tf.getKernel(name, 'wasm') && tf.unregisterKernel(name, 'wasm'));
const simdBatchNorm = (on) => registerFusedBatchNorm('wasm', { wasmSimd: on });
const simdAdam = (on) => (unregister(THFR_ADAM_STEP), on && registerAdamStep('wasm'));
const fusedCosine = (on) => (on ? registerCosineDistanceKernels('wasm') : unregister(THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD));
const allVariants = {
  'everything on (SIMD batch norm and Adam, patches on the wasm heap, fused cosine)': () => (simdBatchNorm(true), simdAdam(true), patches(true), fusedCosine(true)),
  'loss cosine composed of tfjs ops (before the fifteenth session)': () => (simdBatchNorm(true), simdAdam(true), patches(true), fusedCosine(false)),
  "patches in onnxruntime's graph": () => (simdBatchNorm(true), simdAdam(true), patches(false), fusedCosine(true)),
  "Adam on wasm's ops": () => (simdBatchNorm(true), simdAdam(false), patches(true), fusedCosine(true)),
  'batch norm in JavaScript loops': () => (simdBatchNorm(false), simdAdam(true), patches(true), fusedCosine(true)),
  "before the fourteenth session (all four off)": () => (simdBatchNorm(false), simdAdam(false), patches(false), fusedCosine(false)),
  "batch norm composed of tfjs ops, the rest off": () => (unregister(THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD), simdAdam(false), patches(false), fusedCosine(false)),
};
// THFR_AB_VARIANTS=0,1 runs only those (indices in the order above).
const picked = process.env.THFR_AB_VARIANTS?.split(',').map(Number);
const variants = Object.fromEntries(Object.entries(allVariants).filter((_, i) => !picked || picked.includes(i)));
console.log(`THFR ${process.env.THFR_AB_CONFIG ?? 'default'} network (${(network.parameterCount() / 1e6).toFixed(1)} M parameters), batch ${batch}, 256 px; convolutions on ${convolutions}`);
for (let round = 1; round <= rounds; round++) {
  for (const [label, select] of Object.entries(variants)) {
    select();
    await step();
    const ms = [];
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      await step();
      ms.push(performance.now() - start);
    }
    ms.sort((a, b) => a - b);
    console.log(`round ${round}, ${label}: step ${ms[1].toFixed(0)} ms (min ${ms[0].toFixed(0)})`);
  }
}
Object.values(allVariants)[0]();
const profile = await tf.profile(step);
const byKernel = new Map();
for (const k of profile.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0));
console.log(`tf.profile of one step (SIMD): ${[...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([name, ms]) => `${name} ${ms.toFixed(0)} ms`).join(', ')}`);
