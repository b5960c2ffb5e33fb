import { join, resolve } from 'node:path';
import { writeSyntheticCategory } from '@thfr/data/node';
import { numberOption, type CommandSpec } from '../command.js';
import { openBackbone } from '../backbones.js';
import { computeMetrics, formatMetrics, predictTestSet, type EvaluationMetrics } from '../evaluate.js';
import { writeFileAtomically } from '../files.js';
import { ProgressBar, formatDuration } from '../progress.js';
import { renderHtmlReport, type ReportCategory } from '../report/html-report.js';
import { setupRuntime } from '../runtime.js';
import { MODEL_OPTIONS, backboneNameFromFlags } from '../train-options.js';
import { trainCategory } from './train.js';
import { saveModelFolder } from '../save-model.js';

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary: 'End to end on the embedded synthetic dataset: generate an MVTec-AD-like and an MVTec-LOCO-like category, train THFR on each, evaluate, and write an HTML report.',
  usage: 'thfr demo [--out DIR] [options]',
  options: {
    out: { type: 'string', help: 'working folder (data, models, report)', default: 'runs/demo', valueName: 'DIR' },
    categories: { type: 'string', help: "comma-separated synthetic kinds: 'ad', 'loco'", default: 'ad,loco', valueName: 'LIST' },
    'train-count': { type: 'string', help: 'normal training images per category', default: '50', valueName: 'N' },
    'test-count': { type: 'string', help: 'test images per category', default: '60', valueName: 'N' },
    ...MODEL_OPTIONS,
  },
  examples: ['thfr demo', 'thfr demo --epochs 5 --train-count 20 --test-count 20 --out /tmp/quick-demo'],
  async run(values, output, argv) {
    const started = performance.now();
    const outDir = resolve((values.out as string | undefined) ?? 'runs/demo');
    const kinds = ((values.categories as string | undefined) ?? 'ad,loco').split(',').map((k) => k.trim());
    for (const kind of kinds) if (kind !== 'ad' && kind !== 'loco') throw new Error(`--categories takes 'ad' and/or 'loco', got '${kind}'`);
    const trainCount = numberOption(values, 'train-count', { integer: true, min: 2 }) ?? 50;
    const testCount = numberOption(values, 'test-count', { integer: true, min: 2 }) ?? 60;
    const backend = await setupRuntime(values.backend as string | undefined, output);
    const backbone = await openBackbone({ name: backboneNameFromFlags(values), weights: values.weights as string | undefined });
    const categories: ReportCategory[] = [];
    const results: EvaluationMetrics[] = [];
    try {
      for (const kind of kinds) {
        const name = kind === 'ad' ? 'synthetic_ad' : 'synthetic_loco';
        output.note(`generating ${name}: ${trainCount} train + ${testCount} test images`);
        const dataDir = await writeSyntheticCategory(join(outDir, 'data', name), { kind: kind as 'ad' | 'loco', name, seed: 7, trainCount, testCount, validationCount: kind === 'loco' ? 10 : 0, size: 256 });
        const { model, data } = await trainCategory(dataDir, backbone, values, output);
        await saveModelFolder(model, backbone, join(outDir, 'models', name));
        const { prediction, seconds } = await predictTestSet(model, data, new ProgressBar('evaluating', output.quiet));
        const evaluation = computeMetrics(data, prediction, seconds);
        formatMetrics(evaluation.metrics).forEach((l) => output.line(l));
        categories.push({ evaluation, test: data.test, training: model.training, modelDir: join(outDir, 'models', name) });
        results.push(evaluation.metrics);
        model.dispose();
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
