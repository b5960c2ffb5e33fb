import { join, resolve } from 'node:path';
import { loadCategory, writeSyntheticCategory, type CategoryData } from '@thfr/data/node';
import { ThfrModel, type ThfrConfig } from '@thfr/model';
import { PatchCore } from '@thfr/patchcore';
import { RD4AD_DEFAULT_CONFIG, RD4AD_PAPER_CONFIG, trainRd4ad } from '@thfr/rd4ad';
import type { FeatureExtractor } from '@thfr/backbone';
import { numberOption, type CommandSpec } from '../command.js';
import { openBackbone } from '../backbones.js';
import { computeMetrics, predictTestSet, type EvaluationMetrics, type Predictor } from '../evaluate.js';
import { writeFileAtomically } from '../files.js';
import { ProgressBar, formatDuration } from '../progress.js';
import { setupRuntime } from '../runtime.js';
import { MODEL_OPTIONS, backboneNameFromFlags, configFromFlags, type Values } from '../train-options.js';
import type { Output } from '../output.js';
import { trainCategory } from './train.js';

/** Method ids `--methods` accepts, in the order they run. */
export const COMPARE_METHODS = ['thfr-gl', 'thfr-bank', 'thfr-gbn', 'thfr-lbn', 'thfr-no-template', 'thfr-no-relation', 'rd4ad', 'patchcore'] as const;
type MethodId = (typeof COMPARE_METHODS)[number];

/** THFR ablations (paper Tables 4, 5): the train flags that make each. */
const THFR_VARIANTS: Array<{ id: MethodId; label: string; flags: Values }> = [
  { id: 'thfr-gl', label: 'THFR G-L (bank 100%)', flags: {} },
  { id: 'thfr-gbn', label: 'THFR GBN only', flags: { bottleneck: 'gbn' } },
  { id: 'thfr-lbn', label: 'THFR LBN only', flags: { bottleneck: 'lbn' } },
  { id: 'thfr-no-template', label: 'THFR G-L without template', flags: { 'no-template': true } },
  { id: 'thfr-no-relation', label: 'THFR G-L without relation', flags: { 'no-relation': true } },
];

/** One row of the comparison table. */
export interface CompareRow {
  category: string;
  layout: CategoryData['layout'];
  method: string;
  imageAuroc: number;
  pixelAuroc: number;
  pro: number;
  /** Mean of logical and structural sPRO (LOCO categories only). */
  spro: number | null;
  sproLogical: number | null;
  sproStructural: number | null;
  /** Seconds to build the detector (features + training / coreset); bank rows: G-L training + subsampling. */
  trainSeconds: number;
  /** Extra seconds this row cost on top of another row (bank subsampling), else 0. */
  extraSeconds: number;
  imagesPerSecond: number;
  /** Bytes of trainable weights (+ buffers); the frozen backbone is shared and not counted. */
  modelBytes: number;
  /** Bytes of the template bank / memory bank as held in memory (search index included). */
  bankBytes: number;
}

/** PatchCore seen through predictTestSet's eyes (no templates). */
function patchCorePredictor(model: PatchCore): Predictor {
  return {
    config: { batchSize: model.config.batchSize, imageSize: model.config.imageSize },
    predict: async (images) => {
      const p = await model.predict(images as Parameters<PatchCore['predict']>[0]);
      return { ...p, templateIndices: new Int32Array(p.scores.length).fill(-1) };
    },
  };
}

/** Predicts the test set (after a two-image warm-up so kernel setup is not timed) and computes the metrics. */
async function evaluate(predictor: Predictor, data: CategoryData, label: string, output: Output): Promise<EvaluationMetrics> {
  await predictor.predict(data.test.slice(0, Math.min(2, data.test.length)).map((r) => r.image));
  const { prediction, seconds } = await predictTestSet(predictor, data, new ProgressBar(`evaluating ${label}`, output.quiet));
  return computeMetrics(data, prediction, seconds).metrics;
}

function rowOf(metrics: EvaluationMetrics, method: string, fields: Pick<CompareRow, 'trainSeconds' | 'extraSeconds' | 'modelBytes' | 'bankBytes'>): CompareRow {
  return {
    category: metrics.category,
    layout: metrics.layout,
    method,
    imageAuroc: metrics.imageAuroc,
    pixelAuroc: metrics.pixelAuroc,
    pro: metrics.pro,
    spro: metrics.loco?.sproMean ?? null,
    sproLogical: metrics.loco?.sproLogical ?? null,
    sproStructural: metrics.loco?.sproStructural ?? null,
    imagesPerSecond: metrics.inference.imagesPerSecond,
    ...fields,
  };
}

function thfrMemory(model: ThfrModel): Pick<CompareRow, 'modelBytes' | 'bankBytes'> {
  const m = model.memoryBytes();
  return { modelBytes: m.network, bankBytes: m.bank };
}

/** The Markdown table of the rows (percentages with one decimal, MiB with two). */
export function compareMarkdown(rows: readonly CompareRow[]): string {
  const pct = (v: number | null) => (v === null ? '–' : Number.isFinite(v) ? (100 * v).toFixed(1) : 'n/a');
  const mib = (b: number) => (b / 2 ** 20).toFixed(2);
  const train = (r: CompareRow) => (r.extraSeconds > 0 ? `${r.trainSeconds.toFixed(1)} (+${r.extraSeconds.toFixed(1)})` : r.trainSeconds.toFixed(1));
  return [
    '| Category | Method | Image AUROC | Pixel AUROC | PRO | sPRO (LOCO) | Train s | Inference img/s | Model MiB | Bank MiB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.category} | ${r.method} | ${pct(r.imageAuroc)} | ${pct(r.pixelAuroc)} | ${pct(r.pro)} | ${pct(r.spro)} | ${train(r)} | ${r.imagesPerSecond.toFixed(2)} | ${mib(r.modelBytes)} | ${mib(r.bankBytes)} |`),
    '',
  ].join('\n');
}

function listOption(values: Values, name: string, fallback: string): string[] {
  return String(values[name] ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
}

/** Flags of the comparison that shape every THFR-family config; the size defaults are the command's own. */
function sizedFlags(values: Values): Values {
  const paper = values.config === 'paper';
  return { ...values, epochs: values.epochs ?? (paper ? undefined : '15'), 'bank-ratio': undefined };
}

export const compareCommand: CommandSpec = {
  name: 'compare',
  summary: 'Benchmark THFR (G-L), its ablations (GBN only, LBN only, without template, without relation, bank 10/25/50/100%), PatchCore and RD4AD on generated MVTec-AD-like and MVTec-LOCO-like categories; writes one table (image/pixel AUROC, PRO, sPRO, train time, images/s, memory) as JSON and Markdown. The default size took 30 minutes on 2 shared CPU cores (wasm); budget 40.',
  usage: 'thfr compare [--out DIR] [--train-count N] [--test-count N] [--epochs N] [options]',
  options: {
    out: { type: 'string', help: 'working folder (data, compare.json, compare.md)', default: 'runs/compare', valueName: 'DIR' },
    categories: { type: 'string', help: "comma-separated synthetic kinds: 'ad', 'loco'", default: 'ad,loco', valueName: 'LIST' },
    methods: { type: 'string', help: `comma-separated subset of ${COMPARE_METHODS.join(', ')}`, default: 'all', valueName: 'LIST' },
    'train-count': { type: 'string', help: 'normal training images per category', default: '32', valueName: 'N' },
    'test-count': { type: 'string', help: 'test images per category', default: '40', valueName: 'N' },
    'bank-ratios': { type: 'string', help: 'THFR template bank ratios (subsampled from the trained G-L bank, no retraining)', default: '0.5,0.25,0.1', valueName: 'LIST' },
    'coreset-ratio': { type: 'string', help: 'PatchCore memory bank ratio', default: '0.1', valueName: 'R' },
    config: MODEL_OPTIONS.config,
    backbone: MODEL_OPTIONS.backbone,
    weights: MODEL_OPTIONS.weights,
    epochs: { ...MODEL_OPTIONS.epochs, help: 'training epochs of THFR variants and RD4AD', default: '15' },
    'batch-size': MODEL_OPTIONS['batch-size'],
    'image-size': MODEL_OPTIONS['image-size'],
    seed: MODEL_OPTIONS.seed,
  },
  examples: [
    'thfr compare',
    'thfr compare --train-count 60 --test-count 60 --epochs 30 --out runs/compare-large',
    'thfr compare --methods thfr-gl,patchcore --categories ad --epochs 5',
  ],
  async run(values, output, argv) {
    const started = performance.now();
    const outDir = resolve((values.out as string | undefined) ?? 'runs/compare');
    const kinds = listOption(values, 'categories', 'ad,loco');
    for (const kind of kinds) if (kind !== 'ad' && kind !== 'loco') throw new Error(`--categories takes 'ad' and/or 'loco', got '${kind}'`);
    const methodList = listOption(values, 'methods', 'all');
    const methods = new Set<MethodId>(methodList.includes('all') ? COMPARE_METHODS : (methodList as MethodId[]));
    for (const m of methods) if (!(COMPARE_METHODS as readonly string[]).includes(m)) throw new Error(`--methods: unknown method '${m}' (choose from ${COMPARE_METHODS.join(', ')}, or all)`);
    if (methods.has('thfr-bank') && !methods.has('thfr-gl')) throw new Error('--methods: thfr-bank subsamples the trained G-L model, so it needs thfr-gl too');
    const trainCount = numberOption(values, 'train-count', { integer: true, min: 2 }) ?? 32;
    const testCount = numberOption(values, 'test-count', { integer: true, min: 2 }) ?? 40;
    const bankRatios = listOption(values, 'bank-ratios', '0.5,0.25,0.1').map((r) => {
      const v = Number(r);
      if (!(v > 0 && v < 1)) throw new Error(`--bank-ratios takes ratios in (0, 1) (100% is the G-L row), got '${r}'`);
      return v;
    });
    const coresetRatio = numberOption(values, 'coreset-ratio', { min: 1e-6, max: 1 }) ?? 0.1;
    const flags = sizedFlags(values);
    configFromFlags(flags); // reject bad flags before generating anything

    const backend = await setupRuntime(values.backend as string | undefined, output);
    const backbone = await openBackbone({ name: backboneNameFromFlags(values), weights: values.weights as string | undefined });
    const rows: CompareRow[] = [];
    const write = async () => {
      const summary = {
        command: `thfr ${argv.join(' ')}`, backend, backbone: backbone.identity, createdAt: new Date().toISOString(),
        seconds: (performance.now() - started) / 1000, trainCount, testCount, config: configFromFlags(flags), rows,
      };
      await writeFileAtomically(join(outDir, 'compare.json'), JSON.stringify(summary, null, 2));
      await writeFileAtomically(join(outDir, 'compare.md'), compareMarkdown(rows));
      return summary;
    };
    const add = async (row: CompareRow) => {
      rows.push(row);
      output.note(`${row.category} / ${row.method}: image AUROC ${(100 * row.imageAuroc).toFixed(1)}, pixel AUROC ${(100 * row.pixelAuroc).toFixed(1)}, PRO ${(100 * row.pro).toFixed(1)}${row.spro === null ? '' : `, sPRO ${(100 * row.spro).toFixed(1)}`}, train ${formatDuration(row.trainSeconds)}, ${row.imagesPerSecond.toFixed(2)} img/s (total ${formatDuration((performance.now() - started) / 1000)})`);
      await write();
    };
    try {
      for (const kind of kinds) {
        const name = kind === 'ad' ? 'synthetic_ad' : 'synthetic_loco';
        output.note(`generating ${name}: ${trainCount} train + ${testCount} test images`);
        const dataDir = await writeSyntheticCategory(join(outDir, 'data', name), { kind: kind as 'ad' | 'loco', name, seed: 7, trainCount, testCount, validationCount: kind === 'loco' ? 10 : 0, size: 256 });
        await compareCategory(dataDir, backbone, flags, methods, { bankRatios, coresetRatio }, output, add);
      }
      const summary = await write();
      output.line(compareMarkdown(rows));
      output.line(`compare finished in ${formatDuration(summary.seconds)} on ${backend}; table: ${join(outDir, 'compare.md')}, ${join(outDir, 'compare.json')}`);
      output.result(summary);
    } finally {
      backbone.dispose();
    }
  },
};

async function compareCategory(dataDir: string, backbone: FeatureExtractor, flags: Values, methods: Set<MethodId>, options: { bankRatios: number[]; coresetRatio: number }, output: Output, add: (row: CompareRow) => Promise<void>): Promise<void> {
  let data: CategoryData | undefined;
  for (const variant of THFR_VARIANTS) {
    if (!methods.has(variant.id)) continue;
    output.note(`--- ${variant.label}`);
    const trained = await trainCategory(dataDir, backbone, { ...flags, ...variant.flags }, output);
    data = trained.data;
    const model = trained.model;
    try {
      const trainSeconds = model.training?.seconds ?? NaN;
      await add(rowOf(await evaluate(model, data, variant.label, output), variant.label, { trainSeconds, extraSeconds: 0, ...thfrMemory(model) }));
      if (variant.id === 'thfr-gl' && methods.has('thfr-bank')) await compareBankRatios(model, data, options.bankRatios, output, add);
    } finally {
      model.dispose();
    }
  }
  data ??= await loadCategory(dataDir, { imageSize: configFromFlags(flags).imageSize });
  const config = configFromFlags(flags, data.layout);

  if (methods.has('rd4ad')) {
    output.note('--- RD4AD');
    const bar = new ProgressBar('training RD4AD', output.quiet);
    const { model } = await trainRd4ad(backbone, data.train.map((r) => r.image), {
      baseConfig: flags.config === 'paper' ? RD4AD_PAPER_CONFIG : RD4AD_DEFAULT_CONFIG,
      config: { epochs: config.epochs, batchSize: config.batchSize, imageSize: config.imageSize, sigma: config.sigma, seed: config.seed },
      validationImages: data.validation.map((r) => r.image),
      onProgress: (p) => { if (p.phase === 'train') bar.update(p.done, p.total, `epoch ${p.epoch}/${p.epochs} loss ${p.loss?.toFixed(4)}`); },
    });
    try {
      await add(rowOf(await evaluate(model, data, 'RD4AD', output), 'RD4AD', { trainSeconds: model.training?.seconds ?? NaN, extraSeconds: 0, ...thfrMemory(model) }));
    } finally {
      model.dispose();
    }
  }

  if (methods.has('patchcore')) {
    const label = `PatchCore (coreset ${Math.round(options.coresetRatio * 100)}%)`;
    output.note(`--- ${label}`);
    const model = new PatchCore(backbone, { imageSize: config.imageSize, coresetRatio: options.coresetRatio, seed: config.seed, batchSize: config.batchSize });
    try {
      const bars = { features: new ProgressBar('PatchCore features', output.quiet), coreset: new ProgressBar('PatchCore coreset', output.quiet) };
      const fit = await model.fit(data.train.map((r) => r.image), { onProgress: (p) => bars[p.phase].update(p.done, p.total) });
      output.note(`PatchCore: ${fit.patches} patches -> ${fit.bankSize} in the memory bank (features ${formatDuration(fit.featureSeconds)}, coreset ${formatDuration(fit.coresetSeconds)})`);
      const memory = model.memoryBytes();
      await add(rowOf(await evaluate(patchCorePredictor(model), data, 'PatchCore', output), label, { trainSeconds: fit.seconds, extraSeconds: 0, modelBytes: memory.reduction, bankBytes: memory.bank }));
    } finally {
      model.dispose();
    }
  }
}

/**
 * Bank ratios (paper Table 6) without retraining: trainThfr trains with the full bank and subsamples it
 * only at the end, so subsampling the trained G-L model's bank with the same seed gives exactly the
 * model `--bank-ratio r` would train. The network is shared with the G-L model (not disposed here).
 */
async function compareBankRatios(gl: ThfrModel, data: CategoryData, ratios: number[], output: Output, add: (row: CompareRow) => Promise<void>): Promise<void> {
  if (!gl.bank) throw new Error('compare: the G-L model has no template bank');
  for (const ratio of ratios) {
    const label = `THFR G-L, bank ${Math.round(ratio * 100)}%`;
    output.note(`--- ${label}`);
    const started = performance.now();
    const bank = gl.bank.subsample(ratio, { seed: gl.config.seed });
    const extraSeconds = (performance.now() - started) / 1000;
    const config: ThfrConfig = { ...gl.config, bankRatio: ratio };
    const model = new ThfrModel(config, gl.backbone, gl.levels, gl.network, bank, gl.normalStatistics, gl.training);
    try {
      output.note(`${label}: ${bank.size} of ${gl.bank.size} templates (subsampled in ${extraSeconds.toFixed(2)} s)`);
      await add(rowOf(await evaluate(model, data, label, output), label, { trainSeconds: (gl.training?.seconds ?? NaN) + extraSeconds, extraSeconds, ...thfrMemory(model) }));
    } finally {
      bank.dispose();
    }
  }
}
