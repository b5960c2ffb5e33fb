/** The kinds of folders restoration detectors write, recognised by checkOutputPath (@thfr/detector/node) before it replaces one. */
import type { OutputKind } from '@thfr/detector/node';

export const MODEL_OUTPUT: OutputKind = { label: 'THFR model', marker: 'manifest.json', format: 'thfr-model' };
export const CHECKPOINT_OUTPUT: OutputKind = { label: 'THFR training checkpoint', marker: 'checkpoint.json', format: 'thfr-checkpoint' };
