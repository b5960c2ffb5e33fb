/**
 * @thfr/rd4ad — RD4AD (reverse distillation from one-class embedding, CVPR 2022) as THFR's network
 * with the local bottleneck only and no template, trained and scored by @thfr/model. Save/load in
 * '@thfr/rd4ad/node'.
 */
export { Rd4adDetector, RD4AD_PRESETS, RD4AD_ARCHITECTURE, RD4AD_OPTIMIZER, RD4AD_RECIPE, RD4AD_DEFAULT_CONFIG, RD4AD_PAPER_CONFIG, isRd4adConfig, resolveRd4adConfig, trainRd4ad } from './rd4ad.js';
export type { Rd4adModel, Rd4adConfig, Rd4adTrainOptions } from './rd4ad.js';
