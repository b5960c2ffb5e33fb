import { join } from 'node:path';
import { loadCategory } from '@thfr/data/node';
import { trainThfr, type ThfrConfig } from '@thfr/model';
import { disposeCheckpoint, loadCheckpoint, saveCheckpoint } from '@thfr/model/node';
import { saveModelFolder } from '../save-model.js';
import type { FeatureExtractor } from '@thfr/backbone';
import type { CategoryData } from '@thfr/data/node';
import type { ThfrModel } from '@thfr/model';
import { numberOption, requiredString, type CommandSpec } from '../command.js';
import { openBackbone } from '../backbones.js';
import { MODEL_OPTIONS, backboneNameFromFlags, configFromFlags, type Values } from '../train-options.js';
import { ProgressBar, formatDuration } from '../progress.js';
import { setupRuntime } from '../runtime.js';
import { writeFileAtomically } from '../files.js';
import type { Output } from '../output.js';

export interface TrainedCategory {
  model: ThfrModel;
  data: CategoryData;
  lossHistory: number[];
}

/** Loads a category and trains THFR on it with progress bars; shared by `train` and `demo`. */
export async function trainCategory(dataDir: string, backbone: FeatureExtractor, values: Values, output: Output, extra: { checkpointDir?: string; checkpointEvery?: number; resume?: string } = {}): Promise<TrainedCategory> {
  const loadBar = new ProgressBar('loading images', output.quiet);
  const probeConfig = configFromFlags(values);
  const data = await loadCategory(dataDir, { imageSize: probeConfig.imageSize, onProgress: (d, t) => loadBar.update(d, t) });
  const config: ThfrConfig = configFromFlags(values, data.layout);
  output.note(`${data.name}: ${data.layout}, ${data.train.length} train, ${data.validation.length} validation, ${data.test.length} test images; ` +
    `${config.bottleneck}${config.template ? '' : ', no template'}${config.template && !config.relation ? ', no relation' : ''}, ${config.epochs} epochs, batch ${config.batchSize}, ${config.imageSize}px`);
  const bars = { features: new ProgressBar('backbone features', output.quiet), train: new ProgressBar('training', output.quiet), calibrate: new ProgressBar('calibrating', output.quiet) };
  const resumeFrom = extra.resume ? await loadCheckpoint(extra.resume) : undefined;
  try {
    const { model, lossHistory } = await trainThfr(backbone, data.train.map((r) => r.image), {
      config,
      validationImages: data.validation.map((r) => r.image),
      resumeFrom,
      checkpointEvery: extra.checkpointDir ? (extra.checkpointEvery ?? 10) : undefined,
      onCheckpoint: extra.checkpointDir ? (c) => saveCheckpoint(c, extra.checkpointDir!) : undefined,
      onProgress: (p) => {
        if (p.phase === 'features') bars.features.update(p.done, p.total);
        else if (p.phase === 'train') bars.train.update(p.done, p.total, `epoch ${p.epoch}/${p.epochs} loss ${p.loss?.toFixed(4)} ${p.imagesPerSecond?.toFixed(1)} img/s`);
        else if (p.phase === 'calibrate') bars.calibrate.update(p.done, p.total);
      },
    });
    return { model, data, lossHistory };
  } finally {
    if (resumeFrom) disposeCheckpoint(resumeFrom);
  }
}

export const trainCommand: CommandSpec = {
  name: 'train',
  summary: 'Train THFR on the normal images of a category folder (MVTec AD or MVTec LOCO AD layout) and save the model folder.',
  usage: 'thfr train --data CATEGORY_DIR --out MODEL_DIR [options]',
  options: {
    data: { type: 'string', help: 'category folder (train/good, test/..., ground_truth/...)', valueName: 'DIR' },
    out: { type: 'string', help: 'model folder to write (replaced atomically)', valueName: 'DIR' },
    ...MODEL_OPTIONS,
    'checkpoint-dir': { type: 'string', help: 'save a resumable checkpoint here during training', valueName: 'DIR' },
    'checkpoint-every': { type: 'string', help: 'epochs between checkpoints', default: '10', valueName: 'N' },
    resume: { type: 'string', help: 'continue training from this checkpoint folder', valueName: 'DIR' },
  },
  examples: [
    'thfr train --data ./mvtec/bottle --out ./models/bottle',
    'thfr train --data ./loco/pushpins --out ./models/pushpins --config paper --weights wide_resnet50_2.safetensors',
    'thfr train --data ./data/ad --out ./models/ad-gbn --bottleneck gbn --no-template --epochs 10',
  ],
  async run(values, output) {
    const dataDir = requiredString(values, 'data', 'train');
    const outDir = requiredString(values, 'out', 'train');
    const backend = await setupRuntime(values.backend as string | undefined, output);
    const backbone = await openBackbone({ name: backboneNameFromFlags(values), weights: values.weights as string | undefined });
    try {
      const { model, data, lossHistory } = await trainCategory(dataDir, backbone, values, output, {
        checkpointDir: values['checkpoint-dir'] as string | undefined,
        checkpointEvery: numberOption(values, 'checkpoint-every', { integer: true, min: 1 }),
        resume: values.resume as string | undefined,
      });
      const manifest = await saveModelFolder(model, backbone, outDir);
      await writeFileAtomically(join(outDir, 'training.json'), JSON.stringify({ lossHistory, category: data.name, layout: data.layout, dataDir, backbone: backbone.identity, weightsFile: values.weights ?? null }, null, 2));
      const summary = { model: outDir, category: data.name, layout: data.layout, backend, backbone: backbone.identity.architecture, training: manifest.training, normalStatistics: manifest.normalStatistics, memory: model.memoryBytes() };
      output.line(`saved ${outDir}: ${data.train.length} images, ${manifest.training?.epochs} epochs in ${formatDuration(manifest.training?.seconds ?? NaN)}, final loss ${manifest.training?.finalLoss.toFixed(4)}, threshold ${manifest.normalStatistics?.threshold.toFixed(4)}`);
      output.result(summary);
      model.dispose();
    } finally {
      backbone.dispose();
    }
  },
};
