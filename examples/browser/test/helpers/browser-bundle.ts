// Bundles modules for the browser with esbuild and reports every Node-only module in the graph. A Node
// built-in (fs, path, crypto, node:*, ...) fails the build, unless the importing package's own
// package.json "browser" field replaces it with nothing (the documented way for a package to say the
// import only runs under Node, e.g. Emscripten glue in tfjs-backend-wasm).
import { existsSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';

export interface BuiltinImport {
  module: string;
  importer: string;
}

export interface BrowserBundleReport {
  /** Node built-ins imported without a browser-field replacement: each one fails the build. */
  violations: BuiltinImport[];
  /** Node built-ins the importing package's "browser" field maps to false (allowed, listed for the record). */
  disabledByBrowserField: BuiltinImport[];
  /** esbuild's error messages (the violations among them), empty on success. */
  errors: string[];
  /** Every input file of the bundle, relative to `rootDir`. */
  inputs: string[];
  outputBytes: number;
}

function nearestPackageJson(file: string): Record<string, unknown> | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) return JSON.parse(readFileSync(candidate, 'utf8')) as Record<string, unknown>;
    if (dirname(dir) === dir) return undefined;
  }
}

function browserFieldDisables(importer: string, module: string): boolean {
  const browser = nearestPackageJson(importer)?.browser;
  if (browser === null || typeof browser !== 'object') return false;
  const map = browser as Record<string, unknown>;
  return map[module] === false || map[module.replace(/^node:/, '')] === false;
}

function nodeBuiltinGuard(report: Pick<BrowserBundleReport, 'violations' | 'disabledByBrowserField'>, rootDir: string): Plugin {
  return {
    name: 'no-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!isBuiltin(args.path)) return undefined;
        const entry = { module: args.path, importer: relative(rootDir, args.importer) };
        if (browserFieldDisables(args.importer, args.path)) {
          report.disabledByBrowserField.push(entry);
          return undefined; // esbuild applies the browser field: an empty module
        }
        report.violations.push(entry);
        return { errors: [{ text: `Node-only module '${args.path}' imported by ${entry.importer}` }] };
      });
    },
  };
}

/**
 * Bundles `source` (an ES module's text, resolved from `resolveDir`) for browsers, following dynamic
 * imports, with the given export conditions (e.g. ['source'] for the workspace's TypeScript sources).
 */
export async function bundleForBrowser(source: string, options: { resolveDir: string; rootDir: string; conditions?: string[] }): Promise<BrowserBundleReport> {
  const report: BrowserBundleReport = { violations: [], disabledByBrowserField: [], errors: [], inputs: [], outputBytes: 0 };
  let metafile: Metafile | undefined;
  try {
    const result = await build({
      stdin: { contents: source, resolveDir: options.resolveDir, loader: 'ts', sourcefile: 'browser-entry.ts' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      splitting: true,
      outdir: join(options.resolveDir, '.browser-bundle'),
      write: false,
      metafile: true,
      logLevel: 'silent',
      conditions: options.conditions,
      target: 'es2022',
      plugins: [nodeBuiltinGuard(report, options.rootDir)],
    });
    metafile = result.metafile;
    report.outputBytes = result.outputFiles.reduce((sum, f) => sum + f.contents.byteLength, 0);
  } catch (error) {
    const failure = error as { errors?: Array<{ text: string; location?: { file: string } | null }> };
    if (!failure.errors) throw error;
    report.errors = failure.errors.map((e) => (e.location ? `${e.location.file}: ${e.text}` : e.text));
  }
  report.inputs = Object.keys(metafile?.inputs ?? {});
  return report;
}
