// FusedAdam's update alone on 18.7 M parameters (the default network's size, in 11 variables), with the one-kernel
// THFR_ADAM_STEP and with the element-wise ops, alternated in one process: median of 5 updates each, two rounds. How
// initRuntime's choice of backends for the kernel was made (docs/backends.md, "Multi-output kernels on WebGPU").
//   node packages/cli/scripts/adam-step-timing.mjs wasm|cpu      (after `pnpm build`)
import { tf } from '@thfr/tensor';
import { initRuntime } from '@thfr/runtime-node';
import { registerAdamStep } from '@thfr/runtime-common';
import { FusedAdam } from '@thfr/nn';
const backend = process.argv[2] ?? 'wasm';
await initRuntime({ prefer: [backend] });
const sizes = [2359296, 589824, 1048576, 4194304, 2359296, 2359296, 1048576, 4718592, 256, 512, 1024];
const vars = sizes.map((n, i) => tf.variable(tf.randomUniform([n], -1, 1, 'float32', i)));
const grads = Object.fromEntries(vars.map((v, i) => [v.name, tf.randomUniform([v.size], -1, 1, 'float32', 50 + i)]));
const total = sizes.reduce((a, b) => a + b);
const time = async (kernel) => {
  if (kernel) registerAdamStep(backend); else tf.unregisterKernel('ThfrAdamStep', backend);
  const opt = new FusedAdam(vars, { stepKernel: kernel });
  opt.applyGradients(grads); await vars[0].data();
  const t = [];
  for (let i = 0; i < 5; i++) { const s = performance.now(); opt.applyGradients(grads); await vars[0].data(); t.push(performance.now() - s); }
  opt.dispose();
  return t.sort((a, b) => a - b)[2];
};
for (let r = 0; r < 2; r++) {
  const k = await time(true), o = await time(false);
  console.log(`${backend}, ${(total / 1e6).toFixed(1)} M parameters: THFR_ADAM_STEP ${k.toFixed(0)} ms, element-wise ops ${o.toFixed(0)} ms (${(o / k).toFixed(2)}x)`);
}
