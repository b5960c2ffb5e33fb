import { join } from 'node:path';
import { loadCategory } from '@thfr/data/node';
import { requireFlags, type CommandSpec } from '../command.js';
import { checkOutputFlag, requireFolder } from '../paths.js';
import { EVAL_OUTPUT } from '../predictions-marker.js';
import { computeMetrics, formatMetrics, predictTestSet } from '../evaluate.js';
import { writeFileAtomically } from '../files.js';
import { FEATURES_OPTION } from '../backbones.js';
import { inspectModel, openModel } from '../open-model.js';
import { METHOD_OPTION, trainingFacts } from './train.js';
import { ProgressBar } from '../progress.js';
import { renderHtmlReport } from '../report/html-report.js';
import { setupRuntime } from '../runtime.js';

export const evalCommand: CommandSpec = {
  name: 'eval',
  summary: 'Evaluate a trained model on the test set of a category: image AUROC, pixel AUROC, PRO, and for MVTec LOCO AD sPRO and per-type AUROC. Writes metrics.json and an HTML report.',
  usage: 'thfr eval --model MODEL_DIR --data CATEGORY_DIR [--out REPORT_DIR] [--json]',
  options: {
    model: { type: 'string', help: 'model folder written by thfr train', valueName: 'DIR' },
    data: { type: 'string', help: 'category folder with test/ and ground_truth/', valueName: 'DIR' },
    out: { type: 'string', help: 'where metrics.json and report.html go', default: 'MODEL_DIR/eval', valueName: 'DIR' },
    weights: { type: 'string', help: 'safetensors weights when the model uses a ResNet backbone', valueName: 'FILE' },
    features: FEATURES_OPTION,
    method: METHOD_OPTION,
  },
  examples: ['thfr eval --model ./models/bottle --data ./mvtec/bottle', 'thfr eval --model ./models/pushpins --data ./loco/pushpins --json > metrics.json'],
  async run(values, output, argv) {
    const { model: modelDir, data: dataDir } = requireFlags(values, ['model', 'data'], 'eval');
    const outDir = (values.out as string | undefined) ?? join(modelDir, 'eval');
    await inspectModel(modelDir, values.method as string | undefined);
    await requireFolder(dataDir, '--data');
    // metrics.json and report.html are rewritten in place; only their placement is checked.
    await checkOutputFlag({ path: outDir, flag: '--out', kind: EVAL_OUTPUT, merge: true, inputs: [{ path: dataDir, flag: '--data' }] }).catch((error: Error & { reason?: string }) => {
      if (error.reason === 'foreign-content' || error.reason === 'other-kind') return 'same-kind';
      throw error;
    });
    await setupRuntime(values.backend as string | undefined, output, Boolean(values.verbose));
    const { detector, backbone, entry } = await openModel(modelDir, { weights: values.weights as string | undefined, method: values.method as string | undefined, features: values.features as string | undefined });
    try {
      const loadBar = new ProgressBar('loading images', output.quiet);
      const data = await loadCategory(dataDir, { imageSize: detector.imageSize, onProgress: (d, t) => loadBar.update(d, t) });
      if (data.test.length === 0) throw new Error(`${dataDir}: no test images`);
      const { prediction, seconds } = await predictTestSet(detector, data, new ProgressBar('predicting', output.quiet));
      const evaluation = computeMetrics(data, prediction, seconds);
      formatMetrics(evaluation.metrics).forEach((l) => output.line(l));
      await writeFileAtomically(join(outDir, 'metrics.json'), JSON.stringify(evaluation.metrics, null, 2));
      await writeFileAtomically(join(outDir, 'report.html'), renderHtmlReport({
        title: `${entry.label(detector)} evaluation: ${data.name}`, createdAt: new Date().toISOString(), command: `thfr ${argv.join(' ')}`, backbone: backbone.identity.architecture,
        categories: [{ evaluation, test: data.test, training: trainingFacts(detector.fitSummary), modelDir }],
      }));
      output.line(`wrote ${join(outDir, 'metrics.json')} and ${join(outDir, 'report.html')}`);
      output.result(evaluation.metrics);
    } finally {
      detector.dispose();
      backbone.dispose();
    }
  },
};
