import { FEATURES_OPTION } from './backbones.js';
import { THFR_PRESETS, resolveConfig, type ThfrConfig } from '@thfr/model';
import { DEFAULT_BACKBONE_NAME } from '@thfr/backbone';
import { MAP_NORMALIZATIONS, type MapNormalization } from '@thfr/restoration';
import { numberOption, type OptionSpec } from './command.js';

/** Flags that shape the THFR config, shared by train, demo and bench. */
export const MODEL_OPTIONS: Record<string, OptionSpec> = {
  config: { type: 'string', help: "'default' (sized for a CPU: 256 px, batch 4, the code at a quarter width, 1 decoder block per stage), 'fast' (the same at 128 px, batch 8: ~4x faster to train, less accurate on fine textures) or 'paper' (WideResNet50-2, [3,4,6], 200 epochs, batch 16)", default: 'default', valueName: 'NAME' },
  backbone: { type: 'string', help: 'resnet50_imagenet_v1 (default: ImageNet ResNet-50, installed), mobilenet_v2 (faster), inception_v3; torchvision resnet18/34/50/101, wide_resnet50_2, wide_resnet101_2 (need --weights)', valueName: 'NAME' },
  weights: { type: 'string', help: 'safetensors weights of a torchvision ResNet backbone (torchvision or timm names)', valueName: 'FILE' },
  features: FEATURES_OPTION,
  epochs: { type: 'string', help: "training epochs (the preset's: default and fast 20, paper 200)", valueName: 'N' },
  'batch-size': { type: 'string', help: "batch size (the preset's: default 4, fast 8, paper 16)", valueName: 'N' },
  'image-size': { type: 'string', help: "input size in pixels, a multiple of 32 (the preset's: default and paper 256, fast 128)", valueName: 'PX' },
  bottleneck: { type: 'string', help: "'gl' (global + local, the paper), 'gbn' or 'lbn'", valueName: 'MODE' },
  'no-template': { type: 'boolean', help: 'ablation: no template-guided compensation' },
  'template-min-alignment': { type: 'string', help: "turn the template compensation off when the training images' layout alignment with their nearest neighbour is below R (the preset's: default and fast 0.5, so textures train without it; paper 0: always on)", valueName: 'R' },
  'no-relation': { type: 'boolean', help: 'ablation: compensation without the pairwise relation (paper eq. 2)' },
  relation: { type: 'boolean', help: 'compensation with the pairwise relation (paper eq. 2), whatever the preset says' },
  'template-references': { type: 'string', help: "template levels each compensation sees: 'pooled' (every level, both streams) or 'per-stream' (global stream: the deepest level; local stream: every level)", valueName: 'MODE' },
  loss: { type: 'string', help: "restoration loss: 'position' (paper eq. 3, per-position cosine) or 'flattened' (RD4AD's code: one cosine per flattened level)", valueName: 'FORM' },
  'lbn-blocks': { type: 'string', help: "ResBlocks of the local bottleneck's one-class embedding (RD4AD's OCBE: 3)", valueName: 'N' },
  'code-width': { type: 'string', help: "channels of the compressed code as a fraction of the paper's 2 C_K (default config: 0.25; paper: 1)", valueName: 'R' },
  'bank-ratio': { type: 'string', help: 'fraction of templates kept by greedy k-center (0..1]', valueName: 'R' },
  'bank-fp16': { type: 'boolean', help: 'store the template bank as float16' },
  'top-n': { type: 'string', help: 'training: draw the template among the n nearest other images', valueName: 'N' },
  sigma: { type: 'string', help: 'Gaussian sigma of the anomaly map (default 4 for MVTec AD, 2 for MVTec LOCO)', valueName: 'S' },
  'map-normalization': { type: 'string', help: "thfr, rd4ad: the anomaly map on every dataset: 'per-position' (each pixel standardized by its mean and std on the normal training images), 'texture' (the same with the mean pooled over the cells of the network's code grid: for textures only) or 'none' (the papers' map). Default: THFR's default and fast presets use 'texture' where the layout check finds a texture and keep the papers' map elsewhere; the paper preset and RD4AD keep the papers' map", valueName: 'MODE' },
  lr: { type: 'string', help: 'Adam learning rate', valueName: 'LR' },
  seed: { type: 'string', help: 'random seed', valueName: 'N' },
};

export type Values = Record<string, string | boolean | undefined>;

/** The THFR config the flags describe; `layout` picks the paper's sigma for the dataset. */
export function configFromFlags(values: Values, layout?: 'mvtec-ad' | 'mvtec-loco'): ThfrConfig {
  const preset = (values.config as string | undefined) ?? 'default';
  if (!Object.hasOwn(THFR_PRESETS, preset)) throw new Error(`--config must be one of ${Object.keys(THFR_PRESETS).join(', ')}, got '${preset}'`);
  const base = THFR_PRESETS[preset];
  const bottleneck = values.bottleneck as ThfrConfig['bottleneck'] | undefined;
  if (bottleneck !== undefined && !['gl', 'gbn', 'lbn'].includes(bottleneck)) throw new Error(`--bottleneck must be gl, gbn or lbn, got '${bottleneck}'`);
  const templateReferences = values['template-references'] as ThfrConfig['templateReferences'] | undefined;
  if (templateReferences !== undefined && !['pooled', 'per-stream'].includes(templateReferences)) throw new Error(`--template-references must be pooled or per-stream, got '${templateReferences}'`);
  return resolveConfig({
    epochs: numberOption(values, 'epochs', { integer: true, min: 1 }),
    batchSize: numberOption(values, 'batch-size', { integer: true, min: 1 }),
    imageSize: numberOption(values, 'image-size', { integer: true, min: 32 }),
    bottleneck,
    template: values['no-template'] ? false : undefined,
    templateMinAlignment: numberOption(values, 'template-min-alignment', { min: 0, max: 1 }),
    relation: relationFromFlags(values),
    templateReferences,
    bankRatio: numberOption(values, 'bank-ratio', { min: 0, max: 1 }),
    lossForm: lossFormFromFlags(values),
    localBottleneckBlocks: numberOption(values, 'lbn-blocks', { integer: true, min: 1 }),
    codeWidthRatio: numberOption(values, 'code-width', { min: 0, max: 1 }),
    bankStorage: values['bank-fp16'] ? 'float16' : undefined,
    topN: numberOption(values, 'top-n', { integer: true, min: 1 }),
    sigma: numberOption(values, 'sigma', { min: 0 }) ?? (layout === 'mvtec-loco' ? 2 : layout === 'mvtec-ad' ? 4 : undefined),
    // One map everywhere: also the one the layout check would set on a texture.
    mapNormalization: mapNormalizationFromFlags(values),
    textureMapNormalization: mapNormalizationFromFlags(values),
    learningRate: numberOption(values, 'lr', { min: 0 }),
    seed: numberOption(values, 'seed', { integer: true, min: 0 }),
  }, base);
}

function relationFromFlags(values: Values): boolean | undefined {
  if (values.relation && values['no-relation']) throw new Error('--relation and --no-relation contradict each other; pass one');
  return values.relation ? true : values['no-relation'] ? false : undefined;
}

function lossFormFromFlags(values: Values): ThfrConfig['lossForm'] | undefined {
  const form = values.loss as string | undefined;
  if (form !== undefined && form !== 'position' && form !== 'flattened') throw new Error(`--loss must be 'position' or 'flattened', got '${form}'`);
  return form as ThfrConfig['lossForm'] | undefined;
}

/** --map-normalization, checked; undefined keeps the preset's. */
export function mapNormalizationFromFlags(values: Values): ThfrConfig['mapNormalization'] | undefined {
  const mode = values['map-normalization'] as string | undefined;
  if (mode !== undefined && !MAP_NORMALIZATIONS.includes(mode as MapNormalization)) throw new Error(`--map-normalization must be one of ${MAP_NORMALIZATIONS.join(', ')}, got '${mode}'`);
  return mode as ThfrConfig['mapNormalization'] | undefined;
}

/** The backbone a preset uses unless --backbone says otherwise. */
export function backboneNameFromFlags(values: Values): string {
  return (values.backbone as string | undefined) ?? (values.config === 'paper' && values.weights ? 'wide_resnet50_2' : DEFAULT_BACKBONE_NAME);
}
