// Scaffolds packages/<name> from the conventions in CONTRIBUTING.md.
// usage: node scripts/new-package.mjs <name> "<description>" [dep@range ...] [--dev dep@range ...] [--peer dep@range ...]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
const [name, description, ...rest] = process.argv.slice(2);
const dir = `packages/${name}`;
if (existsSync(`${dir}/package.json`)) { console.error(`${dir} exists`); process.exit(1); }
const deps = {}, dev = { '@tensorflow/tfjs-core': '4.22.0' }, peer = { '@tensorflow/tfjs-core': '^4.22.0' };
let target = deps;
for (const arg of rest) {
  if (arg === '--dev') { target = dev; continue; }
  if (arg === '--peer') { target = peer; continue; }
  const at = arg.lastIndexOf('@');
  target[arg.slice(0, at)] = arg.slice(at + 1);
}
mkdirSync(`${dir}/src`, { recursive: true }); mkdirSync(`${dir}/test`, { recursive: true });
const pkg = {
  name: `@thfr/${name}`, version: '0.1.0', description, license: 'MIT', type: 'module', sideEffects: false,
  exports: { '.': { types: './dist/index.d.ts', source: './src/index.ts', default: './dist/index.js' }, './package.json': './package.json' },
  main: './dist/index.js', types: './dist/index.d.ts', files: ['dist', 'src'],
  scripts: { build: 'tsc -p tsconfig.build.json', typecheck: 'tsc -p tsconfig.json --noEmit', test: 'vitest run', lint: 'publint --strict && attw --pack . --profile esm-only' },
  dependencies: deps, peerDependencies: peer, devDependencies: dev,
};
if (!Object.keys(deps).length) delete pkg.dependencies;
writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(`${dir}/tsconfig.json`, JSON.stringify({ extends: '../../tsconfig.dev.json', compilerOptions: { rootDir: '../..', noEmit: true, types: ['node'] }, include: ['src', 'test', 'bench'] }, null, 2) + '\n');
writeFileSync(`${dir}/tsconfig.build.json`, JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { rootDir: 'src', outDir: 'dist', types: [] }, include: ['src'] }, null, 2) + '\n');
writeFileSync(`${dir}/vitest.config.ts`, `import { defineConfig } from 'vitest/config';\nimport { thfrVitestDefaults } from '../../vitest.shared.js';\nexport default defineConfig(thfrVitestDefaults());\n`);
if (!existsSync(`${dir}/src/index.ts`)) writeFileSync(`${dir}/src/index.ts`, `export {};\n`);
console.log(`created ${dir}`);
