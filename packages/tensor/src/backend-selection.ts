import * as tf from '@tensorflow/tfjs-core';

/**
 * A backend that may be used. `init` registers it (importing its package, creating a device...) and
 * returns false or throws when it cannot work here; the thrown message becomes the reason shown.
 */
export interface BackendCandidate {
  name: string;
  init: () => Promise<boolean | void> | boolean | void;
}

export interface SkippedBackend {
  name: string;
  reason: string;
}

export interface BackendChoice {
  backend: string;
  skipped: SkippedBackend[];
}

/** Thrown when no candidate works; lists why each one was skipped. */
export class BackendSelectionError extends Error {
  override readonly name = 'BackendSelectionError';
  constructor(readonly skipped: SkippedBackend[]) {
    super(`No tensor backend could be initialised:\n${skipped.map((s) => `  - ${s.name}: ${s.reason}`).join('\n')}`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}

/**
 * Tries the candidates in order (like onnxruntime's execution-provider list) and makes the first one
 * that initialises the active tfjs backend. Returns the chosen name and why the earlier ones failed.
 */
export async function selectBackend(candidates: BackendCandidate[]): Promise<BackendChoice> {
  const skipped: SkippedBackend[] = [];
  for (const candidate of candidates) {
    try {
      const usable = await candidate.init();
      if (usable === false) {
        skipped.push({ name: candidate.name, reason: 'not available in this environment' });
        continue;
      }
      if (!tf.findBackendFactory(candidate.name)) {
        skipped.push({ name: candidate.name, reason: 'its package registered no backend of that name' });
        continue;
      }
      const ok = await tf.setBackend(candidate.name);
      if (!ok) {
        skipped.push({ name: candidate.name, reason: 'the backend failed to initialise (tf.setBackend returned false)' });
        continue;
      }
      await tf.ready();
      return { backend: candidate.name, skipped };
    } catch (error) {
      skipped.push({ name: candidate.name, reason: messageOf(error) });
    }
  }
  throw new BackendSelectionError(skipped);
}
