/**
 * The registry of detection methods the CLI knows: every method-specific decision of `train`, `eval`,
 * `predict`, `demo` and `compare` is here (how the shared flags become a method's config, its saved
 * folder kind, how its memory is reported); the commands only use the AnomalyDetector contract.
 * A new method plugs in with one entry (see docs/architecture.md).
 */
import type { FeatureExtractor } from '@thfr/backbone';
import { DetectorRegistry, type AnomalyDetector, type DetectorCreateOptions, type DetectorMethod, type RgbImageLike } from '@thfr/detector';
import type { OutputKind } from '@thfr/detector/node';
import { ThfrModel, type ThfrDetector } from '@thfr/model';
import { THFR_METHOD } from '@thfr/model/node';
import { mapStatisticsOptions, measureMapStatistics, type RestorationConfig, type RestorationDetector, type RestorationFitOptions, type RestorationModel } from '@thfr/restoration';
import { CHECKPOINT_OUTPUT, MODEL_OUTPUT, disposeCheckpoint, loadCheckpoint, saveCheckpoint } from '@thfr/restoration/node';
import { Rd4adModel, type Rd4adDetector } from '@thfr/rd4ad';
import { RD4AD_METHOD } from '@thfr/rd4ad/node';
import type { CategoryData } from '@thfr/data/node';
import type { PatchCore } from '@thfr/patchcore';
import { PATCHCORE_METHOD, PATCHCORE_OUTPUT } from '@thfr/patchcore/node';
import type { Padim } from '@thfr/padim';
import { PADIM_METHOD, PADIM_OUTPUT } from '@thfr/padim/node';
import { numberOption } from './command.js';
import { configFromFlags, mapNormalizationFromFlags, type Values } from './train-options.js';

export type Layout = 'mvtec-ad' | 'mvtec-loco';

/** Fit options a method takes from the train flags, and what to release after the fit. */
export interface MethodFitExtras {
  options: Record<string, unknown>;
  dispose(): void;
}

/** A derived detector that costs no new fit (e.g. THFR with a subsampled bank), for compare. */
export interface DerivedDetector {
  label: string;
  detector: AnomalyDetector;
  extraSeconds: number;
  dispose(): void;
}

/** Rows `thfr compare` derives from a method's fitted main row without refitting, asked for by one `--methods` id. */
export interface DerivedRows {
  /** The `--methods` id (e.g. 'thfr-bank'). */
  id: string;
  rows(detector: AnomalyDetector, context: { data: CategoryData; bankRatios: number[] }): AsyncIterable<DerivedDetector>;
}

export interface CliMethod {
  readonly method: DetectorMethod<FeatureExtractor>;
  /** What its saved folders look like to `train --out` (which replaces only its own kind). */
  readonly output: OutputKind;
  /** Whether --checkpoint-dir / --resume apply. */
  readonly checkpoints: boolean;
  /** Whether its models hold a restoration network (`thfr export-onnx --model` writes it). */
  readonly restorationNetwork: boolean;
  /** Create options from the shared flags; `layout` picks dataset-dependent defaults (sigma). Validates the flags. */
  createOptions(values: Values, layout?: Layout): DetectorCreateOptions;
  /** A short label of a detector (reports, compare rows). */
  label(detector: AnomalyDetector): string;
  /** What fitting settled that the flags did not ask for (THFR: the layout check turned the template off), for compare rows. */
  settled?(detector: AnomalyDetector, flags: Values): string | undefined;
  /** One line about a created detector's config (train notes). */
  describe(detector: AnomalyDetector): string;
  fitExtras?(flags: { checkpointDir?: string; checkpointEvery?: number; resume?: string }): Promise<MethodFitExtras>;
  /** The heatmap range of predict's overlays when the method is calibrated on normal images. */
  pixelRange?(detector: AnomalyDetector): [number, number] | undefined;
  /** Bytes of the learned model and of its bank (compare rows); the shared backbone is not counted. */
  memory(detector: AnomalyDetector): { modelBytes: number; bankBytes: number };
  /**
   * The rows `thfr compare` fits for this method (default: one row, id = the method's name): e.g. THFR's ablations
   * (paper Tables 4, 5) as train flags. The first is the main row; `derivedRows` come from its fitted detector.
   */
  compareVariants?: CompareVariant[];
  /** Rows derived from the fitted main row without refitting (THFR's bank ratios, the other anomaly map). */
  derivedRows?: DerivedRows[];
}

/** One row of `thfr compare` for a method: an id for `--methods`, a label, and the train flags that make it. */
export interface CompareVariant {
  id: string;
  label: string;
  flags: Values;
}

const sizeFlags = (values: Values, layout?: Layout) => {
  const c = configFromFlags(values, layout); // validates every shared number flag
  return { imageSize: c.imageSize, batchSize: c.batchSize, seed: c.seed, sigma: c.sigma, epochs: c.epochs };
};

/** THFR and RD4AD are restoration detectors (@thfr/restoration): the same checkpoints, calibration range and memory report. */
const restoration = {
  checkpoints: true,
  restorationNetwork: true,
  async fitExtras(flags: { checkpointDir?: string; checkpointEvery?: number; resume?: string }): Promise<MethodFitExtras> {
    const resumeFrom = flags.resume ? await loadCheckpoint(flags.resume) : undefined;
    const options: Partial<RestorationFitOptions> = {
      resumeFrom,
      checkpointEvery: flags.checkpointDir ? (flags.checkpointEvery ?? 10) : undefined,
      onCheckpoint: flags.checkpointDir ? (c) => saveCheckpoint(c, flags.checkpointDir!) : undefined,
    };
    return { options, dispose: () => { if (resumeFrom) disposeCheckpoint(resumeFrom); } };
  },
  pixelRange(detector: AnomalyDetector): [number, number] | undefined {
    const stats = (detector as RestorationDetector<RestorationConfig, RestorationModel>).model.normalStatistics;
    return stats ? [0, Math.max(stats.pixelMax * 1.5, 1e-6)] : undefined;
  },
  memory(detector: AnomalyDetector) {
    const m = detector.memoryBytes();
    return { modelBytes: m.network ?? 0, bankBytes: m.bank ?? 0 };
  },
};

/** The flag that keeps the template compensation on whatever the layout check says (templateMinAlignment 0). */
const PAPER_TEMPLATE = { 'template-min-alignment': '0' } as const;

export const THFR: CliMethod = {
  method: THFR_METHOD,
  output: MODEL_OUTPUT,
  ...restoration,
  // The ablations of paper Tables 4 and 5, each a network of its own (fitted through this entry with the flags).
  // The ablations of the paper's method keep its template whatever the layout check would say
  // ('template-min-alignment' 0), so that on a texture they stay ablations of the same network.
  compareVariants: [
    { id: 'thfr-gl', label: 'THFR G-L (bank 100%)', flags: {} },
    { id: 'thfr-gbn', label: 'THFR GBN only', flags: { bottleneck: 'gbn', ...PAPER_TEMPLATE } },
    { id: 'thfr-lbn', label: 'THFR LBN only', flags: { bottleneck: 'lbn', ...PAPER_TEMPLATE } },
    { id: 'thfr-no-template', label: 'THFR G-L without template', flags: { 'no-template': true } },
    // The paper's G-L whatever the layout check says (the default turns the template off on textures).
    { id: 'thfr-template', label: 'THFR G-L, template always (paper)', flags: { ...PAPER_TEMPLATE } },
    { id: 'thfr-no-relation', label: 'THFR G-L without relation', flags: { 'no-relation': true, ...PAPER_TEMPLATE } },
    { id: 'thfr-relation', label: 'THFR G-L with relation', flags: { relation: true, ...PAPER_TEMPLATE } },
    { id: 'thfr-per-stream', label: 'THFR G-L, per-stream template references', flags: { 'template-references': 'per-stream', ...PAPER_TEMPLATE } },
    // Paper eq. 1: training templates drawn among the n nearest (n = 1 for MVTec AD in the paper; inference uses the nearest).
    { id: 'thfr-top3', label: 'THFR G-L, training templates among the top 3', flags: { 'top-n': '3', ...PAPER_TEMPLATE } },
  ],
  createOptions: (values, layout) => ({ preset: (values.config as string | undefined) ?? 'default', config: { ...configFromFlags(values, layout) } }),
  label: () => 'THFR',
  settled: (d, flags) => {
    const config = (d as ThfrDetector).config;
    if (flags['no-template'] || config.template) return undefined;
    const map = flags['map-normalization'] || config.mapNormalization === 'none' ? '' : `, ${config.mapNormalization} map`;
    return `template off by the layout check${map}`;
  },
  describe: (d) => {
    const config = (d as ThfrDetector).config;
    return `${config.bottleneck}${config.template ? '' : ', no template'}${config.template && !config.relation ? ', no relation' : ''}${config.template && config.templateReferences === 'per-stream' ? ', per-stream templates' : ''}, ${config.epochs} epochs, batch ${config.batchSize}, ${config.imageSize}px`;
  },
  derivedRows: [
    {
      // The papers' map (eq. 4-5) from the same network: what the per-position standardization adds, without retraining.
      id: 'thfr-paper-map',
      async *rows(detector) {
        const model = (detector as ThfrDetector).model;
        if (model.config.mapNormalization === 'none') return;
        const view = derivedView(detector, (images, options) => model.predict(images, { ...options, rawMap: true }), () => {});
        yield { label: "THFR G-L, the papers' map (no per-position standardization)", detector: view, extraSeconds: 0, dispose: () => {} };
      },
    },
    {
      // The texture map's mean measured at each pixel instead of over the code grid's cells ('per-position', the
      // eighth session's texture map), from the same network: what pooling the mean adds, without retraining.
      id: 'thfr-per-position-map',
      async *rows(detector, { data }) {
        const fitted = (detector as ThfrDetector).model;
        if (fitted.config.mapNormalization !== 'texture') return;
        const model = new ThfrModel({ config: { ...fitted.config, mapNormalization: 'per-position' }, backbone: fitted.backbone, levels: fitted.levels, network: fitted.network, bank: fitted.bank, normalStatistics: fitted.normalStatistics, training: fitted.training });
        // The training images' maps as finishTraining measures them: none is its own template.
        yield await restandardizedRow(detector, fitted, model, data, 'THFR G-L, per-position map (mean per pixel)', (count) => fitted.ownTemplateIndices(count));
      },
    },
    {
      /**
       * Bank ratios (paper Table 6) without retraining: trainThfr trains with the full bank and subsamples
       * it only at the end, so subsampling the trained model's bank with the same seed gives exactly the
       * model `--bank-ratio r` would train. The network stays the fitted detector's.
       */
      id: 'thfr-bank',
      async *rows(detector, { bankRatios }) {
        const gl = (detector as ThfrDetector).model;
        // No bank when training turned the template off (config.templateMinAlignment): no bank rows either.
        if (!gl.bank) return;
        for (const ratio of bankRatios) {
          const started = performance.now();
          const bank = await gl.bank.subsample(ratio, { seed: gl.config.seed });
          const extraSeconds = (performance.now() - started) / 1000;
          const model = new ThfrModel({ config: { ...gl.config, bankRatio: ratio }, backbone: gl.backbone, levels: gl.levels, network: gl.network, bank, normalStatistics: gl.normalStatistics, mapStatistics: gl.mapStatistics, training: gl.training });
          const view = derivedView(detector, (images, options) => model.predict(images, options), () => bank.dispose(), () => model.memoryBytes());
          yield { label: `THFR G-L, bank ${Math.round(ratio * 100)}% (${bank.size} of ${gl.bank.size} templates)`, detector: view, extraSeconds, dispose: () => bank.dispose() };
        }
      },
    },
  ],
};

/**
 * A derived row's detector: it predicts through `predict` (a model sharing the fitted detector's network) and
 * cannot be refitted; `dispose` frees only what the derivation added.
 */
function derivedView(fitted: AnomalyDetector, predict: AnomalyDetector['predict'], dispose: () => void, memoryBytes: AnomalyDetector['memoryBytes'] = () => fitted.memoryBytes()): AnomalyDetector {
  return {
    method: fitted.method, imageSize: fitted.imageSize, batchSize: fitted.batchSize, backbone: fitted.backbone, fitted: true,
    fit: () => Promise.reject(new Error('a derived detector cannot be refitted')),
    predict,
    memoryBytes,
    dispose,
  };
}

export const RD4AD: CliMethod = {
  method: RD4AD_METHOD,
  output: MODEL_OUTPUT,
  ...restoration,
  createOptions: (values, layout) => {
    const { epochs, batchSize, imageSize, sigma, seed } = sizeFlags(values, layout);
    // RD4AD keeps its own map unless --map-normalization asks (THFR's default preset standardizes per position).
    const mapNormalization = mapNormalizationFromFlags(values);
    return { preset: (values.config as string | undefined) ?? 'default', config: { epochs, batchSize, imageSize, sigma, seed, ...(mapNormalization ? { mapNormalization } : {}) } };
  },
  label: () => 'RD4AD',
  describe: (d) => {
    const config = (d as Rd4adDetector).config;
    return `RD4AD (OCBE of ${config.localBottleneckBlocks} blocks, no template), ${config.epochs} epochs, batch ${config.batchSize}, ${config.imageSize}px`;
  },
  derivedRows: ([['rd4ad-per-position', 'per-position'], ['rd4ad-texture-map', 'texture']] as const).map(([id, mapNormalization]) => ({
    // RD4AD with THFR's standardized maps ('per-position': the mean per pixel; 'texture': the mean over the code grid's
    // cells, THFR's default on textures), measured as training would (on the training images' maps), so the baselines'
    // comparison can tell what the map adds from what the network does.
    id,
    async *rows(detector: AnomalyDetector, { data }: { data: CategoryData }) {
      const fitted = (detector as Rd4adDetector).model;
      if (fitted.config.mapNormalization === mapNormalization) return;
      const model = new Rd4adModel({ ...fitted.config, mapNormalization }, fitted.backbone, fitted.levels, fitted.network);
      yield await restandardizedRow(detector, fitted, model, data, `RD4AD, ${mapNormalization} map`);
    },
  })),
};

/**
 * A derived row: `model` (the fitted network under another config.mapNormalization) with its map statistics measured
 * as finishTraining measures them, on the papers' maps of the training images (`excludeTemplates`: THFR's
 * leave-one-out templates).
 */
async function restandardizedRow(detector: AnomalyDetector, fitted: RestorationModel, model: RestorationModel, data: CategoryData, label: string, excludeTemplates?: (count: number) => Array<number | undefined>): Promise<DerivedDetector> {
  const started = performance.now();
  const predictRaw = (images: readonly RgbImageLike[]) => fitted.predict(images, { rawMap: true, excludeTemplates: excludeTemplates?.(images.length) });
  const options = mapStatisticsOptions(model.config, fitted.levels);
  model.mapStatistics = (await measureMapStatistics(predictRaw, data.train.map((r) => r.image), fitted.config.imageSize, options)).statistics;
  const view = derivedView(detector, (images, predictOptions) => model.predict(images, predictOptions), () => {});
  return { label, detector: view, extraSeconds: (performance.now() - started) / 1000, dispose: () => {} };
}

export const PATCHCORE: CliMethod = {
  method: PATCHCORE_METHOD,
  output: PATCHCORE_OUTPUT,
  checkpoints: false,
  restorationNetwork: false,
  createOptions: (values, layout) => {
    const { batchSize, imageSize, seed } = sizeFlags(values, layout);
    const coresetRatio = numberOption(values, 'coreset-ratio', { min: 1e-6, max: 1 });
    const sigma = numberOption(values, 'sigma', { min: 0 });
    return { preset: (values.config as string | undefined) ?? 'default', config: { imageSize, batchSize, seed, ...(coresetRatio === undefined ? {} : { coresetRatio }), ...(sigma === undefined ? {} : { sigma }) } };
  },
  label: (d) => `PatchCore (coreset ${Math.round((d as PatchCore).config.coresetRatio * 100)}%)`,
  describe: (d) => {
    const c = (d as PatchCore).config;
    return `PatchCore, coreset ${c.coresetRatio}, ${c.imageSize}px`;
  },
  memory: (d) => {
    const m = (d as PatchCore).memoryBytes();
    return { modelBytes: m.reduction, bankBytes: m.bank };
  },
};

export const PADIM: CliMethod = {
  method: PADIM_METHOD,
  output: PADIM_OUTPUT,
  checkpoints: false,
  restorationNetwork: false,
  createOptions: (values, layout) => {
    const { batchSize, imageSize, seed } = sizeFlags(values, layout);
    const sigma = numberOption(values, 'sigma', { min: 0 });
    return { config: { imageSize, batchSize, seed, ...(sigma === undefined ? {} : { sigma }) } };
  },
  label: () => 'PaDiM',
  describe: (d) => {
    const p = d as Padim;
    return `PaDiM, ${p.channels.length} channels of levels ${p.layers.join('+')}, ${p.config.imageSize}px`;
  },
  memory: (d) => {
    const m = (d as Padim).memoryBytes();
    return { modelBytes: 0, bankBytes: m.mean + m.precision };
  },
};

/** Every method, by registry name, in the order help and compare list them. */
export const CLI_METHODS: Record<string, CliMethod> = { thfr: THFR, rd4ad: RD4AD, patchcore: PATCHCORE, padim: PADIM };

export const METHOD_REGISTRY = new DetectorRegistry<FeatureExtractor>(Object.values(CLI_METHODS).map((m) => m.method));

/** The entry called `name` (an error lists the choices). */
export function cliMethod(name: string): CliMethod {
  return CLI_METHODS[METHOD_REGISTRY.get(name).name];
}

/** The entry of the method that wrote a parsed manifest. */
export function cliMethodForManifest(manifest: Record<string, unknown>, source: string): CliMethod {
  return CLI_METHODS[METHOD_REGISTRY.forManifest(manifest, source).name];
}

export { CHECKPOINT_OUTPUT };
