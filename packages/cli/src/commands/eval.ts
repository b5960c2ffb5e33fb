import { join } from 'node:path';
import { loadCategory } from '@thfr/data/node';
import { requiredString, type CommandSpec } from '../command.js';
import { computeMetrics, formatMetrics, predictTestSet } from '../evaluate.js';
import { writeFileAtomically } from '../files.js';
import { openModel } from '../open-model.js';
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
  },
  examples: ['thfr eval --model ./models/bottle --data ./mvtec/bottle', 'thfr eval --model ./models/pushpins --data ./loco/pushpins --json > metrics.json'],
  async run(values, output, argv) {
    const modelDir = requiredString(values, 'model', 'eval');
    const dataDir = requiredString(values, 'data', 'eval');
    const outDir = (values.out as string | undefined) ?? join(modelDir, 'eval');
    await setupRuntime(values.backend as string | undefined, output);
    const { model, backbone } = await openModel(modelDir, values.weights as string | undefined);
    try {
      const loadBar = new ProgressBar('loading images', output.quiet);
      const data = await loadCategory(dataDir, { imageSize: model.config.imageSize, onProgress: (d, t) => loadBar.update(d, t) });
      if (data.test.length === 0) throw new Error(`${dataDir}: no test images`);
      const { prediction, seconds } = await predictTestSet(model, data, new ProgressBar('predicting', output.quiet));
      const evaluation = computeMetrics(data, prediction, seconds);
      formatMetrics(evaluation.metrics).forEach((l) => output.line(l));
      await writeFileAtomically(join(outDir, 'metrics.json'), JSON.stringify(evaluation.metrics, null, 2));
      await writeFileAtomically(join(outDir, 'report.html'), renderHtmlReport({
        title: `THFR evaluation: ${data.name}`, createdAt: new Date().toISOString(), command: `thfr ${argv.join(' ')}`, backbone: backbone.identity.architecture,
        categories: [{ evaluation, test: data.test, training: model.training, modelDir }],
      }));
      output.line(`wrote ${join(outDir, 'metrics.json')} and ${join(outDir, 'report.html')}`);
      output.result(evaluation.metrics);
    } finally {
      model.dispose();
      backbone.dispose();
    }
  },
};
