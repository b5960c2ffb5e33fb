/**
 * How thfr opens every onnxruntime session (the backbone extractor, the network and pipeline runners, the wasm
 * kernels on onnxruntime, the bench's profile): one definition, so a figure measured on one of them holds for the
 * others.
 */
import type { ExecutionProviderLike, OrtSessionOptionsLike } from './ort-types.js';

export interface OrtSessionSettings {
  /** Execution providers in order of preference (default ['cpu']: onnxruntime-node's CPU, onnxruntime-web's wasm). */
  executionProviders?: readonly ExecutionProviderLike[];
  /** onnxruntime's intra-op threads (default: onnxruntime's choice, one per physical core). */
  threads?: number;
  /**
   * Let onnxruntime's threads spin between runs (default false). Spinning threads answer the next run sooner, but
   * keep the cores busy after a run, away from whatever runs next in the process (tfjs, a second session).
   */
  allowSpinning?: boolean;
  /**
   * More onnxruntime session options, passed as they are underneath thfr's: the settings above win, and their config
   * entries (`extra`) are merged with the spinning setting.
   */
  sessionOptions?: Record<string, unknown>;
}

/**
 * The session options for `settings`: every graph optimization, sequential execution (thfr's graphs are one chain
 * of convolutions: inter-op parallelism has nothing to overlap, and one inter-op thread leaves the cores to the
 * intra-op pool), threads as asked, spinning off unless asked. `where` names the model in the error for bad threads.
 */
export function ortSessionOptions(settings: OrtSessionSettings, where: string): OrtSessionOptionsLike & Record<string, unknown> {
  const { threads } = settings;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new Error(`${where}: threads must be a positive integer, got ${threads}`);
  return {
    ...settings.sessionOptions,
    executionProviders: settings.executionProviders ?? ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(threads !== undefined ? { intraOpNumThreads: threads } : {}),
    extra: withSpinning(settings.sessionOptions?.extra, settings.allowSpinning ?? false),
  };
}

/** The intra-op entry of onnxruntime's spinning setting ('session.intra_op.allow_spinning'). */
const spinningEntry = (allow: boolean) => ({ allow_spinning: allow ? '1' : '0' });

/** onnxruntime's session config entry for spinning ('session.intra_op.allow_spinning'). */
export function ortSpinningConfig(allow: boolean): Record<string, unknown> {
  return { session: { intra_op: spinningEntry(allow) } };
}

/** The caller's session config entries with the spinning setting put in (it wins). */
function withSpinning(extra: unknown, allowSpinning: boolean): Record<string, unknown> {
  const theirs = (extra ?? {}) as { session?: { intra_op?: Record<string, unknown> } & Record<string, unknown> } & Record<string, unknown>;
  return { ...theirs, session: { ...theirs.session, intra_op: { ...theirs.session?.intra_op, ...spinningEntry(allowSpinning) } } };
}
