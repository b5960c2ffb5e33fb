export { CompensationModule } from './compensation-module.js';
export type { CompensationOptions } from './compensation-module.js';
export { PairwiseRelation } from './pairwise-relation.js';
