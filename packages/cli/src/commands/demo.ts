import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeSyntheticCategory } from '@thfr/data/node';
import { checkOutputPath, type OutputKind } from '@thfr/model/node';
import { numberOption, type CommandSpec } from '../command.js';
import { openBackbone } from '../backbones.js';
import { computeMetrics, formatMetrics, predictTestSet, type EvaluationMetrics } from '../evaluate.js';
import { writeFileAtomically } from '../files.js';
import { ProgressBar, formatDuration } from '../progress.js';
import { renderHtmlReport, type ReportCategory } from '../report/html-report.js';
import { setupRuntime } from '../runtime.js';
import { MODEL_OPTIONS, backboneNameFromFlags } from '../train-options.js';
import { trainCategory, trainingFacts } from './train.js';
import { saveDetectorFolder } from '../save-model.js';

/** A demo working folder, recognised by thfr-demo.json (written before anything else goes into it). */
export const DEMO_OUTPUT: OutputKind = { label: 'thfr demo output', marker: 'thfr-demo.json', format: 'thfr-demo' };

/** A folder written by a demo of a version without the marker: metrics.json naming its report.html. */
async function isEarlierDemo(outDir: string): Promise<boolean> {
  try {
    const summary = JSON.parse(await readFile(join(outDir, 'metrics.json'), 'utf8')) as { report?: unknown; metrics?: unknown };
    return typeof summary.report === 'string' && summary.report.endsWith('report.html') && Array.isArray(summary.metrics);
  } catch {
    return false;
  }
}

/**
 * --out may be new, empty, or an earlier demo folder (whose data and models are rewritten); never a file,
 * a foreign folder, or a folder holding --weights. Checked before the runtime starts.
 */
async function checkDemoOutput(outDir: string, flag: string, weights: string | undefined): Promise<void> {
  await checkOutputPath(outDir, { kind: DEMO_OUTPUT, flag, merge: true, inputs: weights ? [{ path: weights, flag: '--weights' }] : [] }).catch(async (error: Error & { reason?: string }) => {
    if (error.reason === 'foreign-content' && (await isEarlierDemo(outDir))) return 'same-kind';
    throw error;
  });
}

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary: 'End to end on the embedded synthetic dataset: generate an MVTec-AD-like and an MVTec-LOCO-like category, train THFR on each, evaluate, and write an HTML report.',
  usage: 'thfr demo [--out DIR] [options]',
  options: {
    out: { type: 'string', help: 'working folder (data, models, report)', default: 'runs/demo', valueName: 'DIR' },
    categories: { type: 'string', help: "comma-separated synthetic kinds: 'ad', 'loco'", default: 'ad,loco', valueName: 'LIST' },
    'train-count': { type: 'string', help: 'normal training images per category', default: '30', valueName: 'N' },
    'test-count': { type: 'string', help: 'test images per category', default: '60', valueName: 'N' },
    ...MODEL_OPTIONS,
    // Sized so that the demo finishes in ~5 minutes on 2 CPU cores with the ImageNet ResNet-50 (docs/benchmarks.md):
    // the 'fast' preset (128 px) and 12 epochs. `--config default` trains at 256 px, about four times longer.
    config: { ...MODEL_OPTIONS.config, default: 'fast' },
    epochs: { ...MODEL_OPTIONS.epochs, help: 'training epochs', default: '12' },
  },
  examples: ['thfr demo', 'thfr demo --epochs 5 --train-count 20 --test-count 20 --out /tmp/quick-demo'],
  async run(values, output, argv) {
    const started = performance.now();
    const outDir = resolve((values.out as string | undefined) ?? 'runs/demo');
    const kinds = ((values.categories as string | undefined) ?? 'ad,loco').split(',').map((k) => k.trim());
    for (const kind of kinds) if (kind !== 'ad' && kind !== 'loco') throw new Error(`--categories takes 'ad' and/or 'loco', got '${kind}'`);
    const trainCount = numberOption(values, 'train-count', { integer: true, min: 2 }) ?? 30;
    values = { ...values, epochs: values.epochs ?? '12', config: values.config ?? 'fast' };
    const testCount = numberOption(values, 'test-count', { integer: true, min: 2 }) ?? 60;
    await checkDemoOutput(outDir, '--out', values.weights as string | undefined);
    const backend = await setupRuntime(values.backend as string | undefined, output, Boolean(values.verbose));
    const backbone = await openBackbone({ name: backboneNameFromFlags(values), weights: values.weights as string | undefined, features: values.features as string | undefined });
    const categories: ReportCategory[] = [];
    const results: EvaluationMetrics[] = [];
    try {
      // The marker goes in first, so that an interrupted or repeated run is recognised as a demo folder.
      await writeFileAtomically(join(outDir, DEMO_OUTPUT.marker), JSON.stringify({ format: DEMO_OUTPUT.format, version: 1, command: `thfr ${argv.join(' ')}`, createdAt: new Date().toISOString() }, null, 2));
      for (const kind of kinds) {
        const name = kind === 'ad' ? 'synthetic_ad' : 'synthetic_loco';
        output.note(`generating ${name}: ${trainCount} train + ${testCount} test images`);
        const dataDir = await writeSyntheticCategory(join(outDir, 'data', name), { kind: kind as 'ad' | 'loco', name, seed: 7, trainCount, testCount, validationCount: kind === 'loco' ? 10 : 0, size: 256 });
        const { entry, detector, data } = await trainCategory(dataDir, backbone, { ...values, method: 'thfr' }, output);
        try {
          await saveDetectorFolder(entry, detector, backbone, join(outDir, 'models', name));
          const { prediction, seconds } = await predictTestSet(detector, data, new ProgressBar('evaluating', output.quiet));
          const evaluation = computeMetrics(data, prediction, seconds);
          formatMetrics(evaluation.metrics).forEach((l) => output.line(l));
          categories.push({ evaluation, test: data.test, training: trainingFacts(detector.fitSummary), modelDir: join(outDir, 'models', name) });
          results.push(evaluation.metrics);
        } finally {
          detector.dispose();
        }
      }
      const reportPath = join(outDir, 'report.html');
      await writeFileAtomically(reportPath, renderHtmlReport({ title: 'THFR demo on the synthetic dataset', createdAt: new Date().toISOString(), command: `thfr ${argv.join(' ')}`, backbone: backbone.identity.architecture, categories }));
      const summary = { backend, backbone: backbone.identity.architecture, seconds: (performance.now() - started) / 1000, report: reportPath, metrics: results };
      await writeFileAtomically(join(outDir, 'metrics.json'), JSON.stringify(summary, null, 2));
      output.line(`demo finished in ${formatDuration(summary.seconds)} on ${backend}; report: ${reportPath}`);
      output.result(summary);
    } finally {
      backbone.dispose();
    }
  },
};
