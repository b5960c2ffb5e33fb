// Fault injection: a child process saving a model folder is SIGKILLed at every step of the save (the
// THFR_FAULT_KILL_AT hook) and at random moments; after each kill the folder must hold the previous
// complete model or the new complete one (after the recovery every load and save runs first), and no
// leftover of the killed save may remain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { recoverInterruptedSave, writeFolderAtomically } from '../src/node.js';
import { MODEL_OUTPUT } from '../src/node.js';
import { readModelManifest } from '../src/node.js';
import { folderFiles } from './helpers/save-child.js';

let root: string;
let childScript: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'thfr-fault-'));
  childScript = join(root, 'save-child.mjs');
  await build({ entryPoints: [join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'save-child.ts')], bundle: true, platform: 'node', format: 'esm', outfile: childScript, logLevel: 'silent' });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The label of the complete folder at `dir` (every file present with its size and checksum), or null if there is none. */
async function completeLabel(dir: string): Promise<string | null> {
  if (!existsSync(dir)) return null;
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  for (const ref of [manifest.weights, ...manifest.extraFiles]) {
    const bytes = await readFile(join(dir, ref.path));
    expect(bytes.byteLength, `${dir}/${ref.path}`).toBe(ref.bytes);
    expect(createHash('sha256').update(bytes).digest('hex'), `${dir}/${ref.path}`).toBe(ref.sha256);
  }
  return manifest.label;
}

async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dirname(dir))).filter((n) => n.startsWith('.model.'));
}

function runChild(dir: string, label: string, env: Record<string, string>): Promise<NodeJS.Signals | null> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [childScript, dir, label], { env: { ...process.env, ...env }, stdio: 'ignore' });
    child.on('error', fail);
    child.on('exit', (_code, signal) => done(signal));
  });
}

/** Kill points in save order, and which model a kill there leaves once recovered. */
const STEPS: Array<[string, 'A' | 'B']> = [
  ['temp-created', 'A'], ['file-written:1', 'A'], ['file-written:3', 'A'], ['temp-complete', 'A'],
  ['previous-moved-aside', 'A'], ['new-in-place', 'B'], ['previous-removed', 'B'],
];

describe('crash-safe saves', () => {
  it('a save killed at every step leaves the previous or the new complete model, and recovery removes every leftover', async () => {
    for (const [step, expected] of STEPS) {
      const dir = join(root, step.replace(':', '-'), 'model');
      await mkdir(dirname(dir), { recursive: true });
      await writeFolderAtomically(dir, folderFiles('A'), { kind: MODEL_OUTPUT });
      const signal = await runChild(dir, 'B', { THFR_FAULT_KILL_AT: step });
      expect(signal, step).toBe('SIGKILL');
      const before = await completeLabel(dir);
      // Only between the two renames is the target missing; then the previous model waits beside it.
      if (step === 'previous-moved-aside') expect(before, step).toBeNull();
      else expect(before, step).toBe(expected);
      // Loading recovers (readModelManifest runs recoverInterruptedSave first and checks the listed files).
      const manifest = (await readModelManifest(dir)) as unknown as { label: string };
      expect(manifest.label, step).toBe(expected);
      expect(await completeLabel(dir), step).toBe(expected);
      expect(await leftovers(dir), step).toEqual([]);
    }
  });

  it('a first save killed at any step leaves nothing or the complete new model, and the next save succeeds', async () => {
    // Without a previous folder there is nothing to move aside: that step is never reached.
    for (const [step] of STEPS.filter(([s]) => s !== 'previous-moved-aside')) {
      const dir = join(root, `first-${step.replace(':', '-')}`, 'model');
      await mkdir(dirname(dir), { recursive: true });
      expect(await runChild(dir, 'B', { THFR_FAULT_KILL_AT: step }), step).toBe('SIGKILL');
      await recoverInterruptedSave(dir);
      const label = await completeLabel(dir);
      expect(label === null || label === 'B', `${step}: ${label}`).toBe(true);
      expect(await leftovers(dir), step).toEqual([]);
      await writeFolderAtomically(dir, folderFiles('A'), { kind: MODEL_OUTPUT });
      expect(await completeLabel(dir), step).toBe('A');
    }
  });

  it('a child saving in a loop and SIGKILLed at random moments always leaves a complete model', async () => {
    const dir = join(root, 'random', 'model');
    await mkdir(dirname(dir), { recursive: true });
    await writeFolderAtomically(dir, folderFiles('A'), { kind: MODEL_OUTPUT });
    const seen = new Set<string>();
    let seed = 12345;
    for (let round = 0; round < 30; round++) {
      // Each round starts from model A, so that a kill before the child's first complete save shows A and a later
      // one shows B, whatever the machine's load (a loaded machine once made every round see only B).
      await writeFolderAtomically(dir, folderFiles('A'), { kind: MODEL_OUTPUT });
      const child = spawn(process.execPath, [childScript, dir, 'loop'], { env: { ...process.env, LOOP: '1' }, stdio: ['ignore', 'pipe', 'ignore'] });
      await new Promise<void>((ready) => child.stdout!.once('data', () => ready()));
      seed = (seed * 1103515245 + 12345) >>> 0;
      await new Promise((r) => setTimeout(r, 2 + (seed % 60)));
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGKILL');
      await exited;
      await recoverInterruptedSave(dir);
      const label = await completeLabel(dir);
      expect(label === 'A' || label === 'B', `round ${round}: ${label}`).toBe(true);
      seen.add(label!);
      expect(await leftovers(dir), `round ${round}`).toEqual([]);
    }
    // The kills landed while saves were running (both versions were seen), not only before the first one.
    expect([...seen].sort()).toEqual(['A', 'B']);
  });
});
