/**
 * The slice of onnxruntime's JavaScript API (onnxruntime-common: shared by onnxruntime-node and onnxruntime-web)
 * that the extractor uses, typed structurally so that this package's types need neither runtime installed.
 */

/** An onnxruntime tensor: what `run` takes and returns. */
export interface OrtTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
  dispose?(): void;
}

/** An execution provider: a name ('cpu', 'cuda', 'webgpu', ...) or `{ name, ...options }`. */
export type ExecutionProviderLike = string | { readonly name: string; readonly [option: string]: unknown };

export interface OrtSessionOptionsLike {
  executionProviders?: readonly ExecutionProviderLike[];
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  executionMode?: 'sequential' | 'parallel';
  /** Session config entries, e.g. { session: { intra_op: { allow_spinning: '0' } } }. */
  extra?: Record<string, unknown>;
}

export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** The onnxruntime module: `import * as ort from 'onnxruntime-node'` (or 'onnxruntime-web') fits it. */
export interface OnnxRuntimeLike {
  InferenceSession: { create(model: Uint8Array, options?: OrtSessionOptionsLike): Promise<OrtSessionLike> };
  Tensor: {
    new (type: 'float32', data: Float32Array, dims: readonly number[]): OrtTensorLike;
    new (type: 'int64', data: BigInt64Array, dims: readonly number[]): OrtTensorLike;
  };
}
