// The model packages run unchanged in a browser: their browser entry points bundle with esbuild for
// platform 'browser' without a single Node-only module in the graph.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleForBrowser } from './helpers/browser-bundle.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const rootDir = join(packageDir, '..', '..');
const BROWSER_PACKAGES = ['tensor', 'runtime-web', 'backbone', 'backbone-onnx', 'restoration-onnx', 'model', 'postprocess', 'template-bank', 'data', 'metrics'];
// Every namespace is kept alive, so nothing is tree-shaken out of the check.
const entry = BROWSER_PACKAGES.map((name, i) => `import * as p${i} from '@thfr/${name}';`).join('\n') +
  `\nexport const packages = [${BROWSER_PACKAGES.map((_, i) => `p${i}`).join(', ')}];\n`;

const NODE_ENTRY = /packages\/[^/]+\/(src\/node\.ts|dist\/node\.js)$/;
const TFJS_BACKENDS = ['tfjs-backend-webgpu', 'tfjs-backend-webgl', 'tfjs-backend-wasm', 'tfjs-backend-cpu'];

async function expectBrowserSafe(conditions: string[] | undefined) {
  const report = await bundleForBrowser(entry, { resolveDir: packageDir, rootDir, conditions });
  expect(report.violations, `Node-only imports:\n${report.violations.map((v) => `${v.module} <- ${v.importer}`).join('\n')}`).toEqual([]);
  expect(report.errors).toEqual([]);
  expect(report.inputs.filter((f) => NODE_ENTRY.test(f))).toEqual([]);
  // runtime-web's dynamic imports were followed: every backend is in the graph, and nothing Node-only came with them.
  for (const backend of TFJS_BACKENDS) expect(report.inputs.some((f) => f.includes(`/${backend}/`)), backend).toBe(true);
  // Only third-party Node branches (tfjs, seedrandom), which their package.json "browser" fields replace
  // with nothing; thfr's own packages import no built-in at all.
  for (const d of report.disabledByBrowserField) expect(d.importer).toMatch(/^node_modules\//);
  return report;
}

describe('browser entry points bundle without Node-only modules', () => {
  it('from the workspace TypeScript sources (the "source" export condition)', async () => {
    const report = await expectBrowserSafe(['source']);
    const disabled = [...new Set(report.disabledByBrowserField.map((d) => `${d.module} (${d.importer.replace(/.*node_modules\//, '')})`))].sort();
    console.log(`[bundle] sources: ${report.inputs.length} modules, ${(report.outputBytes / 1e6).toFixed(1)} MB; Node built-ins that third-party "browser" fields replace with nothing: ${disabled.join(', ') || 'none'}`);
  });

  const missingDist = BROWSER_PACKAGES.filter((name) => !existsSync(join(rootDir, 'packages', name, 'dist', 'index.js')));
  if (missingDist.length) console.warn(`[bundle] the dist/ check is skipped: no build of ${missingDist.join(', ')} (run pnpm build)`);
  it.skipIf(missingDist.length > 0)('from the published builds (dist/)', async () => {
    const report = await expectBrowserSafe(undefined);
    console.log(`[bundle] dist: ${report.inputs.length} modules, ${(report.outputBytes / 1e6).toFixed(1)} MB`);
  });

  it('reports a Node-only entry point (the guard itself works)', async () => {
    const report = await bundleForBrowser(`export * from '@thfr/data/node';`, { resolveDir: packageDir, rootDir, conditions: ['source'] });
    expect(report.violations.map((v) => v.module)).toEqual(expect.arrayContaining(['node:fs/promises', 'node:path']));
    expect(report.errors.some((e) => e.includes("Node-only module 'node:fs/promises'"))).toBe(true);
  });
});
