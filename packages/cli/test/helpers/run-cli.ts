// The CLI run in-process for tests, with stdout and stderr captured.
import { expect, vi } from 'vitest';
import { runCli } from '../../src/index.js';

export async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { stdout += String(chunk); return true; });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { stderr += String(chunk); return true; });
  try {
    return { code: await runCli(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** A refusal made before the runtime started: exit 1, one line with one 'thfr <command>: error:' prefix, no backend line. */
export async function refused(args: string[], message: string | RegExp): Promise<string> {
  const r = await cli(...args);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).not.toContain('backend:');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr.startsWith(`thfr ${args[0]}: error: `), r.stderr).toBe(true);
  expect(r.stderr.match(/thfr [\w-]+:/g), r.stderr).toHaveLength(1); // command names may hold a dash (export-onnx)
  if (typeof message === 'string') expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
  return r.stderr;
}
