/**
 * Registers one vitest test per op case for a backend, prints the coverage table and, when
 * THFR_WRITE_BACKENDS_DOC=1, writes this backend's section of docs/backends.md.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { OP_CASES, compareCase, coverageTable, formatComparison } from './op-suite.js';
import type { CaseComparison } from './op-suite.js';

const docPath = fileURLToPath(new URL('../../../docs/backends.md', import.meta.url));

function writeDocSection(backend: string, body: string): void {
  const begin = `<!-- op-suite:${backend}:begin -->`;
  const end = `<!-- op-suite:${backend}:end -->`;
  const text = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '# Backends\n';
  const section = `${begin}\n${body}\n${end}`;
  const at = text.indexOf(begin);
  const next = at >= 0 ? text.slice(0, at) + section + text.slice(text.indexOf(end) + end.length) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(docPath, next);
}

/** `skipReason` returns why the backend is unavailable (the tests are then skipped), or undefined. */
export function defineOpSuite(backend: () => string, label: string, skipReason: () => string | undefined = () => undefined): void {
  const results: CaseComparison[] = [];
  for (const c of OP_CASES) {
    it(`${c.name} matches cpu (rtol ${c.rtol})`, async (ctx) => {
      const reason = skipReason();
      if (reason) return ctx.skip(reason);
      const r = await compareCase(c, backend());
      results.push(r);
      console.log(formatComparison(r));
      expect(r.missing, `kernels missing on ${backend()}`).toEqual([]);
      expect(r.ok, r.error).toBe(true);
    });
  }
  it('prints the kernel coverage table', (ctx) => {
    const reason = skipReason();
    if (reason) return ctx.skip(reason);
    const table = coverageTable([backend()]);
    console.log(`Kernel coverage of ${label}:\n${table}`);
    if (process.env.THFR_WRITE_BACKENDS_DOC === '1') {
      const errors = results.map((r) => `| ${r.case} | ${r.ok ? 'ok' : 'FAIL'} | ${r.worst.maxRel.toExponential(2)} (${r.worst.output || '-'}) |`);
      writeDocSection(backend(), `## ${label}\n\n${table}\n\nAgreement with the cpu backend (max |a - e| / max |e| over each case's outputs):\n\n| case | result | worst relative error |\n|---|---|---|\n${errors.join('\n')}`);
    }
    expect(table).toContain('|');
  });
}
