// Time per image in headless Chromium on wasm, with the backbone and the network on onnxruntime-web
// (?features=onnx) and on tfjs-backend-wasm (?features=tfjs), for the fast (128 px) and default (256 px) presets.
// Prints a table; asserts only that both paths give the same score. One browser at a time, so the two do not
// share the cores. Run: npx vitest run --config vitest.bench.config.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../test/helpers/chromium.js';
import { serveStatic } from '../test/helpers/static-server.js';
import { trainFixtureModel } from '../test/helpers/trained-model.js';
import { buildApp } from '../test/helpers/build-app.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPEATS = Number(process.env.THFR_BENCH_REPEATS ?? 7);

interface Timing { features: string; networksOn: string; readyMs: number; warmupMs: number; medianMs: number; minMs: number; score: number }

describe.skipIf(!chromiumAvailable())('browser speed: onnxruntime-web against tfjs-backend-wasm', () => {
  const work = mkdtempSync(join(tmpdir(), 'thfr-browser-bench-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('prints the time per image of both feature runtimes', async () => {
    await buildApp(packageDir, join(work, 'app'));
    const rows: string[] = [];
    for (const config of ['fast', 'default'] as const) {
      // One epoch: the timings do not depend on how well the model detects.
      const fixture = await trainFixtureModel(join(work, config), { trainCount: 8, epochs: 1, config });
      const server = await serveStatic({ '/': join(work, 'app'), '/model/': fixture.modelDir });
      const timings: Timing[] = [];
      try {
        for (const features of ['onnx', 'tfjs']) {
          const session = await launchChromium({ webgpu: false });
          try {
            const { page } = session;
            const started = performance.now();
            await page.goto(`${server.url}?backend=wasm&features=${features}`);
            await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.status ?? ''), undefined, { timeout: 300_000 });
            expect(await page.evaluate(() => document.body.dataset.status), `${await page.textContent('#status')}\n${session.log.join('\n')}`).toBe('ready');
            const readyMs = performance.now() - started;
            const times: number[] = [];
            let score = Number.NaN;
            for (let i = 1; i <= REPEATS; i++) {
              await page.setInputFiles('#file', fixture.anomalousImage);
              await page.waitForFunction((want) => (globalThis as unknown as { thfrExample: { lastResult?: { id: number } } }).thfrExample.lastResult?.id === want || document.body.dataset.status === 'error', i, { timeout: 120_000 });
              const result = await page.evaluate(() => {
                const r = (globalThis as unknown as { thfrExample: { lastResult: { score: number; timings: { inferenceMs: number } } } }).thfrExample.lastResult;
                return { score: r.score, ms: r.timings.inferenceMs };
              });
              times.push(result.ms);
              score = result.score;
            }
            const info = await page.evaluate(() => (globalThis as unknown as { thfrExample: { warmupMs: number; networksOn: string } }).thfrExample);
            times.sort((a, b) => a - b);
            timings.push({ features, networksOn: info.networksOn, readyMs, warmupMs: info.warmupMs, medianMs: times[Math.floor(times.length / 2)], minMs: times[0], score });
          } finally {
            await session.close();
          }
        }
      } finally {
        await server.close();
      }
      const [onnx, tfjs] = timings;
      expect(Math.abs(onnx.score - tfjs.score) / Math.abs(tfjs.score)).toBeLessThan(1e-4);
      for (const t of timings) {
        rows.push(`| ${config} | ${t.networksOn} | ${t.medianMs.toFixed(0)} ms (min ${t.minMs.toFixed(0)}) | ${(t.readyMs / 1000).toFixed(1)} s | ${t.warmupMs.toFixed(0)} ms | ${t === onnx ? `**${(tfjs.medianMs / onnx.medianMs).toFixed(2)}x**` : '1x'} |`);
      }
    }
    console.log(['| preset | networks on | time per image (median of ' + REPEATS + ') | page ready | warm-up | speed vs tfjs |', '|---|---|---|---|---|---|', ...rows].join('\n'));
  });
});
