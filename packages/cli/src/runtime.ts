import { initRuntime } from '@thfr/runtime-node';
import type { Output } from './output.js';

export const BACKEND_CHOICES = ['webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** Rejects an unknown --backend before anything else runs. */
export function checkBackendName(backend: unknown): void {
  if (backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(String(backend))) {
    throw new Error(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got '${String(backend)}'`);
  }
}

/**
 * Initialises the tensor runtime: the given backend first (if any), then the runtime's default
 * priority. Says on stderr which backend runs and why the preferred ones were skipped.
 */
export async function setupRuntime(backend: string | undefined, output: Output, verbose = false): Promise<string> {
  checkBackendName(backend);
  const prefer = backend ? [backend as BackendChoice] : undefined;
  const choice = await initRuntime(prefer ? { prefer } : {});
  const full = choice.skipped.length ? ` (skipped: ${choice.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : '';
  if (backend && choice.backend !== backend) {
    throw new Error(`backend '${backend}' is not available here${full}`);
  }
  const short = choice.skipped.length ? ` (skipped ${choice.skipped.map((s) => `${s.name}: ${shortReason(s.reason)}`).join(', ')}; --verbose says why)` : '';
  output.note(`backend: ${choice.backend}${verbose ? full : short}`);
  return choice.backend;
}

/** The first clause of a skip reason ('Dawn found no WebGPU adapter'), for the one-line backend note. */
export function shortReason(reason: string): string {
  const first = reason.split(/ \(|;|: /)[0].trim();
  return first.length > 60 ? `${first.slice(0, 57)}...` : first;
}
