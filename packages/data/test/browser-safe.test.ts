import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');
const NODE_ONLY = /^(node:|fs$|fs\/|path$|os$|zlib$|stream$|buffer$|pngjs$)/;

/** Every module specifier reachable from `entry` through relative imports. */
function reachableImports(entry: string): { files: Set<string>; external: Set<string> } {
  const files = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(join(SRC, file), 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('./')) visit(spec.slice(2).replace(/\.js$/, '.ts'));
      else external.add(spec);
    }
  };
  visit(entry);
  return { files, external };
}

describe('the main entry is browser-safe', () => {
  it('imports nothing Node-only, directly or transitively', () => {
    const { files, external } = reachableImports('index.ts');
    expect(files.has('png-decode.ts')).toBe(true);
    expect([...external].filter((s) => NODE_ONLY.test(s))).toEqual([]);
    expect([...external].sort()).toEqual(['@thfr/detector/random', 'fflate', 'jpeg-js']);
  });

  it('the node entry does reach the file system (sanity check of the scanner)', () => {
    const { external } = reachableImports('node.ts');
    expect([...external].some((s) => NODE_ONLY.test(s))).toBe(true);
  });
});
