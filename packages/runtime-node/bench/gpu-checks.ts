/**
 * Checks for an NVIDIA GPU host (WebGPU through Dawn, no SwiftShader): prints the backend and adapter,
 * runs the cross-backend op suite against the cpu backend, and times conv2d 3x3 forward+backward at
 * B16 64x64x256->256. Exits 1 if webgpu is not active or a case fails. Bundle and run:
 *   /work/shared/device/prepare.sh packages/runtime-node/bench/gpu-checks.ts      (from the repo root)
 *   bash .gpu/run.sh node .gpu/gpu-checks.mjs                                      (on the GPU host)
 * Dawn options may be given as arguments, e.g. `node .gpu/gpu-checks.mjs backend=vulkan`. Dry run here on
 * SwiftShader: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json GPU_CHECK_CONV=1,8,8,16,16 with backend=vulkan.
 */
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { initRuntime, formatBackendDescription } from '../src/index.js';
import { OP_CASES, compareCase, coverageTable, formatComparison } from '../test/op-suite.js';

// Never hang the device: the whole run must finish in a few minutes.
const deadline = setTimeout(() => {
  console.error('gpu-checks: time limit (240 s) reached, exiting');
  process.exit(2);
}, 240_000);

async function timeMs(fn: () => tf.Tensor | tf.Tensor[], repeats: number): Promise<number> {
  const run = async () => {
    const out = fn();
    await (Array.isArray(out) ? out[0] : out).data();
    tf.dispose(out);
  };
  await run();
  const t0 = performance.now();
  for (let i = 0; i < repeats; i++) await run();
  return (performance.now() - t0) / repeats;
}

async function main(): Promise<number> {
  const runtime = await initRuntime({ prefer: ['webgpu'], dawnOptions: process.argv.slice(2) }).catch((error: Error) => {
    console.error(`gpu-checks: webgpu unavailable: ${error.message}`);
    return null;
  });
  console.log(`tf.getBackend() = ${tf.getBackend()}`);
  if (runtime == null || tf.getBackend() !== 'webgpu') return 1;
  console.log(`backend: ${formatBackendDescription(runtime.description)}`);

  let failures = 0;
  for (const c of OP_CASES) {
    const r = await compareCase(c, 'webgpu', 'cpu');
    console.log(formatComparison(r));
    if (!r.ok) failures++;
  }
  console.log(`\nKernel coverage:\n${coverageTable(['webgpu'])}\n`);

  await tf.setBackend('webgpu');
  // GPU_CHECK_CONV=B,H,W,Cin,Cout shrinks the timing for a dry run on SwiftShader.
  const [b, h, w, cin, cout] = (process.env.GPU_CHECK_CONV ?? '16,64,64,256,256').split(',').map(Number);
  const x = tf.randomUniform([b, h, w, cin], -1, 1) as tf.Tensor4D;
  const k = tf.randomUniform([3, 3, cin, cout], -0.1, 0.1) as tf.Tensor4D;
  const dy = tf.randomUniform([b, h, w, cout], -1, 1) as tf.Tensor4D;
  const gflop = (2 * b * h * w * 9 * cin * cout) / 1e9;
  const fwd = await timeMs(() => tf.conv2d(x, k, 1, 'same'), 10);
  const both = await timeMs(() => tf.grads((a: tf.Tensor, c: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, c as tf.Tensor4D, 1, 'same'))([x, k], dy), 5);
  console.log(JSON.stringify({
    name: `conv3x3 B${b} ${h}x${w}x${cin}->${cout} webgpu`,
    forward_ms: +fwd.toFixed(2),
    forward_tflops: +(gflop / fwd).toFixed(2),
    forward_backward_ms: +both.toFixed(2),
    forward_backward_tflops: +((3 * gflop) / both).toFixed(2),
  }));
  tf.dispose([x, k, dy]);
  console.log(failures === 0 ? 'gpu-checks: all op cases match cpu' : `gpu-checks: ${failures} op case(s) FAILED`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => {
    clearTimeout(deadline);
    process.exit(code);
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
