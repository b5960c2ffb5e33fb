// Sums the vitest JSON reports of every package (written by vitest.shared.ts) into one line:
// "Tests: N passed, N failed, N skipped". Exits 1 if a package that has tests wrote no report.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0, failed = 0, skipped = 0;
const missing = [];
for (const root of ['packages', 'examples']) {
  if (!existsSync(root)) continue;
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (!pkg.scripts?.test) continue;
    const report = join(dir, 'test-results', 'vitest.json');
    if (!existsSync(report)) { missing.push(dir); continue; }
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed += r.numPassedTests ?? 0;
    failed += r.numFailedTests ?? 0;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    if (r.success === false && !r.numFailedTests) { failed += 1; console.log(`${dir}: a test file failed to run`); }
  }
}
for (const dir of missing) console.log(`${dir}: no test report (did its tests run?)`);
console.log(`Tests: ${passed} passed, ${failed + missing.length} failed, ${skipped} skipped`);
process.exit(failed + missing.length > 0 ? 1 : 0);
