import { tf, describeShape, ShapeError } from '@thfr/tensor';
import { KeyReducer } from './key-reduction.js';
import type { NearestNeighborIndex } from './nearest-neighbors.js';
import { decodeBank, encodeBank, type BankData, type TemplateBankManifest, type TemplateStorage } from './serialization.js';
import { buildKeyIndex, pickFrom, searchTemplates, type PickOptions, type SearchOptions, type SearchResult } from './template-search.js';
import { gatherLevel, levelBytes, levelData, levelFromData, levelValues, subsetLevel, type StoredLevel } from './template-storage.js';
import { coresetCount, selectCoreset, type SubsampleOptions } from './coreset.js';
import { TemplateBankBuilder, type TemplateBankOptions } from './template-bank-builder.js';

/** TemplateBank.searchTables(): the search and gather as data (row-major float32 arrays). */
export interface TemplateSearchTables {
  /** N, the number of templates. */
  size: number;
  /** Length of a (reduced) key. */
  keyDim: number;
  /** Per-image shape of a query before reduction ([D] or [h, w, c]), NHWC as the features. */
  keyInputShape: number[];
  /** Average pooling window and stride applied to [h, w, c] queries before flattening (1: none). */
  pooling: number;
  /** The projection the flattened (pooled) query is multiplied by, [rows, keyDim], when the bank projects its keys. */
  projection?: { rows: number; values: Float32Array };
  /** The L2-normalised keys [N, keyDim]: the search is argmax over templates of query . key (cosine, ties to the lower index). */
  keys: Float32Array;
  /** Per level, the templates' values [N, ...shape] in float32 (float16 storage decoded). */
  levels: Array<{ name: string; shape: number[]; values: Float32Array }>;
}

interface BankState {
  index: NearestNeighborIndex;
  reducer: KeyReducer;
  levels: StoredLevel[];
  storage: TemplateStorage;
  sourceIndices: Int32Array;
  chunkSize: number;
}

/**
 * THFR's template bank (paper section 3.2): per normal training image, its search key (the flattened
 * deepest feature, optionally reduced) and multi-level payload features (e.g. the template reference).
 * Image-level nearest-neighbour search by cosine distance (template-search.ts), top-n picking for
 * training, greedy k-center subsampling (coreset.ts), float16 storage (template-storage.ts) and
 * serialisation (serialization.ts). Everything that reads tensors back is async, so it runs on every
 * backend, WebGPU in Node included. Owns its tensors: call dispose().
 */
export class TemplateBank {
  private state: BankState | undefined;

  private constructor(state: BankState) {
    this.state = state;
  }

  /**
   * Builds a bank from keys [N, D] or [N, h, w, c] and per-level values [N, H_l, W_l, C_l]. Copies what it
   * needs; the caller keeps ownership of its inputs. For features extracted batch by batch use
   * TemplateBank.builder(), which never holds the unreduced keys of the whole set.
   */
  static async fromFeatures(keys: tf.Tensor, values: tf.Tensor4D[], opts: TemplateBankOptions = {}): Promise<TemplateBank> {
    const builder = new TemplateBankBuilder(opts);
    try {
      await builder.add(keys, values);
      return builder.build();
    } finally {
      builder.dispose();
    }
  }

  static builder(opts: TemplateBankOptions = {}): TemplateBankBuilder {
    return new TemplateBankBuilder(opts);
  }

  /** Rebuilds a bank written by serialize(); `manifest` may be the object or its JSON text. */
  static deserialize(manifest: TemplateBankManifest | string | unknown, buffer: ArrayBuffer | ArrayBufferView, opts: { chunkSize?: number } = {}): TemplateBank {
    return TemplateBank.fromData(decodeBank(manifest, buffer), opts.chunkSize ?? 4096);
  }

  /** @internal Builds a bank from plain arrays (keys already L2-normalised). */
  static fromData(data: BankData, chunkSize: number): TemplateBank {
    const reducer = new KeyReducer(data.keyInputShape, data.keyReduction);
    try {
      if (reducer.keyDim !== data.keyDim) throw new ShapeError(`template bank: keyDim ${data.keyDim} does not match the key shape ${describeShape(data.keyInputShape)} and its reduction (${reducer.keyDim})`);
      const index = buildKeyIndex(tf.tensor2d(data.keys, [data.size, data.keyDim], 'float32'), chunkSize);
      const levels = data.levels.map((l) => levelFromData(l.name, l.shape, data.size, data.storage, l.data));
      return new TemplateBank({ index, reducer, levels, storage: data.storage, sourceIndices: data.sourceIndices, chunkSize });
    } catch (error) {
      reducer.dispose();
      throw error;
    }
  }

  get size(): number {
    return this.live.index.size;
  }

  /** Length of the (reduced) search key. */
  get keyDim(): number {
    return this.live.index.dim;
  }

  /** Per-image shape the queries must have ([D] or [h, w, c]). */
  get keyInputShape(): number[] {
    return [...this.live.reducer.keyInputShape];
  }

  /** Per level [H, W, C]. */
  get levelShapes(): number[][] {
    return this.live.levels.map((l) => [...l.shape]);
  }

  get levelNames(): string[] {
    return this.live.levels.map((l) => l.name);
  }

  get storage(): TemplateStorage {
    return this.live.storage;
  }

  /** For each template, its index in the bank it was first built from (identity until subsampled). */
  get sourceIndices(): Int32Array {
    return this.live.sourceIndices.slice();
  }

  /**
   * The topN templates nearest to each query [Q, ...keyInputShape] (or [Q, D]) by cosine distance of the
   * flattened (reduced) features, nearest first; exclude[q] is never returned.
   */
  async search(query: tf.Tensor, opts: SearchOptions = {}): Promise<SearchResult> {
    const s = this.live;
    return searchTemplates(s.index, s.reducer, query, opts);
  }

  /** Training-time template choice (paper eq. 2): per query one index drawn uniformly from its topN, never exclude[q]. */
  async pick(query: tf.Tensor, opts: PickOptions): Promise<Int32Array> {
    if (typeof opts?.random !== 'function') throw new TypeError('TemplateBank.pick: opts.random must be a function returning numbers in [0, 1)');
    return pickFrom(await this.search(query, { topN: opts.topN, exclude: opts.exclude }), opts.random);
  }

  /** The values of the given templates: per level [len, H, W, C] float32. The caller owns the tensors. */
  gather(indices: ArrayLike<number>): tf.Tensor4D[] {
    const list = this.checkIndices(indices, 'TemplateBank.gather');
    return this.live.levels.map((level) => gatherLevel(level, list));
  }

  /** A new bank of the given templates, in that order (keys and values copied). */
  async subset(indices: ArrayLike<number>): Promise<TemplateBank> {
    const list = this.checkIndices(indices, 'TemplateBank.subset');
    if (list.length === 0) throw new RangeError('TemplateBank.subset: needs at least one index');
    return this.subsetOf(list, await this.live.index.rowsData());
  }

  /**
   * Coreset subsampling (paper Table 6): keeps ceil(ratio * N) templates chosen by greedy k-center on
   * the (randomly projected) normalised keys, in their original order. ratio 1 keeps every template.
   * Returns a new bank; this one is unchanged.
   */
  async subsample(ratio: number, opts: SubsampleOptions = {}): Promise<TemplateBank> {
    const n = this.size;
    const count = coresetCount(ratio, n);
    const keys = await this.live.index.rowsData();
    const selected = count === n ? Int32Array.from({ length: n }, (_, i) => i) : await selectCoreset(keys, n, this.keyDim, count, opts);
    return this.subsetOf(selected, keys);
  }

  /** Bytes held for keys, values and the key projection. */
  memoryBytes(): number {
    const s = this.live;
    return s.index.memoryBytes() + s.levels.reduce((sum, l) => sum + levelBytes(l), 0) + s.reducer.memoryBytes();
  }

  /**
   * What the search and the gather compute, as plain float32 arrays, for engines that run them elsewhere (the ONNX
   * export of a whole inference, @thfr/restoration-onnx): the normalised keys, the key reduction (pooling, and the
   * projection matrix when there is one) and each level's values decoded to float32. Reads back asynchronously.
   */
  async searchTables(): Promise<TemplateSearchTables> {
    const s = this.live;
    const keys = await s.index.rowsData();
    const levels = await Promise.all(s.levels.map(async (level) => ({ name: level.name, shape: [...level.shape], values: await levelValues(level, this.size) })));
    const projection = await s.reducer.projectionData();
    return {
      size: this.size,
      keyDim: this.keyDim,
      keyInputShape: [...s.reducer.keyInputShape],
      pooling: s.reducer.reduction.pooling,
      ...(projection ? { projection } : {}),
      keys,
      levels,
    };
  }

  /** Manifest (JSON-safe) and one binary buffer; TemplateBank.deserialize reverses it. */
  async serialize(): Promise<{ manifest: TemplateBankManifest; buffer: Uint8Array }> {
    const s = this.live;
    const [keys, levels] = await Promise.all([s.index.rowsData(), Promise.all(s.levels.map(levelData))]);
    return encodeBank({
      keyInputShape: [...s.reducer.keyInputShape],
      keyReduction: s.reducer.reduction,
      keyDim: this.keyDim,
      size: this.size,
      storage: s.storage,
      keys,
      levels: s.levels.map((l, i) => ({ name: l.name, shape: l.shape, data: levels[i] })),
      sourceIndices: s.sourceIndices,
    });
  }

  dispose(): void {
    const s = this.state;
    if (!s) return;
    s.index.dispose();
    s.reducer.dispose();
    for (const l of s.levels) l.tensor?.dispose();
    this.state = undefined;
  }

  get isDisposed(): boolean {
    return this.state === undefined;
  }

  private get live(): BankState {
    if (!this.state) throw new Error('TemplateBank was disposed');
    return this.state;
  }

  /** The bank of templates `list` given every key row read back ([N, keyDim]). */
  private subsetOf(list: Int32Array, allKeys: Float32Array): TemplateBank {
    const s = this.live;
    const keyDim = this.keyDim;
    const keys = new Float32Array(list.length * keyDim);
    list.forEach((t, i) => keys.set(allKeys.subarray(t * keyDim, (t + 1) * keyDim), i * keyDim));
    const reducer = new KeyReducer(s.reducer.keyInputShape, s.reducer.reduction);
    const index = buildKeyIndex(tf.tensor2d(keys, [list.length, keyDim], 'float32'), s.chunkSize);
    const levels = s.levels.map((level) => subsetLevel(level, list));
    const sourceIndices = Int32Array.from(list, (t) => s.sourceIndices[t]);
    return new TemplateBank({ index, reducer, levels, storage: s.storage, sourceIndices, chunkSize: s.chunkSize });
  }

  private checkIndices(indices: ArrayLike<number>, what: string): Int32Array {
    const list = Int32Array.from(indices as ArrayLike<number>);
    for (let i = 0; i < indices.length; i++) {
      const t = indices[i];
      if (!Number.isInteger(t) || t < 0 || t >= this.size) throw new RangeError(`${what}: index ${i} must be a template index in [0, ${this.size - 1}], got ${t}`);
    }
    return list;
  }
}
