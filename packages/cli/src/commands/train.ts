import { join } from 'node:path';
import { loadCategory } from '@thfr/data/node';
import type { FeatureExtractor } from '@thfr/backbone';
import type { CategoryData } from '@thfr/data/node';
import type { AnomalyDetector, DetectorFitSummary, FitProgress } from '@thfr/detector';
import { readCheckpointManifest } from '@thfr/model/node';
import { numberOption, requireFlags, type CommandSpec, type OptionSpec } from '../command.js';
import { checkOutputFlag, requireFolder } from '../paths.js';
import { openBackbone, withNetworkRuntime } from '../backbones.js';
import { MODEL_OPTIONS, backboneNameFromFlags, configFromFlags, type Values } from '../train-options.js';
import { CHECKPOINT_OUTPUT, CLI_METHODS, cliMethod, type CliMethod } from '../methods.js';
import { ProgressBar, formatDuration } from '../progress.js';
import { saveDetectorFolder } from '../save-model.js';
import { setupRuntime } from '../runtime.js';
import { writeFileAtomically } from '../files.js';
import type { Output } from '../output.js';

/** --method, shared by train, eval and predict. */
export const METHOD_OPTION: OptionSpec = { type: 'string', help: `detection method: ${Object.keys(CLI_METHODS).join(', ')} (eval/predict: checked against the saved model's)`, valueName: 'NAME' };

/** Flags of train beyond THFR's config flags. */
export const METHOD_OPTIONS: Record<string, OptionSpec> = {
  method: { ...METHOD_OPTION, default: 'thfr' },
  'coreset-ratio': { type: 'string', help: 'patchcore: fraction of the training patches kept in the memory bank (default 0.1; --config paper: 0.01)', valueName: 'R' },
};

export interface TrainedCategory {
  entry: CliMethod;
  detector: AnomalyDetector;
  data: CategoryData;
  lossHistory: number[];
}

const PHASE_LABELS: Record<string, string> = { features: 'backbone features', layout: 'layout alignment', bank: 'template bank', train: 'training', calibrate: 'calibrating', coreset: 'coreset', covariance: 'covariances' };

/** The method's fit summary as the report's training facts, when it trained in epochs. */
export function trainingFacts(summary: DetectorFitSummary | undefined): { seconds: number; epochs: number; images: number; finalLoss: number; backend: string } | undefined {
  return summary && typeof summary.epochs === 'number' && typeof summary.finalLoss === 'number'
    ? { seconds: summary.seconds, epochs: summary.epochs, images: summary.images, finalLoss: summary.finalLoss, backend: summary.backend }
    : undefined;
}

/** Loads a category and fits the chosen method (--method, default thfr) on it with progress bars; shared by `train`, `demo` and `compare`. */
export async function trainCategory(dataDir: string, backbone: FeatureExtractor, values: Values, output: Output, extra: { checkpointDir?: string; checkpointEvery?: number; resume?: string } = {}): Promise<TrainedCategory> {
  const entry = cliMethod((values.method as string | undefined) ?? 'thfr');
  const loadBar = new ProgressBar('loading images', output.quiet);
  const probe = entry.createOptions(values);
  const data = await loadCategory(dataDir, { imageSize: (probe.config?.imageSize as number | undefined) ?? configFromFlags(values).imageSize, onProgress: (d, t) => loadBar.update(d, t) });
  const detector = entry.method.create(backbone, entry.createOptions(values, data.layout));
  output.note(`${data.name}: ${data.layout}, ${data.train.length} train, ${data.validation.length} validation, ${data.test.length} test images; ${entry.describe(detector)}`);
  const bars = new Map<string, ProgressBar>();
  const bar = (phase: string) => {
    if (!bars.has(phase)) bars.set(phase, new ProgressBar(PHASE_LABELS[phase] ?? phase, output.quiet));
    return bars.get(phase)!;
  };
  const fitExtras = entry.fitExtras ? await entry.fitExtras(extra) : undefined;
  try {
    const summary = await detector.fit(data.train.map((r) => r.image), {
      ...fitExtras?.options,
      validationImages: data.validation.map((r) => r.image),
      onProgress: (p: FitProgress) => bar(p.phase).update(p.done, p.total, p.detail),
    });
    const network = await withNetworkRuntime(detector, backbone);
    if (network.engine === 'onnxruntime (one graph)') output.note('inference: backbone, template search, network and map run as one onnxruntime-node graph');
    if (network.engine === 'onnxruntime') output.note('inference: the network runs on onnxruntime-node, as the backbone');
    if (network.failure) output.note(`inference: ${network.engine === 'tfjs' ? 'the network stays on tfjs' : 'not as one graph'} (onnxruntime: ${network.failure})`);
    return { entry, detector, data, lossHistory: Array.isArray(summary.lossHistory) ? (summary.lossHistory as number[]) : [] };
  } catch (error) {
    detector.dispose();
    throw error;
  } finally {
    fitExtras?.dispose();
  }
}

export const trainCommand: CommandSpec = {
  name: 'train',
  summary: `Fit a detector (--method ${Object.keys(CLI_METHODS).join(' | ')}; default THFR) on the normal images of a category folder (MVTec AD or MVTec LOCO AD layout) and save the model folder.`,
  usage: 'thfr train --data CATEGORY_DIR --out MODEL_DIR [--method NAME] [options]',
  options: {
    data: { type: 'string', help: 'category folder (train/good, test/..., ground_truth/...)', valueName: 'DIR' },
    out: { type: 'string', help: 'model folder to write: a new or empty folder, or a previous model of the same method with --force (replaced crash-safely)', valueName: 'DIR' },
    force: { type: 'boolean', help: 'replace a previous model of the same method at --out (any other folder or file is never replaced)' },
    ...METHOD_OPTIONS,
    ...MODEL_OPTIONS,
    'checkpoint-dir': { type: 'string', help: 'thfr, rd4ad: save a resumable checkpoint here during training', valueName: 'DIR' },
    'checkpoint-every': { type: 'string', help: 'epochs between checkpoints', default: '10', valueName: 'N' },
    resume: { type: 'string', help: 'thfr, rd4ad: continue training from this checkpoint folder', valueName: 'DIR' },
  },
  examples: [
    'thfr train --data ./mvtec/bottle --out ./models/bottle',
    'thfr train --data ./loco/pushpins --out ./models/pushpins --config paper --weights wide_resnet50_2.safetensors',
    'thfr train --data ./data/ad --out ./models/ad-gbn --bottleneck gbn --no-template --epochs 10',
    'thfr train --method patchcore --data ./mvtec/bottle --out ./models/bottle-patchcore',
  ],
  async run(values, output) {
    const { data: dataDir, out: outDir } = requireFlags(values, ['data', 'out'], 'train');
    const entry = await checkTrainPaths(values, dataDir, outDir);
    const backend = await setupRuntime(values.backend as string | undefined, output, Boolean(values.verbose));
    const backbone = await openBackbone({ name: backboneNameFromFlags(values), weights: values.weights as string | undefined, features: values.features as string | undefined });
    try {
      const { detector, data, lossHistory } = await trainCategory(dataDir, backbone, values, output, {
        checkpointDir: values['checkpoint-dir'] as string | undefined,
        checkpointEvery: numberOption(values, 'checkpoint-every', { integer: true, min: 1 }),
        resume: values.resume as string | undefined,
      });
      try {
        const manifest = await saveDetectorFolder(entry, detector, backbone, outDir);
        await writeFileAtomically(join(outDir, 'training.json'), JSON.stringify({ method: entry.method.name, lossHistory, category: data.name, layout: data.layout, dataDir, backbone: backbone.identity, weightsFile: values.weights ?? null }, null, 2));
        const { lossHistory: _, ...training } = detector.fitSummary ?? { images: data.train.length, seconds: NaN, backend };
        const statistics = manifest.normalStatistics as { threshold: number } | undefined;
        const summary = { model: outDir, method: entry.method.name, category: data.name, layout: data.layout, backend, backbone: backbone.identity.architecture, training, normalStatistics: statistics, memory: detector.memoryBytes() };
        const facts = trainingFacts(detector.fitSummary);
        output.line(`saved ${outDir} (${entry.label(detector)}): ${training.images} images${facts ? `, ${facts.epochs} epochs` : ''} in ${formatDuration(training.seconds)}${facts ? `, final loss ${facts.finalLoss.toFixed(4)}` : ''}${statistics ? `, threshold ${statistics.threshold.toFixed(4)}` : ''}`);
        output.result(summary);
      } finally {
        detector.dispose();
      }
    } finally {
      backbone.dispose();
    }
  },
};

/**
 * Everything that can be checked before the runtime starts: the flags, --data, --resume (a valid
 * checkpoint with no more epochs than asked for), --out and --checkpoint-dir (see paths.ts).
 */
async function checkTrainPaths(values: Values, dataDir: string, outDir: string): Promise<CliMethod> {
  const entry = cliMethod((values.method as string | undefined) ?? 'thfr');
  entry.createOptions(values); // bad numbers and sizes fail here
  const config = configFromFlags(values);
  numberOption(values, 'checkpoint-every', { integer: true, min: 1 });
  await requireFolder(dataDir, '--data');
  const resume = values.resume as string | undefined;
  const checkpointDir = values['checkpoint-dir'] as string | undefined;
  if ((resume || checkpointDir) && !entry.checkpoints) throw new Error(`--resume and --checkpoint-dir are for methods that train in epochs (${Object.values(CLI_METHODS).filter((m) => m.checkpoints).map((m) => m.method.name).join(', ')}), not ${entry.method.name}`);
  const weights = { path: values.weights as string | undefined, flag: '--weights' };
  if (resume) {
    await requireFolder(resume, '--resume');
    const checkpoint = await readCheckpointManifest(resume);
    if (config.epochs < checkpoint.epoch) {
      throw new Error(`--epochs ${config.epochs}${values.epochs === undefined ? ' (the default)' : ''} is below the ${checkpoint.epoch} epochs the checkpoint ${resume} has already trained; pass --epochs ${checkpoint.epoch} or more`);
    }
  }
  await checkOutputFlag({
    path: outDir, flag: '--out', kind: entry.output, force: Boolean(values.force),
    inputs: [{ path: dataDir, flag: '--data' }, { path: resume, flag: '--resume' }, { path: checkpointDir, flag: '--checkpoint-dir' }, weights],
  });
  if (checkpointDir) {
    // A checkpoint folder is rewritten during training: a previous checkpoint there is replaced.
    await checkOutputFlag({ path: checkpointDir, flag: '--checkpoint-dir', kind: CHECKPOINT_OUTPUT, force: true, inputs: [{ path: dataDir, flag: '--data' }, { path: outDir, flag: '--out' }, weights] });
  }
  return entry;
}
