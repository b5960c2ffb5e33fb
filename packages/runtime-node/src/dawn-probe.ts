/**
 * Keeps Dawn and the Vulkan loader quiet when there is no usable GPU: their native code writes straight
 * to the process's stderr while it looks for adapters ("XDG_RUNTIME_DIR is invalid", Vulkan driver
 * warnings with foreign build paths). A child process looks first, with its stderr captured; only when
 * it finds an adapter is Dawn loaded in this process. THFR_DAWN_PROBE=0 turns the probe off.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DawnProbe {
  found: boolean;
  /** What Dawn and Vulkan printed while looking (stderr of the probe). */
  messages: string;
}

/** Gives Dawn's windowing checks a private runtime folder when the environment has none (no more "XDG_RUNTIME_DIR is invalid"). */
export function ensureRuntimeDir(): void {
  if (process.env.XDG_RUNTIME_DIR) return;
  const dir = join(tmpdir(), `thfr-runtime-${process.getuid?.() ?? 'user'}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  } catch {
    // Not fatal: Dawn only complains.
  }
}

function resolveDawn(): string | undefined {
  try {
    return import.meta.resolve('webgpu');
  } catch {
    return undefined;
  }
}

/**
 * Whether Dawn (with `dawnOptions`) finds an adapter, asked in a child process; undefined when the
 * probe cannot tell (then the caller looks in-process, as without a probe).
 */
export function probeDawnAdapter(dawnOptions: string[], timeoutMs = 30_000): Promise<DawnProbe | undefined> {
  const entry = process.env.THFR_DAWN_PROBE === '0' ? undefined : resolveDawn();
  if (!entry) return Promise.resolve(undefined);
  const script = [
    `const dawn = await import(${JSON.stringify(entry)});`,
    'Object.assign(globalThis, dawn.globals);',
    `const adapter = await dawn.create(${JSON.stringify(dawnOptions)}).requestAdapter();`,
    "process.stdout.write(adapter ? 'found' : 'none');",
    'process.exit(0);',
  ].join('\n');
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += String(c)));
    child.stderr.on('data', (c) => (stderr += String(c)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', () => done(undefined));
    child.on('exit', (code) => {
      clearTimeout(timer);
      done(code === 0 && (stdout === 'found' || stdout === 'none') ? { found: stdout === 'found', messages: stderr.trim() } : undefined);
    });
  });
}
