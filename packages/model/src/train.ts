import { tf } from '@thfr/tensor';
import type { FeatureExtractor } from '@thfr/backbone';
import type { RgbImageLike, SeededRandom } from '@thfr/detector';
import { TemplateBank } from '@thfr/template-bank';
import {
  finishTraining, optimiseRestoration, prepareTraining,
  type FeatureCache, type RestorationTrainOptions, type TrainingCheckpoint as RestorationCheckpoint, type TrainProgress, type TrainResult as RestorationTrainResult,
} from '@thfr/restoration';
import { resolveConfig, type ThfrConfig } from './config.js';
import { ThfrNetwork } from './network.js';
import { templateReference } from './template-reference.js';
import { ThfrModel } from './thfr-model.js';
import { measureLayoutAlignment, type LayoutAlignment } from './layout-alignment.js';

export type { TrainPhase, TrainProgress } from '@thfr/restoration';

/** Everything needed to continue a THFR training run exactly where it stopped. */
export type TrainingCheckpoint = RestorationCheckpoint<ThfrConfig>;

/** What training decided about the template compensation (config.templateMinAlignment). */
export interface TemplateDecision extends LayoutAlignment {
  /** config.templateMinAlignment. */
  threshold: number;
  /** Whether the trained model uses templates. */
  template: boolean;
}

/** trainThfr's options: @thfr/restoration's trainer options for a THFR config, and the template decision's report. */
export type TrainOptions = RestorationTrainOptions<ThfrConfig> & {
  /** Called once the layout alignment is measured (only when config.template and config.templateMinAlignment > 0). */
  onTemplateDecision?: (decision: TemplateDecision) => void;
};

/** The trained model and its training losses per epoch. */
export type TrainResult = RestorationTrainResult<ThfrModel>;

/**
 * Trains THFR on normal images, in phases: prepare (levels, network, memory check, feature cache: the
 * backbone runs once), layout (config.templateMinAlignment: the template compensation is turned off when no
 * position of an image corresponds to its nearest neighbour's, e.g. on a texture), bank (the template bank of every training image, and each one's top-n nearest OTHER
 * images as its template candidates), optimise (@thfr/restoration's loop, each batch with templates drawn
 * among those candidates, paper eq. 1), bank subsampling (config.bankRatio, greedy k-center) and calibration.
 */
export async function trainThfr(backbone: FeatureExtractor, images: readonly RgbImageLike[], givenOptions: TrainOptions = {}): Promise<TrainResult> {
  let config = resolveConfig(givenOptions.config, givenOptions.baseConfig);
  let options = givenOptions;
  const checkpoint = givenOptions.resumeFrom;
  const saved = checkpoint?.config as Partial<ThfrConfig> | undefined;
  if (checkpoint && saved?.textureMapNormalization === undefined) {
    // A checkpoint from before the per-position map trained with the papers' map everywhere: it reads so, and continues so.
    options = { ...givenOptions, resumeFrom: { ...checkpoint, config: { ...PAPERS_MAP, ...saved } as ThfrConfig } };
    config = { ...config, ...PAPERS_MAP };
  }
  const resumed = options.resumeFrom?.config as ThfrConfig | undefined;
  if (resumed && config.template) {
    // The checkpoint's network was built after its run's layout check: keep that decision (and the map it set)
    // instead of measuring again (a checkpoint from before the check has no templateMinAlignment and kept the template).
    config = {
      ...config, template: resumed.template ?? config.template, templateMinAlignment: resumed.templateMinAlignment,
      mapNormalization: resumed.mapNormalization,
    };
  }
  const started = performance.now();
  const prepared = await prepareTraining('trainThfr', backbone, images, config, (l, c) => new ThfrNetwork(l, c), options,
    (l, net) => trainingBankBytesPerImage(l, net.codeSize, net.templateChannels, config));
  const { levels, cache } = prepared;
  let network = prepared.network;
  let ownedNetwork: ThfrNetwork | undefined = network;
  let fullBank: TemplateBank | undefined;
  try {
    if (!resumed && config.template && config.templateMinAlignment > 0) {
      options.onProgress?.({ phase: 'layout', done: 0, total: 1 });
      const measured = await measureLayoutAlignment(cache);
      const template = measured.alignment >= config.templateMinAlignment;
      options.onTemplateDecision?.({ ...measured, threshold: config.templateMinAlignment, template });
      const textureMap = config.textureMapNormalization === 'none' ? '' : `, map standardized per position${config.textureMapNormalization === 'texture' ? ' (texture)' : ''}`;
      const verdict = template ? 'template compensation on' : `no position corresponds (a texture?): template compensation off${textureMap}`;
      options.onProgress?.({ phase: 'layout', done: 1, total: 1, detail: `${measured.alignment.toFixed(2)} ${template ? '>=' : '<'} ${config.templateMinAlignment}: ${verdict}` });
      if (!template) {
        // The same network without its compensation modules, from the same seed, and the texture's map.
        config = { ...config, template: false, mapNormalization: config.textureMapNormalization };
        network.dispose();
        ownedNetwork = undefined;
        network = new ThfrNetwork(levels, config);
        ownedNetwork = network;
      }
    }
    let templatesFor: ((batchIndices: Int32Array, random: SeededRandom) => tf.Tensor4D) | undefined;
    if (config.template) {
      const bankPhase = await buildTrainingBank(cache, network.codeSize, config, options.onProgress);
      fullBank = bankPhase.bank;
      const { candidates } = bankPhase;
      const bank = fullBank;
      templatesFor = (batchIndices, random) => {
        const picks = Array.from(batchIndices, (i) => candidates[i][Math.floor(random.next() * candidates[i].length)]);
        return bank.gather(picks)[0];
      };
    }
    const { lossHistory, epochs } = await optimiseRestoration({ ...options, network, cache, config, templatesFor });

    let bank = fullBank;
    if (fullBank && config.bankRatio < 1) {
      bank = await fullBank.subsample(config.bankRatio, { seed: config.seed, signal: options.signal });
      fullBank.dispose();
    }
    fullBank = undefined;
    const model = new ThfrModel({ config, backbone, levels, network, bank });
    ownedNetwork = undefined;
    // Leave-one-out calibration on the training images: an image never serves as its own template.
    await finishTraining(model, images, options, { epochs, lossHistory, started }, (list, extra) => model.predict(list, { ...extra, excludeTemplates: model.ownTemplateIndices(list.length) }));
    return { model, lossHistory };
  } finally {
    cache.dispose();
    fullBank?.dispose();
    ownedNetwork?.dispose();
  }
}

/**
 * Backend bytes of one image in the training bank: its search key (the deepest level, unreduced) and, stored as
 * float32 tensors, its template reference (float16 values are held in JavaScript memory).
 */
function trainingBankBytesPerImage(levels: ReadonlyArray<{ size: number; channels: number }>, codeSize: number, templateChannels: number, config: ThfrConfig): number {
  if (!config.template) return 0;
  const deepest = levels[levels.length - 1];
  const keyFloats = deepest.size * deepest.size * deepest.channels;
  const valueFloats = config.bankStorage === 'float32' ? codeSize * codeSize * templateChannels : 0;
  return (keyFloats + valueFloats) * 4;
}

/** Images per chunk when building the bank from the feature cache: bounds the tensors alive at once. */
const BANK_CHUNK = 16;

/**
 * The bank phase: the template bank of every training image (keys: its deepest level; values: the template
 * reference at the code's size) and, per image, its top-n nearest other images (never itself), searched once
 * since the features do not change during training. Works through the cache in chunks, so the backend never
 * holds every image's features at once, and reads back asynchronously (WebGPU in Node has no sync read).
 */
async function buildTrainingBank(cache: FeatureCache, codeSize: number, config: ThfrConfig, onProgress?: (p: TrainProgress) => void): Promise<{ bank: TemplateBank; candidates: Int32Array[] }> {
  const n = cache.count;
  const deepestLevel = cache.levelCount - 1;
  onProgress?.({ phase: 'bank', done: 0, total: 2 * n });
  const builder = TemplateBank.builder({ storage: config.bankStorage });
  let bank: TemplateBank;
  try {
    for (let start = 0; start < n; start += BANK_CHUNK) {
      const levels = cache.slice(start, start + BANK_CHUNK);
      try {
        const reference = templateReference(levels, codeSize);
        try {
          await builder.add(levels[deepestLevel], [reference]);
        } finally {
          reference.dispose();
        }
      } finally {
        tf.dispose(levels);
      }
      onProgress?.({ phase: 'bank', done: Math.min(n, start + BANK_CHUNK), total: 2 * n });
    }
    bank = builder.build();
  } finally {
    builder.dispose();
  }
  try {
    const topN = Math.min(config.topN, n - 1);
    const candidates: Int32Array[] = [];
    for (let start = 0; start < n; start += BANK_CHUNK) {
      const [deepest] = cache.slice(start, start + BANK_CHUNK, [deepestLevel]);
      try {
        const exclude = Array.from({ length: deepest.shape[0] }, (_, j) => start + j);
        candidates.push(...(await bank.search(deepest, { topN, exclude })).indices);
      } finally {
        deepest.dispose();
      }
      onProgress?.({ phase: 'bank', done: n + Math.min(n, start + BANK_CHUNK), total: 2 * n });
    }
    return { bank, candidates };
  } catch (error) {
    bank.dispose();
    throw error;
  }
}

/** The papers' map everywhere: what runs from before the per-position map trained with. */
const PAPERS_MAP = { mapNormalization: 'none', textureMapNormalization: 'none' } as const satisfies Partial<ThfrConfig>;
