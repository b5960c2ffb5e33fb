/**
 * thfr-predictions.json: the marker that makes a `thfr predict` output folder recognisable (so a later
 * predict may add categories to it, and nothing else is ever written into a foreign folder).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PREDICTIONS_OUTPUT, type OutputKind } from '@thfr/model/node';
import { writeFileAtomically } from './files.js';

/** eval's report folder (metrics.json); used only to place it outside the inputs. */
export const EVAL_OUTPUT: OutputKind = { label: 'thfr eval report', marker: 'metrics.json' };

interface PredictionsMarker {
  format: 'thfr-predictions';
  version: 1;
  categories: Array<{ name: string; model: string; createdAt: string }>;
}

/** Adds (or refreshes) `category` in `<out>/thfr-predictions.json`, written before any map. */
export async function writePredictionsMarker(out: string, category: string, modelDir: string): Promise<void> {
  const path = join(out, PREDICTIONS_OUTPUT.marker);
  let marker: PredictionsMarker = { format: 'thfr-predictions', version: 1, categories: [] };
  try {
    const previous = JSON.parse(await readFile(path, 'utf8')) as PredictionsMarker;
    if (previous.format === 'thfr-predictions' && Array.isArray(previous.categories)) marker = previous;
  } catch {
    // A new output folder.
  }
  marker.categories = [...marker.categories.filter((c) => c.name !== category), { name: category, model: resolve(modelDir), createdAt: new Date().toISOString() }];
  await writeFileAtomically(path, JSON.stringify(marker, null, 2));
}
