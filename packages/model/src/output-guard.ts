/** The output kind of `thfr predict` folders (the CLI's); model and checkpoint kinds are @thfr/restoration/node's. */
import type { OutputKind } from '@thfr/detector/node';

export const PREDICTIONS_OUTPUT: OutputKind = { label: 'thfr predict output', marker: 'thfr-predictions.json', format: 'thfr-predictions' };
