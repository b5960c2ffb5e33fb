// conv2d 3x3 'same' stride 1: forward and forward+backward time per backend, in GFLOP/s.
// Run after building (npx tsc -p tsconfig.build.json in runtime-common and runtime-node):
//   node bench/conv.mjs [wasm,cpu,webgpu]
// webgpu without a GPU uses SwiftShader (VK_ICD_FILENAMES is set here if the driver file exists).
// Shapes: wasm B1 64x64x256->256 (the LBN/decoder size); cpu and webgpu-on-SwiftShader a small one,
// since they run at ~1 GFLOP/s or less.
import { existsSync } from 'node:fs';
import { tf } from '@thfr/tensor';
import { initRuntime, formatBackendDescription } from '../dist/index.js';

const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(icd)) process.env.VK_ICD_FILENAMES = icd;
const backends = (process.argv[2] ?? 'wasm,cpu,webgpu').split(',');
const shapes = {
  wasm: [[1, 64, 64, 256, 256], [1, 32, 32, 512, 512]],
  cpu: [[1, 16, 16, 32, 32]],
  webgpu: [[1, 16, 16, 64, 64]],
};

async function timeIt(fn, repeats) {
  const run = async () => {
    const out = fn();
    await (Array.isArray(out) ? out[0] : out).data();
    tf.dispose(out);
  };
  await run(); // warm-up: shader compilation, weight packing
  const t0 = performance.now();
  for (let i = 0; i < repeats; i++) await run();
  return (performance.now() - t0) / repeats;
}

for (const name of backends) {
  let runtime;
  try {
    runtime = await initRuntime({ prefer: [name], dawnOptions: process.env.VK_ICD_FILENAMES ? ['backend=vulkan'] : [] });
  } catch (error) {
    console.log(`${name}: unavailable (${error.message.split('\n').slice(0, 2).join(' ')})`);
    continue;
  }
  console.log(formatBackendDescription(runtime.description));
  for (const [b, h, w, cin, cout] of shapes[name] ?? shapes.cpu) {
    const x = tf.randomUniform([b, h, w, cin], -1, 1);
    const k = tf.randomUniform([3, 3, cin, cout], -0.1, 0.1);
    const dy = tf.randomUniform([b, h, w, cout], -1, 1);
    const gflop = (2 * b * h * w * 9 * cin * cout) / 1e9;
    const repeats = name === 'cpu' ? 1 : 3;
    const fwd = await timeIt(() => tf.conv2d(x, k, 1, 'same'), repeats);
    // tf.grads runs the forward conv once, then both backprop kernels.
    const both = await timeIt(() => tf.grads((a, c) => tf.conv2d(a, c, 1, 'same'))([x, k], dy), repeats);
    console.log(
      `  conv3x3 B${b} ${h}x${w}x${cin}->${cout}: forward ${fwd.toFixed(1)} ms (${(gflop / fwd * 1e3).toFixed(1)} GFLOP/s), ` +
      `forward+backward ${both.toFixed(1)} ms (${(3 * gflop / both * 1e3).toFixed(1)} GFLOP/s)`,
    );
    tf.dispose([x, k, dy]);
  }
}
process.exit(0);
