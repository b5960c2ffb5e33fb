export { Module } from './module.js';
export { Initializer } from './init.js';
export { Conv2d, ConvTranspose2d, BatchNorm2d, ConvBnAct } from './layers.js';
export type { Conv2dOptions, BatchNorm2dOptions, ConvBnActOptions } from './layers.js';
export { Bottleneck, UpBottleneck, Sequential, bottleneckStage } from './blocks.js';
export type { BottleneckOptions } from './blocks.js';
export { FusedAdam } from './fused-adam.js';
export type { FusedAdamOptions, NamedOptimizerWeight } from './fused-adam.js';
