import { basename, dirname, extname, join } from 'node:path';
import { tf } from '@thfr/tensor';
import { encodePng, resizeRgb } from '@thfr/data';
import { loadCategory, readImageFile } from '@thfr/data/node';
import { renderHeatmap } from '@thfr/postprocess';
import { PREDICTIONS_OUTPUT } from '@thfr/model/node';
import { requireFlags, type CommandSpec } from '../command.js';
import { checkOutputFlag, requireFolder } from '../paths.js';
import { writePredictionsMarker } from '../predictions-marker.js';
import { writeFileAtomically } from '../files.js';
import { FEATURES_OPTION } from '../backbones.js';
import { inspectModel, openModel } from '../open-model.js';
import { METHOD_OPTION } from './train.js';
import { ProgressBar } from '../progress.js';
import { setupRuntime } from '../runtime.js';
import { encodeFloat32Tiff } from '../tiff.js';

/** Bilinear resize of a square map back to an image's original resolution. */
function resizeMap(map: Float32Array, size: number, width: number, height: number): Float32Array {
  if (width === size && height === size) return map;
  // The tensor comes out of tidy, not its values: tidy walks what its function returns, element by element for a
  // typed array (seconds for a large map).
  const resized = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(map, [size, size, 1]), [height, width], false, true));
  try {
    return resized.dataSync() as Float32Array;
  } finally {
    resized.dispose();
  }
}

export const predictCommand: CommandSpec = {
  name: 'predict',
  summary: 'Write anomaly maps of every test image of a category as float32 TIFFs at the original resolution, in the layout the official MVTec LOCO AD evaluation reads (<out>/<category>/test/<defect>/<name>.tiff), with a heatmap overlay PNG beside each.',
  usage: 'thfr predict --model MODEL_DIR --data CATEGORY_DIR --out OUT_DIR',
  options: {
    model: { type: 'string', help: 'model folder written by thfr train', valueName: 'DIR' },
    data: { type: 'string', help: 'category folder (its test/ images are predicted)', valueName: 'DIR' },
    out: { type: 'string', help: 'output folder: new, empty, or an earlier thfr predict output (maps of more categories go into it); never inside --data or --model', valueName: 'DIR' },
    weights: { type: 'string', help: 'safetensors weights when the model uses a ResNet backbone', valueName: 'FILE' },
    features: FEATURES_OPTION,
    'no-overlay': { type: 'boolean', help: 'skip the heatmap overlay PNGs' },
    method: METHOD_OPTION,
  },
  examples: ['thfr predict --model ./models/pushpins --data ./loco/pushpins --out ./anomaly_maps'],
  async run(values, output) {
    const { model: modelDir, data: dataDir, out: outDir } = requireFlags(values, ['model', 'data', 'out'], 'predict');
    await requireFolder(modelDir, '--model');
    await inspectModel(modelDir, values.method as string | undefined);
    await requireFolder(dataDir, '--data');
    await checkOutputFlag({ path: outDir, flag: '--out', kind: PREDICTIONS_OUTPUT, merge: true, inputs: [{ path: dataDir, flag: '--data' }, { path: modelDir, flag: '--model' }] });
    await setupRuntime(values.backend as string | undefined, output, Boolean(values.verbose));
    const { detector, backbone, entry } = await openModel(modelDir, { weights: values.weights as string | undefined, method: values.method as string | undefined, features: values.features as string | undefined });
    try {
      const data = await loadCategory(dataDir, { imageSize: detector.imageSize });
      if (data.test.length === 0) throw new Error(`${dataDir}: no test images to predict`);
      await writePredictionsMarker(outDir, data.name, modelDir);
      const size = detector.imageSize;
      const bar = new ProgressBar('predicting', output.quiet);
      // Calibrated methods give the overlay's range; otherwise each batch's largest value.
      const calibrated = entry.pixelRange?.(detector);
      const written: Array<{ image: string; map: string; score: number }> = [];
      for (let start = 0; start < data.test.length; start += detector.batchSize) {
        const records = data.test.slice(start, start + detector.batchSize);
        const prediction = await detector.predict(records.map((r) => r.image));
        const range: [number, number] = calibrated ?? [0, Math.max(1e-6, ...prediction.maps.map((m) => m.reduce((a, v) => (v > a ? v : a), 0)))];
        for (let i = 0; i < records.length; i++) {
          const r = records[i];
          const relative = r.relativePath.replace(/^test\//, '');
          const stem = join(outDir, data.name, 'test', dirname(relative), basename(relative, extname(relative)));
          const full = resizeMap(prediction.maps[i], size, r.originalWidth, r.originalHeight);
          await writeFileAtomically(`${stem}.tiff`, encodeFloat32Tiff(r.originalWidth, r.originalHeight, full));
          if (!values['no-overlay']) {
            const original = await readImageFile(r.path);
            const image = original.width === r.originalWidth && original.height === r.originalHeight ? original : resizeRgb(original, r.originalWidth, r.originalHeight);
            const rgba = renderHeatmap(full, r.originalWidth, r.originalHeight, { image, alpha: 0.5, range });
            await writeFileAtomically(`${stem}_heatmap.png`, encodePng({ width: r.originalWidth, height: r.originalHeight, data: new Uint8Array(rgba.buffer), channels: 4 }));
          }
          written.push({ image: r.relativePath, map: `${stem}.tiff`, score: prediction.scores[i] });
        }
        bar.update(Math.min(data.test.length, start + records.length), data.test.length);
      }
      output.line(`wrote ${written.length} anomaly maps under ${join(outDir, data.name, 'test')}`);
      output.result({ out: outDir, category: data.name, maps: written });
    } finally {
      detector.dispose();
      backbone.dispose();
    }
  },
};
