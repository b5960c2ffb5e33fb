/**
 * Output safety (checkOutputPath, OutputPathError) lives in @thfr/detector/node, shared by every method;
 * this file keeps the output kinds of THFR models, checkpoints and predictions.
 */
import type { OutputKind } from '@thfr/detector/node';

export { checkOutputPath, canonicalPath, OutputPathError } from '@thfr/detector/node';
export type { OutputKind, OutputCheckOptions, OutputRefusal, OutputState } from '@thfr/detector/node';

export const MODEL_OUTPUT: OutputKind = { label: 'THFR model', marker: 'manifest.json', format: 'thfr-model' };
export const CHECKPOINT_OUTPUT: OutputKind = { label: 'THFR training checkpoint', marker: 'checkpoint.json', format: 'thfr-checkpoint' };
export const PREDICTIONS_OUTPUT: OutputKind = { label: 'thfr predict output', marker: 'thfr-predictions.json', format: 'thfr-predictions' };
