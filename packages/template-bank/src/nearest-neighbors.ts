import { tf, assertRank } from '@thfr/tensor';

export type Metric = 'cosine' | 'euclidean';

export interface NearestNeighborOptions {
  /** 'cosine' (default): distance 1 - cos; 'euclidean': L2 distance. */
  metric?: Metric;
  /**
   * Bank rows per matMul (default 4096): bounds the [Q, chunk] score matrix held at once, so a large
   * bank never needs a [Q, M] matrix.
   */
  chunkSize?: number;
}

/** Flat results: row q's k neighbours are at [q*k, (q+1)*k), nearest first. */
export interface NeighborResult {
  indices: Int32Array;
  distances: Float32Array;
}

interface Chunk {
  offset: number;
  rows: number;
  /** [D, rows]: stored transposed because matMul's transpose flags are slow on wasm. */
  transposed: tf.Tensor2D;
  /** [1, rows] squared norms, euclidean only. */
  squaredNorms?: tf.Tensor2D;
}

const EPSILON = 1e-12;

/**
 * Rows divided by their L2 norm (zero rows stay zero, so their cosine distance to anything is 1).
 * sqrt(sum(x^2)) rather than tf.norm, whose Abs + Cast + Pow chain cost 7 of the 9 ms of a one-image
 * search over a 256 px ResNet-50 key (262,144 values) on wasm.
 */
export function l2NormalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), 1, true)), EPSILON)));
}

/**
 * A prepared brute-force nearest-neighbour index over the rows of a bank [M, D]: normalised (cosine),
 * split into chunks and transposed once, so repeated queries cost one matMul + top-k per chunk.
 * It copies what it needs; the caller keeps ownership of `bank`. Call dispose() when done.
 */
export class NearestNeighborIndex {
  readonly metric: Metric;
  readonly size: number;
  readonly dim: number;
  private chunks: Chunk[];
  private disposed = false;

  constructor(bank: tf.Tensor2D, opts: NearestNeighborOptions = {}) {
    assertRank(bank, 2, 'nearest-neighbour bank');
    const metric = opts.metric ?? 'cosine';
    if (metric !== 'cosine' && metric !== 'euclidean') throw new RangeError(`nearest-neighbour metric must be 'cosine' or 'euclidean', got '${String(metric)}'`);
    const chunkSize = opts.chunkSize ?? 4096;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`nearest-neighbour chunkSize must be a positive integer, got ${chunkSize}`);
    const [size, dim] = bank.shape;
    if (size < 1) throw new RangeError('nearest-neighbour bank has no rows');
    this.metric = metric;
    this.size = size;
    this.dim = dim;
    this.chunks = [];
    for (let offset = 0; offset < size; offset += chunkSize) {
      const rows = Math.min(chunkSize, size - offset);
      const chunk = tf.tidy(() => {
        const part = rows === size ? tf.cast(bank, 'float32') : tf.slice(bank, [offset, 0], [rows, dim]);
        const prepared = metric === 'cosine' ? l2NormalizeRows(part as tf.Tensor2D) : (part as tf.Tensor2D);
        const transposed = tf.keep(tf.transpose(prepared) as tf.Tensor2D);
        const squaredNorms = metric === 'euclidean' ? tf.keep(tf.reshape(tf.sum(tf.square(prepared), 1), [1, rows]) as tf.Tensor2D) : undefined;
        return { transposed, squaredNorms };
      });
      this.chunks.push({ offset, rows, ...chunk });
    }
  }

  /**
   * The k nearest bank rows of each query row [Q, D], nearest first (ties: lower index first). Reads the
   * results back asynchronously, so it runs on every backend (WebGPU in Node has no synchronous reads).
   */
  async query(query: tf.Tensor2D, k: number): Promise<NeighborResult> {
    const { scores, indices, perRow } = this.candidateTensors(query, k);
    try {
      const [s, i] = await Promise.all([scores.data(), indices.data()]);
      return this.merge(s as Float32Array, i as Int32Array, query.shape[0], perRow, k);
    } finally {
      tf.dispose([scores, indices]);
    }
  }

  /** The prepared bank rows read back as [M, D] row-major (normalised for cosine). */
  async rowsData(): Promise<Float32Array> {
    this.throwIfDisposed();
    return this.untranspose(await Promise.all(this.chunks.map((chunk) => chunk.transposed.data() as Promise<Float32Array>)));
  }

  private untranspose(chunkData: Float32Array[]): Float32Array {
    const out = new Float32Array(this.size * this.dim);
    this.chunks.forEach((chunk, c) => {
      const data = chunkData[c];
      for (let j = 0; j < this.dim; j++) {
        const source = j * chunk.rows;
        for (let r = 0; r < chunk.rows; r++) out[(chunk.offset + r) * this.dim + j] = data[source + r];
      }
    });
    return out;
  }

  /** Bytes held by the prepared bank tensors. */
  memoryBytes(): number {
    return this.chunks.reduce((sum, c) => sum + c.transposed.size * 4 + (c.squaredNorms ? c.squaredNorms.size * 4 : 0), 0);
  }

  dispose(): void {
    for (const chunk of this.chunks) tf.dispose([chunk.transposed, chunk.squaredNorms ?? []]);
    this.chunks = [];
    this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Per chunk the top candidates by score (higher = nearer), concatenated: [Q, sum of per-chunk k]. */
  private candidateTensors(query: tf.Tensor2D, k: number): { scores: tf.Tensor2D; indices: tf.Tensor2D; perRow: number } {
    this.throwIfDisposed();
    assertRank(query, 2, 'nearest-neighbour query');
    if (query.shape[1] !== this.dim) throw new RangeError(`nearest-neighbour query: expected ${this.dim} columns (the bank's dim), got shape [${query.shape.join(', ')}]`);
    if (!Number.isInteger(k) || k < 1 || k > this.size) throw new RangeError(`nearest-neighbour k must be an integer in [1, ${this.size}] (the bank size), got ${k}`);
    return tf.tidy(() => {
      const q = this.metric === 'cosine' ? l2NormalizeRows(tf.cast(query, 'float32') as tf.Tensor2D) : (tf.cast(query, 'float32') as tf.Tensor2D);
      const querySquaredNorms = this.metric === 'euclidean' ? tf.sum(tf.square(q), 1, true) : undefined;
      const scoreParts: tf.Tensor2D[] = [];
      const indexParts: tf.Tensor2D[] = [];
      for (const chunk of this.chunks) {
        const kc = Math.min(k, chunk.rows);
        // One tidy per chunk so only the chunk's top-k outlives it, never the [Q, rows] scores.
        const [values, indices] = tf.tidy(() => {
          const dot = tf.matMul(q, chunk.transposed);
          // Euclidean: score = -(|q|^2 - 2 q.b + |b|^2) = -squared distance.
          const score = chunk.squaredNorms ? tf.neg(tf.add(tf.sub(querySquaredNorms as tf.Tensor, tf.mul(dot, 2)), chunk.squaredNorms)) : dot;
          const top = tf.topk(score, kc, true);
          return [top.values as tf.Tensor2D, tf.add(top.indices, tf.scalar(chunk.offset, 'int32')) as tf.Tensor2D];
        });
        scoreParts.push(values);
        indexParts.push(indices);
      }
      const perRow = scoreParts.reduce((sum, t) => sum + t.shape[1], 0);
      const scores = scoreParts.length === 1 ? scoreParts[0] : (tf.concat(scoreParts, 1) as tf.Tensor2D);
      const indices = indexParts.length === 1 ? indexParts[0] : (tf.concat(indexParts, 1) as tf.Tensor2D);
      return { scores, indices, perRow };
    });
  }

  private merge(scores: Float32Array, indices: Int32Array, queries: number, perRow: number, k: number): NeighborResult {
    const outIndices = new Int32Array(queries * k);
    const outDistances = new Float32Array(queries * k);
    const order = new Array<number>(perRow);
    for (let q = 0; q < queries; q++) {
      const base = q * perRow;
      for (let c = 0; c < perRow; c++) order[c] = base + c;
      order.sort((a, b) => scores[b] - scores[a] || indices[a] - indices[b]);
      for (let j = 0; j < k; j++) {
        const s = scores[order[j]];
        outIndices[q * k + j] = indices[order[j]];
        outDistances[q * k + j] = this.metric === 'cosine' ? 1 - s : Math.sqrt(Math.max(0, -s));
      }
    }
    return { indices: outIndices, distances: outDistances };
  }

  private throwIfDisposed(): void {
    if (this.disposed) throw new Error('NearestNeighborIndex was disposed');
  }
}

/**
 * The k nearest rows of `bank` [M, D] for each row of `query` [Q, D], brute force, one matMul per bank
 * chunk. Returns flat [Q*k] indices and distances, nearest first. For repeated queries against the same
 * bank, build a NearestNeighborIndex once instead.
 */
export async function nearestNeighbors(query: tf.Tensor2D, bank: tf.Tensor2D, k: number, opts: NearestNeighborOptions = {}): Promise<NeighborResult> {
  const index = new NearestNeighborIndex(bank, opts);
  try {
    return await index.query(query, k);
  } finally {
    index.dispose();
  }
}
