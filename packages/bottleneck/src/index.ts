export { GlobalBottleneck } from './global-bottleneck.js';
export type { GlobalBottleneckOptions } from './global-bottleneck.js';
export { LocalBottleneck } from './local-bottleneck.js';
export type { LocalBottleneckOptions, LevelShape } from './local-bottleneck.js';
