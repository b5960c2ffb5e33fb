import { join, resolve } from 'node:path';
import { REAL_PHOTO_CATEGORIES, REAL_PHOTO_CATEGORY_NAMES, writeRealPhotoCategory, writeSyntheticCategory, type CategoryData } from '@thfr/data/node';
import { checkOutputPath, type OutputKind } from '@thfr/detector/node';
import type { AnomalyDetector } from '@thfr/detector';
import type { FeatureExtractor } from '@thfr/backbone';
import { numberOption, type CommandSpec } from '../command.js';
import { openBackbone } from '../backbones.js';
import { computeMetrics, predictTestSet, type EvaluationMetrics } from '../evaluate.js';
import { CLI_METHODS, type CliMethod, type CompareVariant } from '../methods.js';
import { writeFileAtomically } from '../files.js';
import { ProgressBar, formatDuration } from '../progress.js';
import { setupRuntime } from '../runtime.js';
import { MODEL_OPTIONS, backboneNameFromFlags, configFromFlags, type Values } from '../train-options.js';
import type { Output } from '../output.js';
import { trainCategory } from './train.js';

/** A method's compare rows: its variants (default: one row named after it). */
function variantsOf(name: string, entry: CliMethod): CompareVariant[] {
  return entry.compareVariants ?? [{ id: name, label: '', flags: {} }];
}

/** Method ids `--methods` accepts, in the order they run: per registered method, its main row, its derived rows, its other variants. */
export const COMPARE_METHODS: readonly string[] = Object.entries(CLI_METHODS).flatMap(([name, entry]) => {
  const [main, ...others] = variantsOf(name, entry).map((v) => v.id);
  return [main, ...(entry.derivedRows ?? []).map((d) => d.id), ...others];
});
type MethodId = string;

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

/** Predicts the test set (after a two-image warm-up so kernel setup is not timed) and computes the metrics. */
async function evaluate(predictor: AnomalyDetector, data: CategoryData, label: string, output: Output): Promise<EvaluationMetrics> {
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

/** What `--categories` accepts besides the real-photo category names: the synthetic kinds and group names. */
const CATEGORY_GROUPS: Record<string, readonly string[]> = {
  real: REAL_PHOTO_CATEGORY_NAMES,
  'real-texture': REAL_PHOTO_CATEGORY_NAMES.filter((n) => REAL_PHOTO_CATEGORIES[n].kind === 'texture'),
  'real-loco': REAL_PHOTO_CATEGORY_NAMES.filter((n) => REAL_PHOTO_CATEGORIES[n].kind === 'loco'),
};

/**
 * Expands `--categories`: 'ad' and 'loco' (the synthetic categories), real-photo category names
 * (real-texture-gravel, ..., real-loco-coins), globs over them ('real-texture-*') and the groups 'real',
 * 'real-texture', 'real-loco'. Keeps the order given and drops repeats.
 */
export function expandCompareCategories(list: readonly string[]): string[] {
  const out: string[] = [];
  const add = (name: string) => {
    if (!out.includes(name)) out.push(name);
  };
  for (const item of list) {
    if (item === 'ad' || item === 'loco' || Object.hasOwn(REAL_PHOTO_CATEGORIES, item)) add(item);
    else if (Object.hasOwn(CATEGORY_GROUPS, item)) CATEGORY_GROUPS[item].forEach(add);
    else if (item.includes('*')) {
      const escaped = item.split('*').map((part) => part.replace(/[.+?^$(){}|[\]\\]/g, '\\$&'));
      const re = new RegExp('^' + escaped.join('.*') + '$');
      const matched = REAL_PHOTO_CATEGORY_NAMES.filter((n) => re.test(n));
      if (matched.length === 0) throw new Error(`--categories: '${item}' matches no real-photo category (${REAL_PHOTO_CATEGORY_NAMES.join(', ')})`);
      matched.forEach(add);
    } else {
      throw new Error(`--categories takes 'ad', 'loco', real-photo categories (${REAL_PHOTO_CATEGORY_NAMES.join(', ')}), globs such as 'real-texture-*', or the groups ${Object.keys(CATEGORY_GROUPS).join(', ')}; got '${item}'`);
    }
  }
  return out;
}

/** A compare working folder, recognised by its compare.json (written before anything else goes into it). */
export const COMPARE_OUTPUT: OutputKind = { label: 'thfr compare output', marker: 'compare.json' };

/** Flags of the comparison that shape every THFR-family config; the size defaults are the command's own. */
function sizedFlags(values: Values): Values {
  const paper = values.config === 'paper';
  return { ...values, epochs: values.epochs ?? (paper ? undefined : '15'), 'bank-ratio': undefined };
}

export const compareCommand: CommandSpec = {
  name: 'compare',
  summary: "Benchmark THFR (G-L), its ablations (GBN only, LBN only, without template, template always (paper), without relation, bank 10/25/50/100%, the papers' map, the per-pixel mean of the texture map), RD4AD (and with the per-position and texture maps), PatchCore and PaDiM (every method of the registry) on generated MVTec-AD-like and MVTec-LOCO-like categories (synthetic, or built from real photos); writes one table (image/pixel AUROC, PRO, sPRO, train time, images/s, memory) as JSON and Markdown. With `--config fast` (128 px) the default size took 30 minutes on 2 shared CPU cores (wasm); the default config trains at 256 px, about four times as long.",
  usage: 'thfr compare [--out DIR] [--train-count N] [--test-count N] [--epochs N] [options]',
  options: {
    out: { type: 'string', help: 'working folder (data, compare.json, compare.md)', default: 'runs/compare', valueName: 'DIR' },
    categories: { type: 'string', help: "comma-separated categories: synthetic 'ad', 'loco'; real-photo ones (real-texture-gravel, real-texture-brick, real-texture-ihc, real-loco-coins), globs ('real-texture-*') or groups ('real', 'real-texture', 'real-loco')", default: 'ad,loco', valueName: 'LIST' },
    methods: { type: 'string', help: `comma-separated subset of ${COMPARE_METHODS.join(', ')}`, default: 'all', valueName: 'LIST' },
    'train-count': { type: 'string', help: 'normal training images per category', default: '32', valueName: 'N' },
    'test-count': { type: 'string', help: 'test images per category', default: '40', valueName: 'N' },
    'bank-ratios': { type: 'string', help: 'THFR template bank ratios (subsampled from the trained G-L bank, no retraining)', default: '0.5,0.25,0.1', valueName: 'LIST' },
    'coreset-ratio': { type: 'string', help: 'PatchCore memory bank ratio', default: '0.1', valueName: 'R' },
    config: MODEL_OPTIONS.config,
    backbone: MODEL_OPTIONS.backbone,
    weights: MODEL_OPTIONS.weights,
    features: MODEL_OPTIONS.features,
    epochs: { ...MODEL_OPTIONS.epochs, help: 'training epochs of THFR variants and RD4AD', default: '15' },
    'batch-size': MODEL_OPTIONS['batch-size'],
    'image-size': MODEL_OPTIONS['image-size'],
    'top-n': { ...MODEL_OPTIONS['top-n'], help: "THFR variants' training: draw the template among the n nearest other images (paper eq. 1; the preset's: 1)" },
    'map-normalization': MODEL_OPTIONS['map-normalization'],
    seed: MODEL_OPTIONS.seed,
  },
  examples: [
    'thfr compare --config fast',
    'thfr compare --train-count 60 --test-count 60 --epochs 30 --out runs/compare-large',
    'thfr compare --methods thfr-gl,patchcore --categories ad --epochs 5',
    "thfr compare --categories 'ad,loco,real-texture-*,real-loco'",
  ],
  async run(values, output, argv) {
    const started = performance.now();
    const outDir = resolve((values.out as string | undefined) ?? 'runs/compare');
    const kinds = expandCompareCategories(listOption(values, 'categories', 'ad,loco'));
    const methodList = listOption(values, 'methods', 'all');
    const methods = new Set<MethodId>(methodList.includes('all') ? COMPARE_METHODS : (methodList as MethodId[]));
    for (const m of methods) if (!(COMPARE_METHODS as readonly string[]).includes(m)) throw new Error(`--methods: unknown method '${m}' (choose from ${COMPARE_METHODS.join(', ')}, or all)`);
    for (const [name, entry] of Object.entries(CLI_METHODS)) {
      const main = variantsOf(name, entry)[0].id;
      for (const { id } of entry.derivedRows ?? []) {
        if (methods.has(id) && !methods.has(main)) throw new Error(`--methods: ${id} is derived from the trained ${main} model without refitting, so it needs ${main} too`);
      }
    }
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
    // --out may be new, empty or an earlier compare folder (rewritten); never a file, a foreign folder or one holding --weights.
    const weights = values.weights as string | undefined;
    await checkOutputPath(outDir, { kind: COMPARE_OUTPUT, flag: '--out', merge: true, inputs: weights ? [{ path: weights, flag: '--weights' }] : [] });

    const backend = await setupRuntime(values.backend as string | undefined, output, Boolean(values.verbose));
    const backbone = await openBackbone({ name: backboneNameFromFlags(values), weights: values.weights as string | undefined, features: values.features as string | undefined });
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
      await write(); // compare.json first, so that an interrupted or repeated run is recognised as a compare folder
      for (const kind of kinds) {
        const synthetic = kind === 'ad' || kind === 'loco';
        const name = synthetic ? (kind === 'ad' ? 'synthetic_ad' : 'synthetic_loco') : kind;
        const loco = kind === 'loco' || REAL_PHOTO_CATEGORIES[kind]?.kind === 'loco';
        output.note(`generating ${name}: ${trainCount} train + ${testCount} test images`);
        const generation = { name, seed: 7, trainCount, testCount, validationCount: loco ? 10 : 0, size: 256 };
        const dataDir = synthetic
          ? await writeSyntheticCategory(join(outDir, 'data', name), { ...generation, kind: kind as 'ad' | 'loco' })
          : await writeRealPhotoCategory(join(outDir, 'data', name), { ...generation, category: kind });
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
  const fitAndEvaluate = async (entry: CliMethod, label: string | undefined, methodFlags: Values, after?: (detector: AnomalyDetector, data: CategoryData, trainSeconds: number) => Promise<void>) => {
    output.note(`--- ${label ?? entry.method.name}`);
    const trained = await trainCategory(dataDir, backbone, { ...methodFlags, method: entry.method.name }, output);
    const { detector } = trained;
    try {
      const settled = entry.settled?.(detector, methodFlags);
      const name = `${label ?? entry.label(detector)}${settled ? ` [${settled}]` : ''}`;
      const trainSeconds = detector.fitSummary?.seconds ?? NaN;
      await add(rowOf(await evaluate(detector, trained.data, name, output), name, { trainSeconds, extraSeconds: 0, ...entry.memory(detector) }));
      await after?.(detector, trained.data, trainSeconds);
    } finally {
      detector.dispose();
    }
  };
  for (const [name, entry] of Object.entries(CLI_METHODS)) {
    const variants = variantsOf(name, entry);
    const configOf = (variant: CompareVariant) => JSON.stringify(entry.createOptions({ ...flags, ...variant.flags }));
    const mainConfig = configOf(variants[0]);
    for (const [index, variant] of variants.entries()) {
      if (!methods.has(variant.id)) continue;
      // An ablation that the preset already is (e.g. 'without relation' where the preset has none) would only
      // retrain the main row: say so instead.
      if (index > 0 && configOf(variant) === mainConfig) {
        output.note(`--- ${variant.label}: skipped, the same configuration as ${variants[0].label}`);
        continue;
      }
      const derivations = index === 0 ? (entry.derivedRows ?? []).filter((d) => methods.has(d.id)) : [];
      // Every method gets the same size flags (RD4AD: THFR's epochs, batch and sigma), plus its variant's.
      await fitAndEvaluate(entry, variant.label || undefined, { ...flags, 'coreset-ratio': String(options.coresetRatio), ...variant.flags }, derivations.length ? async (detector, categoryData, trainSeconds) => {
        // Derived rows (THFR: the papers' map and the bank ratios of paper Table 6; RD4AD: the per-position map)
        // from the trained main model, without retraining.
        for (const derivation of derivations) {
          for await (const derived of derivation.rows(detector, { data: categoryData, bankRatios: options.bankRatios })) {
            try {
              const label = derived.label.replace(/ \(.*\)$/, '');
              output.note(`--- ${derived.label}, derived in ${derived.extraSeconds.toFixed(2)} s`);
              await add(rowOf(await evaluate(derived.detector, categoryData, label, output), label, { trainSeconds: trainSeconds + derived.extraSeconds, extraSeconds: derived.extraSeconds, ...entry.memory(derived.detector) }));
            } finally {
              derived.dispose();
            }
          }
        }
      } : undefined);
    }
  }
}
