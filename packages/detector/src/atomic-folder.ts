/**
 * Crash-safe replacement of a whole folder (model, checkpoint). A save writes every file into a
 * sibling `.NAME.tmp-<owner>` and flushes it, then swaps in two renames: the previous folder to
 * `.NAME.old-<owner>`, the new one to NAME; then the old one is removed. A process killed at any point
 * leaves the previous complete folder or the new complete one at NAME, except between the two renames,
 * where the previous one waits in `.NAME.old-<owner>`: recoverInterruptedSave() puts it back, and every
 * save and load calls it first. Leftovers of dead processes (`<owner>` starts with their pid and the time)
 * are removed.
 *
 * Test hook: with THFR_FAULT_KILL_AT=<step> in the environment, the process SIGKILLs itself at that step
 * (see FAULT_STEPS); test/atomic-save.fault.test.ts uses it to check the guarantee at every step.
 */
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { checkOutputPath, type OutputKind } from './output-guard.js';

/** The points between the steps of a save, in order; `file-written` is reached after every file. */
export const FAULT_STEPS = ['temp-created', 'file-written', 'temp-complete', 'previous-moved-aside', 'new-in-place', 'previous-removed'] as const;
export type FaultStep = (typeof FAULT_STEPS)[number];

function faultPoint(step: FaultStep): void {
  const at = process.env.THFR_FAULT_KILL_AT;
  if (at === undefined || at === '') return;
  // 'file-written:2' kills after the second file; 'file-written' after the first.
  const [name, count] = at.split(':');
  if (name !== step) return;
  if (step === 'file-written') {
    fileCounter += 1;
    if (fileCounter < Number(count ?? 1)) return;
  }
  process.kill(process.pid, 'SIGKILL');
}
let fileCounter = 0;

const LEFTOVER = /^\.(.+)\.(tmp|old)-(\d+)-([0-9a-z]+)-([0-9a-z]+)$/;

interface Leftover {
  name: string;
  kind: 'tmp' | 'old';
  pid: number;
  time: number;
}

function parseLeftover(name: string, base: string): Leftover | undefined {
  const m = LEFTOVER.exec(name);
  if (!m || m[1] !== base) return undefined;
  return { name, kind: m[2] as 'tmp' | 'old', pid: Number(m[3]), time: parseInt(m[4], 36) };
}

/** A save takes seconds; a leftover older than this belongs to a dead process even if its pid was reused. */
const STALE_AFTER_MS = 60 * 60 * 1000;

function isAbandoned(leftover: Leftover): boolean {
  return Date.now() - leftover.time > STALE_AFTER_MS || !isAlive(leftover.pid);
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What recoverInterruptedSave did. */
export interface Recovery {
  /** The previous folder was put back at the target (a save was killed between its two renames). */
  restored: boolean;
  /** Leftover folders of dead processes that were removed. */
  removed: string[];
}

/**
 * Finishes what a killed save left: when the target is missing, the newest `.NAME.old-*` of a dead
 * process (the previous complete folder) is renamed back; other leftovers of dead processes are removed.
 * Leftovers of live processes (a save in progress) are left alone.
 */
export async function recoverInterruptedSave(dir: string): Promise<Recovery> {
  const target = resolve(dir);
  const parent = dirname(target);
  const recovery: Recovery = { restored: false, removed: [] };
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return recovery;
  }
  const stale = names.map((n) => parseLeftover(n, basename(target))).filter((l): l is Leftover => l !== undefined && isAbandoned(l));
  if (stale.length === 0) return recovery;
  if (!existsSync(target)) {
    const previous = stale.filter((l) => l.kind === 'old').sort((a, b) => b.time - a.time)[0];
    if (previous) {
      await rename(join(parent, previous.name), target);
      recovery.restored = true;
      stale.splice(stale.indexOf(previous), 1);
    }
  }
  for (const leftover of stale) {
    await rm(join(parent, leftover.name), { recursive: true, force: true });
    recovery.removed.push(leftover.name);
  }
  return recovery;
}

async function writeFlushed(path: string, content: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a folder's entries (renames) to disk where the platform allows it. */
async function syncFolder(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not supported (e.g. Windows): renames are still atomic, only their durability on power loss is not forced.
  }
}

export interface WriteFolderOptions {
  /** The kind of folder written: an existing folder at `dir` is replaced only if it is of this kind. */
  kind?: OutputKind;
  /** Names the caller in refusals ('saveModel'). */
  who?: string;
}

/**
 * Writes `files` (relative paths) as the folder `dir`, replacing a previous folder of the same kind
 * crash-safely (see the file comment). With `kind`, an existing `dir` that is a file, a foreign folder
 * or another kind of output is refused (OutputPathError) and left untouched.
 */
export async function writeFolderAtomically(dir: string, files: Map<string, Uint8Array | string>, options: WriteFolderOptions = {}): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  await recoverInterruptedSave(target);
  if (options.kind) await checkOutputPath(target, { kind: options.kind, replace: true, flag: options.who ?? 'output' });
  const stamp = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const temporary = join(parent, `.${basename(target)}.tmp-${stamp}`);
  const previous = join(parent, `.${basename(target)}.old-${stamp}`);
  await mkdir(temporary);
  faultPoint('temp-created');
  let movedAside = false;
  try {
    for (const [name, content] of files) {
      await mkdir(dirname(join(temporary, name)), { recursive: true });
      await writeFlushed(join(temporary, name), content);
      faultPoint('file-written');
    }
    await syncFolder(temporary);
    faultPoint('temp-complete');
    if (existsSync(target)) {
      await rename(target, previous);
      movedAside = true;
      faultPoint('previous-moved-aside');
    }
    await rename(temporary, target);
    await syncFolder(parent);
    faultPoint('new-in-place');
    if (movedAside) await rm(previous, { recursive: true, force: true });
    faultPoint('previous-removed');
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    // Put the previous folder back if the swap failed half-way.
    if (movedAside && existsSync(previous) && !existsSync(target)) await rename(previous, target);
    throw error;
  }
}
