// A/B of the fused cosine distance (@thfr/runtime-common's registerCosineDistanceKernels) against the tfjs ops it
// replaces, on wasm, in one process by turns: the anomaly map of one 256 px inference (three levels of the ResNet-50
// default) and the restoration loss of a training step (batch 4, forward + backward). Build first, then from the repo:
//   node packages/cli/bench/cosine-kernels-ab.mjs [rounds=3]
import { tf, THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD } from '@thfr/tensor';
import { initRuntime } from '@thfr/runtime-node';
import { registerCosineDistanceKernels } from '@thfr/runtime-common';
import { registerOrtKernels } from '@thfr/ort-kernels';
import { anomalyMap } from '@thfr/postprocess';
import { restorationLoss } from '@thfr/restoration';

const rounds = Number(process.argv[2] ?? 3);
await initRuntime({ prefer: ['wasm'] });
try {
  registerOrtKernels(); // as `thfr` runs on wasm: matMul (the map's blur) on onnxruntime-node when it loads
} catch {
  // wasm only
}
const levels = (batch) => [[batch, 64, 64, 256], [batch, 32, 32, 512], [batch, 16, 16, 1024]];
const make = (batch, seed) => levels(batch).map((s, i) => tf.randomUniform(s, 0, 1, 'float32', seed + i));
const inference = { features: make(1, 0), restored: make(1, 10) };
const training = { features: make(4, 20), restored: make(4, 30) };
const lossGradient = tf.grads((...restored) => restorationLoss(training.features, restored, 'flattened'));
const work = {
  'anomaly map, batch 1': async () => {
    const map = anomalyMap(inference.features, inference.restored, { outputSize: 256, sigma: 4 });
    await map.scores.data();
    tf.dispose([map.map, map.scores, ...map.levelMaps]);
  },
  "restoration loss ('flattened', the default) forward + backward, batch 4": async () => {
    const gradients = lossGradient(training.restored);
    await gradients[0].data();
    tf.dispose(gradients);
  },
};
const median = async (fn) => {
  await fn();
  const ms = [];
  for (let i = 0; i < 9; i++) {
    const start = performance.now();
    await fn();
    ms.push(performance.now() - start);
  }
  return ms.sort((a, b) => a - b)[4];
};
const fused = (on) => {
  if (on) registerCosineDistanceKernels('wasm');
  else for (const name of [THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD]) if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
};
for (let round = 1; round <= rounds; round++) {
  for (const [label, fn] of Object.entries(work)) {
    fused(true);
    const a = await median(fn);
    fused(false);
    const b = await median(fn);
    console.log(`round ${round}, ${label}: fused ${a.toFixed(1)} ms, tfjs ops ${b.toFixed(1)} ms (${(b / a).toFixed(1)}x)`);
  }
}
process.exit(0);
