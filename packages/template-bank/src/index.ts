/**
 * @thfr/template-bank — THFR's template bank (per-image multi-level features, image-level nearest
 * neighbour search, top-n picking, greedy k-center subsampling, float16 storage, serialisation) and
 * the reusable pieces PatchCore-like methods need on patch features. Everything that reads tensors
 * back is async (so it runs on WebGPU in Node as on every other backend).
 */
export { TemplateBank } from './template-bank.js';
export type { TemplateSearchTables } from './template-bank.js';
export { TemplateBankBuilder } from './template-bank-builder.js';
export type { TemplateBankOptions } from './template-bank-builder.js';
export type { SearchOptions, SearchResult, PickOptions } from './template-search.js';
export { coresetCount } from './coreset.js';
export type { SubsampleOptions } from './coreset.js';
export type { KeyReduction, ResolvedKeyReduction } from './key-reduction.js';
export type { TemplateStorage, TemplateBankManifest, BufferSection } from './serialization.js';
export { MANIFEST_FORMAT, MANIFEST_VERSION } from './serialization.js';
export { greedyKCenter } from './greedy-k-center.js';
export type { GreedyKCenterOptions } from './greedy-k-center.js';
export { nearestNeighbors, NearestNeighborIndex, l2NormalizeRows } from './nearest-neighbors.js';
export type { Metric, NearestNeighborOptions, NeighborResult } from './nearest-neighbors.js';
export { randomProjection } from './random-projection.js';
export type { ProjectionKind } from './random-projection.js';
export { encodeFloat16, decodeFloat16, toFloat16Bits, fromFloat16Bits, float32BitsToFloat16Bits } from './float16.js';
export { createRandom, createGaussian } from '@thfr/detector';
