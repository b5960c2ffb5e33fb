import { basename, dirname, extname, join } from 'node:path';
import { tf } from '@thfr/tensor';
import { encodePng, resizeRgb } from '@thfr/data';
import { loadCategory, readImageFile } from '@thfr/data/node';
import { renderHeatmap } from '@thfr/postprocess';
import { requiredString, type CommandSpec } from '../command.js';
import { writeFileAtomically } from '../files.js';
import { openModel } from '../open-model.js';
import { ProgressBar } from '../progress.js';
import { setupRuntime } from '../runtime.js';
import { encodeFloat32Tiff } from '../tiff.js';

/** Bilinear resize of a square map back to an image's original resolution. */
function resizeMap(map: Float32Array, size: number, width: number, height: number): Float32Array {
  if (width === size && height === size) return map;
  return tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(map, [size, size, 1]), [height, width], false, true).dataSync() as Float32Array);
}

export const predictCommand: CommandSpec = {
  name: 'predict',
  summary: 'Write anomaly maps of every test image of a category as float32 TIFFs at the original resolution, in the layout the official MVTec LOCO AD evaluation reads (<out>/<category>/test/<defect>/<name>.tiff), with a heatmap overlay PNG beside each.',
  usage: 'thfr predict --model MODEL_DIR --data CATEGORY_DIR --out OUT_DIR',
  options: {
    model: { type: 'string', help: 'model folder written by thfr train', valueName: 'DIR' },
    data: { type: 'string', help: 'category folder (its test/ images are predicted)', valueName: 'DIR' },
    out: { type: 'string', help: 'output folder', valueName: 'DIR' },
    weights: { type: 'string', help: 'safetensors weights when the model uses a ResNet backbone', valueName: 'FILE' },
    'no-overlay': { type: 'boolean', help: 'skip the heatmap overlay PNGs' },
  },
  examples: ['thfr predict --model ./models/pushpins --data ./loco/pushpins --out ./anomaly_maps'],
  async run(values, output) {
    const modelDir = requiredString(values, 'model', 'predict');
    const dataDir = requiredString(values, 'data', 'predict');
    const outDir = requiredString(values, 'out', 'predict');
    await setupRuntime(values.backend as string | undefined, output);
    const { model, backbone } = await openModel(modelDir, values.weights as string | undefined);
    try {
      const data = await loadCategory(dataDir, { imageSize: model.config.imageSize });
      if (data.test.length === 0) throw new Error(`${dataDir}: no test images to predict`);
      const size = model.config.imageSize;
      const bar = new ProgressBar('predicting', output.quiet);
      const range: [number, number] = [0, model.normalStatistics ? Math.max(model.normalStatistics.pixelMax * 1.5, 1e-6) : 1];
      const written: Array<{ image: string; map: string; score: number }> = [];
      for (let start = 0; start < data.test.length; start += model.config.batchSize) {
        const records = data.test.slice(start, start + model.config.batchSize);
        const prediction = await model.predict(records.map((r) => r.image));
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
      model.dispose();
      backbone.dispose();
    }
  },
};
