/**
 * @thfr/rd4ad — RD4AD (Deng & Li, "Anomaly Detection via Reverse Distillation from One-Class Embedding", CVPR 2022):
 * its own network (multi-scale fusion + one-class bottleneck embedding, de_resnet decoder) trained and scored with
 * @thfr/restoration's shared loss, training loop and anomaly map. Save/load in '@thfr/rd4ad/node'.
 */
export { RD4AD_ARCHITECTURE, RD4AD_OPTIMIZER, RD4AD_RECIPE, RD4AD_DEFAULT_CONFIG, RD4AD_FAST_CONFIG, RD4AD_PAPER_CONFIG, RD4AD_PRESETS, resolveRd4adConfig } from './config.js';
export type { Rd4adConfig } from './config.js';
export { Rd4adNetwork } from './network.js';
export { Rd4adModel } from './rd4ad-model.js';
export { trainRd4ad } from './train.js';
export type { Rd4adTrainOptions, Rd4adCheckpoint } from './train.js';
export { Rd4adDetector } from './rd4ad-detector.js';
export { serializeRd4ad, deserializeRd4ad, parseRd4adManifest, loadRd4adFromUrl, isRd4adManifest, RD4AD_FOLDER_READER } from './serialization.js';
export type { Rd4adManifest } from './serialization.js';
