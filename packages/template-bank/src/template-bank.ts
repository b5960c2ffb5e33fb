import { tf, assertRank, describeShape, ShapeError } from '@thfr/tensor';
import { decodeFloat16, encodeFloat16 } from './float16.js';
import { greedyKCenter } from './greedy-k-center.js';
import { KeyReducer, resolveKeyReduction, type KeyReduction } from './key-reduction.js';
import { NearestNeighborIndex, l2NormalizeRows } from './nearest-neighbors.js';
import { decodeBank, encodeBank, type BankData, type TemplateBankManifest, type TemplateStorage } from './serialization.js';
import type { ProjectionKind } from './random-projection.js';

export interface TemplateBankOptions extends KeyReduction {
  /** How the level values are held: 'float32' (default, as tensors) or 'float16' (half the bytes, JS side). */
  storage?: TemplateStorage;
  /** Names of the value levels (default 'level0', 'level1', ...). */
  levelNames?: string[];
  /** Keys per search matMul (default 4096). */
  chunkSize?: number;
}

export interface SearchOptions {
  /** How many nearest templates per query (default 1). Fewer come back when the bank has fewer. */
  topN?: number;
  /** exclude[q]: a bank index never returned for query q (in training: the query image itself). */
  exclude?: ArrayLike<number | undefined>;
}

export interface SearchResult {
  /** Per query, template indices nearest first. */
  indices: Int32Array[];
  /** Per query, the cosine distances (1 - cos) of those templates. */
  distances: Float32Array[];
}

export interface PickOptions {
  topN: number;
  exclude?: ArrayLike<number | undefined>;
  /** Uniform [0, 1) source; pass a seeded one (createRandom) for repeatable training. */
  random: () => number;
}

export interface SubsampleOptions {
  /** Random projection dimension of the keys for k-center (default 128; none if keyDim <= it). */
  projectionDim?: number;
  projectionKind?: ProjectionKind;
  seed?: number;
  startIndex?: number;
  onProgress?: (done: number, total: number) => void;
}

interface Level {
  name: string;
  shape: number[];
  /** float32 storage: [N, H, W, C] tensor owned by the bank. */
  tensor?: tf.Tensor4D;
  /** float16 storage: half bits, row-major [N, H, W, C]. */
  halves?: Uint16Array;
}

interface BankState {
  index: NearestNeighborIndex;
  reducer: KeyReducer;
  levels: Level[];
  storage: TemplateStorage;
  sourceIndices: Int32Array;
  chunkSize: number;
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function checkStorage(storage: unknown): TemplateStorage {
  if (storage !== 'float32' && storage !== 'float16') throw new RangeError(`template bank storage must be 'float32' or 'float16', got '${String(storage)}'`);
  return storage;
}

/**
 * THFR's template bank (paper section 3.2): per normal training image, its search key (the flattened
 * deepest feature, optionally reduced) and multi-level payload features (e.g. the template reference).
 * Image-level nearest-neighbour search by cosine distance, top-n picking for training, greedy k-center
 * subsampling, float16 storage and serialisation. Owns its tensors: call dispose().
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
  static fromFeatures(keys: tf.Tensor, values: tf.Tensor4D[], opts: TemplateBankOptions = {}): TemplateBank {
    const builder = TemplateBank.builder(opts);
    try {
      builder.add(keys, values);
      return builder.build();
    } finally {
      builder.dispose();
    }
  }

  /** As fromFeatures, reading the tensors back asynchronously (needed for WebGPU in Node). */
  static async fromFeaturesAsync(keys: tf.Tensor, values: tf.Tensor4D[], opts: TemplateBankOptions = {}): Promise<TemplateBank> {
    const builder = new TemplateBankBuilder(opts);
    try {
      await builder.addAsync(keys, values);
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
      const keys = tf.tensor2d(data.keys, [data.size, data.keyDim], 'float32');
      const index = buildIndex(keys, chunkSize);
      const levels = data.levels.map((l): Level => {
        if (data.storage === 'float16') return { name: l.name, shape: l.shape, halves: l.data as Uint16Array };
        return { name: l.name, shape: l.shape, tensor: tf.keep(tf.tensor4d(l.data as Float32Array, [data.size, ...l.shape] as [number, number, number, number], 'float32')) };
      });
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
  search(query: tf.Tensor, opts: SearchOptions = {}): SearchResult {
    const { rows, topN, exclude, fetch } = this.prepareSearch(query, opts);
    try {
      return filterExcluded(this.live.index.query(rows, fetch), rows.shape[0], fetch, topN, exclude);
    } finally {
      rows.dispose();
    }
  }

  /** As search, with an asynchronous read-back (use on WebGPU/WebGL). */
  async searchAsync(query: tf.Tensor, opts: SearchOptions = {}): Promise<SearchResult> {
    const { rows, topN, exclude, fetch } = this.prepareSearch(query, opts);
    try {
      return filterExcluded(await this.live.index.queryAsync(rows, fetch), rows.shape[0], fetch, topN, exclude);
    } finally {
      rows.dispose();
    }
  }

  /** Training-time template choice (paper eq. 2): per query one index drawn uniformly from its topN, never exclude[q]. */
  pick(query: tf.Tensor, opts: PickOptions): Int32Array {
    if (typeof opts?.random !== 'function') throw new TypeError('TemplateBank.pick: opts.random must be a function returning numbers in [0, 1)');
    return pickFrom(this.search(query, { topN: opts.topN, exclude: opts.exclude }), opts.random);
  }

  async pickAsync(query: tf.Tensor, opts: PickOptions): Promise<Int32Array> {
    if (typeof opts?.random !== 'function') throw new TypeError('TemplateBank.pickAsync: opts.random must be a function returning numbers in [0, 1)');
    return pickFrom(await this.searchAsync(query, { topN: opts.topN, exclude: opts.exclude }), opts.random);
  }

  /** The values of the given templates: per level [len, H, W, C] float32. The caller owns the tensors. */
  gather(indices: ArrayLike<number>): tf.Tensor4D[] {
    const { levels } = this.live;
    const list = this.checkIndices(indices, 'TemplateBank.gather');
    return levels.map((level) => {
      const shape = [list.length, ...level.shape] as [number, number, number, number];
      if (level.halves) {
        const perItem = product(level.shape);
        const out = new Float32Array(list.length * perItem);
        list.forEach((t, i) => decodeFloat16(level.halves!.subarray(t * perItem, (t + 1) * perItem), out.subarray(i * perItem, (i + 1) * perItem)));
        return tf.tensor4d(out, shape, 'float32');
      }
      return tf.tidy(() => tf.gather(level.tensor!, tf.tensor1d(list, 'int32'), 0) as tf.Tensor4D);
    });
  }

  /** A new bank of the given templates, in that order (keys and values copied). */
  subset(indices: ArrayLike<number>): TemplateBank {
    const list = this.checkIndices(indices, 'TemplateBank.subset');
    if (list.length === 0) throw new RangeError('TemplateBank.subset: needs at least one index');
    const s = this.live;
    const keyDim = this.keyDim;
    const allKeys = s.index.rowsData();
    const keys = new Float32Array(list.length * keyDim);
    list.forEach((t, i) => keys.set(allKeys.subarray(t * keyDim, (t + 1) * keyDim), i * keyDim));
    const reducer = new KeyReducer(s.reducer.keyInputShape, s.reducer.reduction);
    const keyTensor = tf.tensor2d(keys, [list.length, keyDim], 'float32');
    const index = buildIndex(keyTensor, s.chunkSize);
    const levels = s.levels.map((level): Level => {
      if (level.halves) {
        const perItem = product(level.shape);
        const halves = new Uint16Array(list.length * perItem);
        list.forEach((t, i) => halves.set(level.halves!.subarray(t * perItem, (t + 1) * perItem), i * perItem));
        return { name: level.name, shape: [...level.shape], halves };
      }
      return { name: level.name, shape: [...level.shape], tensor: tf.keep(tf.tidy(() => tf.gather(level.tensor!, tf.tensor1d(list, 'int32'), 0) as tf.Tensor4D)) };
    });
    const sourceIndices = Int32Array.from(list, (t) => s.sourceIndices[t]);
    return new TemplateBank({ index, reducer, levels, storage: s.storage, sourceIndices, chunkSize: s.chunkSize });
  }

  /**
   * Coreset subsampling (paper Table 6): keeps ceil(ratio * N) templates chosen by greedy k-center on
   * the (randomly projected) normalised keys, in their original order. ratio 1 keeps every template.
   * Returns a new bank; this one is unchanged.
   */
  subsample(ratio: number, opts: SubsampleOptions = {}): TemplateBank {
    if (!(typeof ratio === 'number' && ratio > 0 && ratio <= 1)) throw new RangeError(`TemplateBank.subsample: ratio must be in (0, 1], got ${ratio}`);
    const n = this.size;
    // The epsilon keeps e.g. 0.1 * 30 = 3.0000000000000004 from becoming 4.
    const count = Math.min(n, Math.max(1, Math.ceil(ratio * n - 1e-9)));
    if (count === n) return this.subset(Int32Array.from({ length: n }, (_, i) => i));
    const keys = tf.tensor2d(this.live.index.rowsData(), [n, this.keyDim], 'float32');
    let selected: Int32Array;
    try {
      selected = greedyKCenter(keys, count, opts);
    } finally {
      keys.dispose();
    }
    return this.subset(selected.slice().sort());
  }

  /** Bytes held for keys, values and the key projection. */
  memoryBytes(): number {
    const s = this.live;
    const values = s.levels.reduce((sum, l) => sum + (l.halves ? l.halves.byteLength : l.tensor!.size * 4), 0);
    return s.index.memoryBytes() + values + s.reducer.memoryBytes();
  }

  /** Manifest (JSON-safe) and one binary buffer; TemplateBank.deserialize reverses it. */
  serialize(): { manifest: TemplateBankManifest; buffer: Uint8Array } {
    const s = this.live;
    return this.encode(s.index.rowsData(), s.levels.map((l) => l.halves ?? (l.tensor!.dataSync() as Float32Array)));
  }

  /** As serialize, reading device memory back asynchronously (needed for WebGPU in Node). */
  async serializeAsync(): Promise<{ manifest: TemplateBankManifest; buffer: Uint8Array }> {
    const s = this.live;
    const levels = await Promise.all(s.levels.map(async (l) => l.halves ?? ((await l.tensor!.data()) as Float32Array)));
    return this.encode(await s.index.rowsDataAsync(), levels);
  }

  private encode(keys: Float32Array, levelData: Array<Float32Array | Uint16Array>): { manifest: TemplateBankManifest; buffer: Uint8Array } {
    const s = this.live;
    return encodeBank({
      keyInputShape: [...s.reducer.keyInputShape],
      keyReduction: s.reducer.reduction,
      keyDim: this.keyDim,
      size: this.size,
      storage: s.storage,
      keys,
      levels: s.levels.map((l, i) => ({ name: l.name, shape: l.shape, data: levelData[i] })),
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

  private prepareSearch(query: tf.Tensor, opts: SearchOptions) {
    const s = this.live;
    const topN = opts.topN ?? 1;
    if (!Number.isInteger(topN) || topN < 1) throw new RangeError(`TemplateBank.search: topN must be a positive integer, got ${topN}`);
    const queries = query.shape[0] ?? 0;
    const exclude = opts.exclude;
    let anyExcluded = false;
    if (exclude) {
      if (exclude.length > queries) throw new RangeError(`TemplateBank.search: exclude has ${exclude.length} entries for ${queries} queries`);
      for (let q = 0; q < exclude.length; q++) {
        const e = exclude[q];
        if (e === undefined || e === null) continue;
        if (!Number.isInteger(e) || e < 0 || e >= this.size) throw new RangeError(`TemplateBank.search: exclude[${q}] must be a template index in [0, ${this.size - 1}], got ${e}`);
        anyExcluded = true;
      }
    }
    if (query.rank < 2) throw new ShapeError(`template query: expected shape ${describeShape([null, ...s.reducer.keyInputShape])}, got ${describeShape(query.shape)}`);
    const rows = s.reducer.reduce(query, 'template query');
    // One extra candidate makes room for the excluded index; the index itself is removed in JS.
    const fetch = Math.min(this.size, topN + (anyExcluded ? 1 : 0));
    return { rows, topN, exclude, fetch };
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

function buildIndex(normalizedKeys: tf.Tensor2D, chunkSize: number): NearestNeighborIndex {
  try {
    return new NearestNeighborIndex(normalizedKeys, { metric: 'cosine', chunkSize });
  } finally {
    normalizedKeys.dispose();
  }
}

function filterExcluded(result: { indices: Int32Array; distances: Float32Array }, queries: number, fetch: number, topN: number, exclude: ArrayLike<number | undefined> | undefined): SearchResult {
  const indices: Int32Array[] = [];
  const distances: Float32Array[] = [];
  for (let q = 0; q < queries; q++) {
    const skip = exclude?.[q];
    const keptIndices: number[] = [];
    const keptDistances: number[] = [];
    for (let j = 0; j < fetch && keptIndices.length < topN; j++) {
      const t = result.indices[q * fetch + j];
      if (t === skip) continue;
      keptIndices.push(t);
      keptDistances.push(result.distances[q * fetch + j]);
    }
    indices.push(Int32Array.from(keptIndices));
    distances.push(Float32Array.from(keptDistances));
  }
  return { indices, distances };
}

function pickFrom(result: SearchResult, random: () => number): Int32Array {
  return Int32Array.from(result.indices, (candidates, q) => {
    if (candidates.length === 0) throw new RangeError(`TemplateBank.pick: query ${q} has no candidate template (the bank holds only the excluded one)`);
    const r = random();
    if (!(r >= 0 && r < 1)) throw new RangeError(`TemplateBank.pick: random() must return a number in [0, 1), got ${r}`);
    return candidates[Math.floor(r * candidates.length)];
  });
}

/**
 * Collects templates batch by batch (features are usually extracted in batches) and builds the bank.
 * Each add() reduces and normalises its keys at once, so only the reduced keys of the set are kept.
 */
export class TemplateBankBuilder {
  private readonly storage: TemplateStorage;
  private readonly reduction;
  private readonly chunkSize: number;
  private levelNames: string[] | undefined;
  private reducer: KeyReducer | undefined;
  private levelShapes: number[][] | undefined;
  private keyParts: Float32Array[] = [];
  private valueParts: Array<Array<Float32Array | Uint16Array>> = [];
  private count = 0;

  constructor(opts: TemplateBankOptions = {}) {
    this.storage = checkStorage(opts.storage ?? 'float32');
    this.reduction = resolveKeyReduction(opts);
    this.chunkSize = opts.chunkSize ?? 4096;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1) throw new RangeError(`template bank chunkSize must be a positive integer, got ${this.chunkSize}`);
    this.levelNames = opts.levelNames ? [...opts.levelNames] : undefined;
  }

  get size(): number {
    return this.count;
  }

  /** Adds N templates: keys [N, ...] (same per-image shape every call) and values per level [N, H, W, C]. */
  add(keys: tf.Tensor, values: tf.Tensor4D[]): this {
    const reduced = this.prepare(keys, values);
    const keyData = reduced.dataSync() as Float32Array;
    reduced.dispose();
    return this.ingest(keyData, values.map((v) => v.dataSync() as Float32Array | Int32Array | Uint8Array));
  }

  /**
   * As add(), reading the tensors back asynchronously: required on backends without synchronous reads
   * (WebGPU in Node), and better for any GPU backend.
   */
  async addAsync(keys: tf.Tensor, values: tf.Tensor4D[]): Promise<this> {
    const reduced = this.prepare(keys, values);
    const keyData = (await reduced.data()) as Float32Array;
    reduced.dispose();
    const valueData = await Promise.all(values.map((v) => v.data() as Promise<Float32Array | Int32Array | Uint8Array>));
    return this.ingest(keyData, valueData);
  }

  /** Checks the shapes (fixing the level layout on the first call) and returns the normalised reduced keys. */
  private prepare(keys: tf.Tensor, values: tf.Tensor4D[]): tf.Tensor {
    if (keys.rank < 2) throw new ShapeError(`template keys: expected [N, D] or [N, h, w, c], got ${describeShape(keys.shape)}`);
    const n = keys.shape[0];
    if (n < 1) throw new ShapeError(`template keys: expected at least one template, got ${describeShape(keys.shape)}`);
    if (!Array.isArray(values)) throw new TypeError('template values: expected an array of [N, H, W, C] tensors, one per level');
    values.forEach((v, l) => {
      assertRank(v, 4, `template values[${l}]`);
      if (v.shape[0] !== n) throw new ShapeError(`template values[${l}]: expected ${n} templates (the keys' first dim), got shape ${describeShape(v.shape)}`);
    });
    if (!this.reducer) {
      if (this.levelNames && this.levelNames.length !== values.length) throw new RangeError(`levelNames has ${this.levelNames.length} names for ${values.length} levels`);
      this.levelNames ??= values.map((_, l) => `level${l}`);
      if (new Set(this.levelNames).size !== this.levelNames.length) throw new RangeError(`levelNames must be distinct, got ${this.levelNames.join(', ')}`);
      this.reducer = new KeyReducer(keys.shape.slice(1), this.reduction);
      this.levelShapes = values.map((v) => v.shape.slice(1));
      this.valueParts = values.map(() => []);
    } else {
      if (values.length !== this.levelShapes!.length) throw new ShapeError(`template values: expected ${this.levelShapes!.length} levels as in the first batch, got ${values.length}`);
      values.forEach((v, l) => {
        const expected = this.levelShapes![l];
        if (!v.shape.slice(1).every((d, i) => d === expected[i])) throw new ShapeError(`template values[${l}]: expected shape ${describeShape([null, ...expected])}, got ${describeShape(v.shape)}`);
      });
    }
    return tf.tidy(() => l2NormalizeRows(this.reducer!.reduce(keys, 'template keys')));
  }

  private ingest(keyData: Float32Array, valueData: Array<Float32Array | Int32Array | Uint8Array>): this {
    const n = keyData.length / this.reducer!.keyDim;
    for (let i = 0; i < keyData.length; i++) {
      if (!Number.isFinite(keyData[i])) throw new ShapeError(`template keys: expected finite values, found ${keyData[i]} in template ${this.count + Math.floor(i / this.reducer!.keyDim)}`);
    }
    this.keyParts.push(keyData);
    valueData.forEach((raw, l) => {
      const data = raw instanceof Float32Array ? raw.slice() : Float32Array.from(raw);
      this.valueParts[l].push(this.storage === 'float16' ? encodeFloat16(data) : data);
    });
    this.count += n;
    return this;
  }

  build(): TemplateBank {
    if (!this.reducer || this.count === 0) throw new RangeError('TemplateBankBuilder.build: no templates were added');
    const keyDim = this.reducer.keyDim;
    const keys = concatParts(this.keyParts, new Float32Array(this.count * keyDim));
    const levels = this.levelShapes!.map((shape, l) => {
      const total = this.count * product(shape);
      const out = this.storage === 'float16' ? new Uint16Array(total) : new Float32Array(total);
      return { name: this.levelNames![l], shape: [...shape], data: concatParts(this.valueParts[l], out) };
    });
    return TemplateBank.fromData(
      {
        keyInputShape: [...this.reducer.keyInputShape],
        keyReduction: this.reduction,
        keyDim,
        size: this.count,
        storage: this.storage,
        keys,
        levels,
        sourceIndices: Int32Array.from({ length: this.count }, (_, i) => i),
      },
      this.chunkSize,
    );
  }

  dispose(): void {
    this.reducer?.dispose();
    this.reducer = undefined;
    this.keyParts = [];
    this.valueParts = [];
  }
}

function concatParts<T extends Float32Array | Uint16Array>(parts: Array<Float32Array | Uint16Array>, out: T): T {
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
