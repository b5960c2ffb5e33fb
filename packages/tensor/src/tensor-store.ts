import * as tf from '@tensorflow/tfjs-core';

/** Anything that owns tensors and can release them. */
export interface Disposable {
  dispose(): void;
}

/** Disposes every tensor or Disposable in `items`, skipping null/undefined and already disposed tensors. */
export function disposeAll(...items: Array<tf.Tensor | Disposable | null | undefined | Array<tf.Tensor | Disposable | null | undefined>>): void {
  for (const item of items.flat()) {
    if (item == null) continue;
    if (item instanceof tf.Tensor) {
      if (!item.isDisposed) item.dispose();
    } else item.dispose();
  }
}

/**
 * A named collection of tensors that owns them: `set` replaces (and disposes) the old value,
 * `dispose` releases all. Used for parameter sets, feature caches and template banks.
 */
export class TensorStore<T extends tf.Tensor = tf.Tensor> implements Disposable {
  private readonly entries = new Map<string, T>();
  private disposed = false;

  constructor(readonly label = 'TensorStore') {}

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Stores `tensor` under `key`, keeping it alive outside any tidy scope. */
  set(key: string, tensor: T): T {
    this.throwIfDisposed();
    const previous = this.entries.get(key);
    if (previous && previous !== tensor && !previous.isDisposed) previous.dispose();
    this.entries.set(key, tf.keep(tensor));
    return tensor;
  }

  get(key: string): T {
    this.throwIfDisposed();
    const tensor = this.entries.get(key);
    if (!tensor) throw new Error(`${this.label}: no tensor named '${key}' (have: ${[...this.entries.keys()].slice(0, 20).join(', ') || 'none'})`);
    return tensor;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  entriesList(): Array<[string, T]> {
    return [...this.entries.entries()];
  }

  delete(key: string): void {
    const tensor = this.entries.get(key);
    if (tensor && !tensor.isDisposed) tensor.dispose();
    this.entries.delete(key);
  }

  dispose(): void {
    for (const tensor of this.entries.values()) if (!tensor.isDisposed) tensor.dispose();
    this.entries.clear();
    this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private throwIfDisposed(): void {
    if (this.disposed) throw new Error(`${this.label} was disposed`);
  }
}
