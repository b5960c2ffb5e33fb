// wasm backend, 1 vs N threads (tfjs' threaded SIMD build on worker_threads, see src/wasm-threads.ts).
// Run after building (npx tsc -p tsconfig.build.json in runtime-common and runtime-node):
//   node bench/wasm-threads.mjs [threads...]        e.g. node bench/wasm-threads.mjs 1 2 1 2
// Each thread count runs in its own child process, in the order given (repeat them to interleave).
// Cases: conv2d 3x3 'same' B8 64x64x256->256 forward; the same conv forward+backward (tf.grads, both
// gradients, thfr's composed wasm kernels); a small training step (two 3x3 convs + relu, B8 32x32x64,
// mean-square loss, Adam through optimizer.minimize). Prints median wall ms and the process CPU ms
// (user+system, all threads) per run; CPU/wall near N means the N threads really ran in parallel. On Linux it
// also prints the CPU time of each busy thread of the process over the whole child run (/proc/self/task):
// with N threads the work is shared by N threads whether or not free cores let them overlap.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args[0] !== '--child') {
  const counts = args.length > 0 ? args : ['1', '2', '1', '2'];
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const n of counts) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', n], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  process.exit(0);
}

const { existsSync, readdirSync, readFileSync } = await import('node:fs');
const threadTicks = () =>
  existsSync('/proc/self/task')
    ? Object.fromEntries(readdirSync('/proc/self/task').map((t) => {
        const f = readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1].split(' ');
        return [t, Number(f[11]) + Number(f[12])]; // utime + stime, in clock ticks (10 ms)
      }))
    : {};
const { tf } = await import('@thfr/tensor');
const { initRuntime } = await import('../dist/index.js');
const threads = Number(args[1]);
const runtime = await initRuntime({ prefer: ['wasm'], threads });
const repeats = Number(process.env.BENCH_REPEATS ?? 5);

async function measure(fn) {
  const once = async () => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = fn();
    const list = Array.isArray(out) ? out : [out];
    await Promise.all(list.map((t) => t.data()));
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    tf.dispose(out);
    return { wall, cpu: (c.user + c.system) / 1e3 };
  };
  await once(); // warm-up: XNNPACK packs weights, heap grows
  const runs = [];
  for (let i = 0; i < repeats; i++) runs.push(await once());
  runs.sort((a, b) => a.wall - b.wall);
  return runs[Math.floor(runs.length / 2)];
}
const fmt = (r, gflop) => `${r.wall.toFixed(0)} ms${gflop ? ` (${(gflop / r.wall * 1e3).toFixed(1)} GFLOP/s)` : ''}, cpu ${r.cpu.toFixed(0)} ms (x${(r.cpu / r.wall).toFixed(2)})`;

const ticksBefore = threadTicks();
const [b, h, w, cin, cout] = [8, 64, 64, 256, 256];
const x = tf.randomUniform([b, h, w, cin], -1, 1, 'float32', 1);
const k = tf.randomUniform([3, 3, cin, cout], -0.1, 0.1, 'float32', 2);
const dy = tf.randomUniform([b, h, w, cout], -1, 1, 'float32', 3);
const gflop = (2 * b * h * w * 9 * cin * cout) / 1e9;
const fwd = await measure(() => tf.conv2d(x, k, 1, 'same'));
const both = await measure(() => tf.grads((a, c) => tf.conv2d(a, c, 1, 'same'))([x, k], dy));
tf.dispose([x, k, dy]);

const sx = tf.randomUniform([8, 32, 32, 64], -1, 1, 'float32', 4);
const w1 = tf.variable(tf.randomUniform([3, 3, 64, 64], -0.05, 0.05, 'float32', 5));
const w2 = tf.variable(tf.randomUniform([3, 3, 64, 64], -0.05, 0.05, 'float32', 6));
const opt = tf.train.adam(1e-3);
const step = await measure(() =>
  opt.minimize(() => tf.mean(tf.square(tf.conv2d(tf.relu(tf.conv2d(sx, w1, 1, 'same')), w2, 1, 'same'))), true, [w1, w2]),
);
const ticksAfter = threadTicks();
const busy = Object.entries(ticksAfter).map(([t, v]) => (v - (ticksBefore[t] ?? 0)) * 10).filter((ms) => ms >= 500).sort((p, q) => q - p);
console.log(
  `threads=${runtime.description.details.threads} (asked ${threads}): busy threads ${busy.length} (cpu ${busy.join(' + ')} ms); conv3x3 B8 64x64x256->256 forward ${fmt(fwd, gflop)}; ` +
    `forward+backward ${fmt(both, 3 * gflop)}; train step (2 convs B8 32x32x64, Adam) ${fmt(step)}`,
);
process.exit(0);
