/** Index/search: image-level nearest-template search options, exclusion of the query itself, and top-n picking. */
import { tf, describeShape, ShapeError } from '@thfr/tensor';
import { NearestNeighborIndex } from './nearest-neighbors.js';
import type { KeyReducer } from './key-reduction.js';

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

/** The cosine index over normalised keys [N, D] (takes ownership of `normalizedKeys`). */
export function buildKeyIndex(normalizedKeys: tf.Tensor2D, chunkSize: number): NearestNeighborIndex {
  try {
    return new NearestNeighborIndex(normalizedKeys, { metric: 'cosine', chunkSize });
  } finally {
    normalizedKeys.dispose();
  }
}

/**
 * The topN templates nearest each query by cosine distance of the reduced keys, nearest first;
 * exclude[q] is never returned. One extra candidate is fetched to make room for the excluded index.
 */
export async function searchTemplates(index: NearestNeighborIndex, reducer: KeyReducer, query: tf.Tensor, opts: SearchOptions = {}): Promise<SearchResult> {
  const size = index.size;
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
      if (!Number.isInteger(e) || e < 0 || e >= size) throw new RangeError(`TemplateBank.search: exclude[${q}] must be a template index in [0, ${size - 1}], got ${e}`);
      anyExcluded = true;
    }
  }
  if (query.rank < 2) throw new ShapeError(`template query: expected shape ${describeShape([null, ...reducer.keyInputShape])}, got ${describeShape(query.shape)}`);
  const rows = reducer.reduce(query, 'template query');
  const fetch = Math.min(size, topN + (anyExcluded ? 1 : 0));
  try {
    return filterExcluded(await index.query(rows, fetch), rows.shape[0], fetch, topN, exclude);
  } finally {
    rows.dispose();
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

/** Training-time choice (paper eq. 2): per query one index drawn uniformly from its candidates. */
export function pickFrom(result: SearchResult, random: () => number): Int32Array {
  return Int32Array.from(result.indices, (candidates, q) => {
    if (candidates.length === 0) throw new RangeError(`TemplateBank.pick: query ${q} has no candidate template (the bank holds only the excluded one)`);
    const r = random();
    if (!(r >= 0 && r < 1)) throw new RangeError(`TemplateBank.pick: random() must return a number in [0, 1), got ${r}`);
    return candidates[Math.floor(r * candidates.length)];
  });
}
