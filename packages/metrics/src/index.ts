/**
 * @thfr/metrics — anomaly-detection metrics over plain typed arrays (no tfjs): image and pixel
 * AUROC, ROC curves, PRO (MVTec AD), sPRO and the LOCO evaluation (MVTec LOCO AD), F1-max and
 * threshold calibration. Anomaly maps are Float32Arrays of width*height values (row-major), masks
 * Uint8Arrays of the same size (0 = normal; null for an image without ground truth).
 */
export { MetricInputError } from './errors.js';
export type { MapSize } from './validate.js';
export { imageAuroc, aurocFromSorted } from './auroc.js';
export { PixelScores, pixelAuroc } from './pixel-scores.js';
export { imageRocCurve, rocCurveFromSorted } from './roc-curve.js';
export type { RocCurve, RocCurveOptions } from './roc-curve.js';
export { imageF1Max, f1MaxFromSorted } from './f1-max.js';
export type { F1Max } from './f1-max.js';
export { proScore } from './pro.js';
export type { ProOptions, ProResult } from './pro.js';
export { sproScore, evaluateLoco } from './spro.js';
export type { LocoGroundTruthMask, LocoImageKind, LocoTestImage, SproOptions, SproResult, LocoEvaluation } from './spro.js';
export { parseDefectsConfig, saturationArea } from './loco-defects.js';
export type { LocoDefectConfig } from './loco-defects.js';
export { calibrateThreshold, quantile } from './threshold.js';
export type { ThresholdMethod } from './threshold.js';
export { trapezoidArea } from './trapezoid.js';
export { labelComponents8 } from './connected-components.js';
