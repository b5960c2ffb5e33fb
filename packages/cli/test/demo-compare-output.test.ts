// thfr demo and thfr compare check --out before the runtime starts (issue 14): a file, a foreign folder,
// another command's output and a parent of --weights are refused and left untouched; a new or empty folder,
// an earlier output of the same command (its marker) and a demo folder of a version without the marker
// are accepted; the marker is the first thing written, so an interrupted run is recognised next time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, refused } from './helpers/run-cli.js';

let root: string;



/** The --out check passed: the runtime starts and the next failure is the (unknown) backbone, opened after it. */
async function accepted(args: string[]): Promise<void> {
  const r = await cli(...args, '--backend', 'cpu', '--backbone', 'no-such-backbone');
  expect(r.code).toBe(1);
  expect(r.stderr, r.stderr).toContain("unknown backbone 'no-such-backbone'");
}

function folder(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

const snapshot = (dir: string) => readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'thfr-demo-compare-out-'));
  writeFileSync(join(root, 'notes.txt'), 'keep');
  folder('photos', { 'cat.jpg': 'x' });
  folder('weights-here', { 'w.safetensors': 'not really' });
  folder('empty', {});
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('thfr demo --out', () => {
  it('refuses a file, a foreign folder, a compare folder and a parent of --weights, leaving them untouched', async () => {
    await refused(['demo', '--out', join(root, 'notes.txt')], `--out ${join(root, 'notes.txt')} is a file, not a thfr demo output folder; it is never replaced`);
    expect(readFileSync(join(root, 'notes.txt'), 'utf8')).toBe('keep');
    const photos = snapshot(join(root, 'photos'));
    await refused(['demo', '--out', join(root, 'photos')], "is not a thfr demo output folder (no thfr-demo.json with format 'thfr-demo'; it holds cat.jpg)");
    expect(snapshot(join(root, 'photos'))).toEqual(photos);
    const compare = folder('a-compare', { 'compare.json': '{"rows":[]}' });
    await refused(['demo', '--out', compare], 'is not a thfr demo output folder');
    await refused(['demo', '--out', join(root, 'weights-here'), '--backbone', 'resnet18', '--weights', join(root, 'weights-here', 'w.safetensors')], 'contains --weights');
    // A folder whose metrics.json is not a demo summary is not mistaken for an earlier demo.
    await refused(['demo', '--out', folder('eval-report', { 'metrics.json': '{"category":"x"}' })], 'is not a thfr demo output folder');
  });

  it('accepts a new path, an empty folder, an earlier demo folder, and one of a version without the marker', async () => {
    await accepted(['demo', '--out', join(root, 'new-demo')]);
    expect(existsSync(join(root, 'new-demo'))).toBe(false); // nothing is written before the backbone is open
    await accepted(['demo', '--out', join(root, 'empty')]);
    await accepted(['demo', '--out', folder('demo-1', { 'thfr-demo.json': JSON.stringify({ format: 'thfr-demo', version: 1 }), 'report.html': '<html>' })]);
    await accepted(['demo', '--out', folder('demo-0', { 'metrics.json': JSON.stringify({ report: '/x/runs/demo/report.html', metrics: [] }), 'report.html': '<html>' })]);
  });

  it('writes its marker before anything else, so an interrupted run is recognised as a demo folder', async () => {
    // An earlier (unmarked) demo folder whose data/ is a file: the run starts, writes the marker, then fails.
    const dir = folder('demo-interrupted', { 'metrics.json': JSON.stringify({ report: 'report.html', metrics: [] }), data: 'not a folder' });
    const r = await cli('demo', '--out', dir, '--backend', 'cpu', '--backbone', 'mobilenet_v2', '--categories', 'ad', '--train-count', '2', '--test-count', '2', '--quiet');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/ENOTDIR|EEXIST|not a directory/);
    expect(JSON.parse(readFileSync(join(dir, 'thfr-demo.json'), 'utf8'))).toMatchObject({ format: 'thfr-demo', version: 1 });
    expect(readFileSync(join(dir, 'data'), 'utf8')).toBe('not a folder');
  }, 120_000);
});

describe('thfr compare --out', () => {
  it('refuses a file, a foreign folder, a demo folder and a parent of --weights, leaving them untouched', async () => {
    await refused(['compare', '--out', join(root, 'notes.txt')], `--out ${join(root, 'notes.txt')} is a file, not a thfr compare output folder; it is never replaced`);
    expect(readFileSync(join(root, 'notes.txt'), 'utf8')).toBe('keep');
    const photos = snapshot(join(root, 'photos'));
    await refused(['compare', '--out', join(root, 'photos')], 'is not a thfr compare output folder (no compare.json; it holds cat.jpg)');
    expect(snapshot(join(root, 'photos'))).toEqual(photos);
    await refused(['compare', '--out', folder('a-demo', { 'thfr-demo.json': '{"format":"thfr-demo"}' })], 'is not a thfr compare output folder');
    await refused(['compare', '--out', join(root, 'weights-here'), '--backbone', 'resnet18', '--weights', join(root, 'weights-here', 'w.safetensors')], 'contains --weights');
  });

  it('accepts a new path, an empty folder and an earlier compare folder', async () => {
    await accepted(['compare', '--out', join(root, 'new-compare')]);
    expect(existsSync(join(root, 'new-compare'))).toBe(false);
    await accepted(['compare', '--out', join(root, 'empty')]);
    await accepted(['compare', '--out', folder('compare-1', { 'compare.json': '{"rows":[]}', 'compare.md': '|' })]);
  });

  it('writes compare.json before anything else, so an interrupted run is recognised as a compare folder', async () => {
    const dir = folder('compare-interrupted', { 'compare.json': '{"old":true}', data: 'not a folder' });
    const r = await cli('compare', '--out', dir, '--backend', 'cpu', '--backbone', 'mobilenet_v2', '--categories', 'ad', '--methods', 'patchcore', '--train-count', '2', '--test-count', '2', '--quiet');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/ENOTDIR|EEXIST|not a directory/);
    const summary = JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8'));
    expect(summary).toMatchObject({ rows: [], trainCount: 2, testCount: 2 });
    expect(summary.old).toBeUndefined();
  }, 120_000);

  it('skips an ablation that the preset already is, without training it', async () => {
    const dir = join(root, 'compare-skip');
    // The paper preset has the relation, so the 'with relation' row would retrain the G-L row.
    const r = await cli('compare', '--out', dir, '--config', 'paper', '--backend', 'cpu', '--backbone', 'mobilenet_v2', '--categories', 'ad', '--methods', 'thfr-relation', '--train-count', '2', '--test-count', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('--- THFR G-L with relation: skipped, the same configuration as THFR G-L (bank 100%)');
    expect(r.stderr).not.toMatch(/training \d/);
    expect(JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8')).rows).toEqual([]);
  }, 120_000);
});
