// Generator and PNG-writing speed. Run after a build: `npx tsc -p tsconfig.build.json && node bench/synthetic-speed.mjs`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSyntheticCategory } from '../dist/index.js';

const writeModule = await import('../dist/node.js').catch(() => undefined);
for (const kind of ['ad', 'loco']) {
  const opts = { kind, seed: 1, trainCount: 100, testCount: 100, validationCount: kind === 'loco' ? 0 : undefined, size: 256 };
  let t = performance.now();
  const cpu0 = process.cpuUsage();
  const cat = generateSyntheticCategory(opts);
  const genMs = performance.now() - t;
  const cpuS = (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6;
  const images = cat.train.length + cat.test.length;
  // CPU time is printed too: on a shared machine wall time mostly measures the other jobs.
  console.log(`${kind}: generated ${images} images 256x256 in memory in ${(genMs / 1000).toFixed(2)} s wall, ${cpuS.toFixed(2)} s CPU (${(genMs / images).toFixed(1)} ms/image)`);
  if (writeModule) {
    const dir = mkdtempSync(join(tmpdir(), 'thfr-bench-'));
    t = performance.now();
    const cpu1 = process.cpuUsage();
    await writeModule.writeSyntheticCategory(dir, opts);
    const writeMs = performance.now() - t;
    const cpuW = (process.cpuUsage(cpu1).user + process.cpuUsage(cpu1).system) / 1e6;
    console.log(`${kind}: generated + wrote ${images} PNGs (+ masks) in ${(writeMs / 1000).toFixed(2)} s wall, ${cpuW.toFixed(2)} s CPU`);
    t = performance.now();
    const loaded = await writeModule.loadCategory(join(dir, cat.name), { imageSize: 224 });
    console.log(`${kind}: loaded back ${loaded.train.length + loaded.test.length} images (resized to 224) in ${((performance.now() - t) / 1000).toFixed(2)} s`);
    rmSync(dir, { recursive: true, force: true });
  }
}
