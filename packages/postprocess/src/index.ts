/**
 * @thfr/postprocess — from restored features to anomaly maps, scores and pictures: per-level
 * cosine distance, bilinear upsampling, Gaussian blur (scipy semantics), score normalisation and
 * heatmap rendering, and per-position standardisation of maps by normal images' statistics (pure TypeScript,
 * browser-safe).
 */
export { cosineDistance, cosineDistanceMap, cosineDistanceComposed, hasFusedCosineDistance } from './cosine-distance.js';
export { gaussianBlur, gaussianKernel1d, gaussianRadius, reflectPad, reflectIndex, blurMatrixValues } from './gaussian-blur.js';
export { anomalyMap, disposeAnomalyMap } from './anomaly-map.js';
export type { AnomalyMapOptions, AnomalyMapResult } from './anomaly-map.js';
export { positionStatistics, standardizeLeaveOneOut, standardizeMaps } from './position-statistics.js';
export type { MapPositionStatistics, PositionStatisticsOptions } from './position-statistics.js';
export { ScoreNormalizer } from './score-normalizer.js';
export type { ScoreStatistics, NormalizationMode, ScoreNormalizerJSON, ScoreNormalizerFitOptions } from './score-normalizer.js';
export { renderHeatmap } from './heatmap.js';
export type { HeatmapOptions, RgbImageLike } from './heatmap.js';
export { colormapTable, colormapRgb } from './colormaps.js';
export type { ColormapName } from './colormaps.js';
