import { tf } from '@thfr/tensor';
import { FLOAT_DTYPES } from './safetensors.js';
import { convBnsOf, parameterShapesOf, type ConvBnSpec, type ResNetPlan } from './resnet-spec.js';

/** Named float arrays with torch shapes: a safetensors file, or generated weights. */
export interface NamedFloatArrays {
  readonly source: string;
  keys(): string[];
  info(key: string): { dtype: string; shape: number[] } | undefined;
  readFloat32(key: string): Float32Array;
}

/** Thrown when a weight file does not fit the architecture; lists every problem found (up to a limit). */
export class WeightMismatchError extends Error {
  override readonly name = 'WeightMismatchError';
  constructor(readonly source: string, readonly problems: string[], limit = 12) {
    super(
      `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'} with the ResNet weights:\n` +
        problems.slice(0, limit).map((p) => `  - ${p}`).join('\n') +
        (problems.length > limit ? `\n  ... and ${problems.length - limit} more` : ''),
    );
  }
}

/** A conv with its BatchNorm folded in: HWIO filter and per-channel bias. */
export interface FoldedConv {
  spec: ConvBnSpec;
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
}

/** Keys that a torchvision / timm checkpoint may hold and a feature extractor does not need. */
function isIgnorable(key: string): boolean {
  return key.startsWith('fc.') || key.endsWith('.num_batches_tracked');
}

/** Prefixes that wrappers add (DataParallel's 'module.', Lightning's 'model.', ...). */
const KNOWN_PREFIXES = ['', 'module.', 'model.', 'backbone.', 'encoder.'];

function detectPrefix(weights: NamedFloatArrays): string {
  for (const prefix of KNOWN_PREFIXES) if (weights.info(`${prefix}conv1.weight`)) return prefix;
  return '';
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * Checks `weights` against the plan (all four stages must be consistent if present; only stages up to
 * `lastStage` are required) and throws ONE WeightMismatchError listing missing, extra, mis-shaped and
 * non-float keys.
 */
export function validateResNetWeights(weights: NamedFloatArrays, plan: ResNetPlan, lastStage: number): string {
  const prefix = detectPrefix(weights);
  const required = new Map<string, number[]>();
  for (const convBn of convBnsOf(plan, lastStage)) for (const [key, shape] of parameterShapesOf(convBn)) required.set(key, shape);
  const known = new Map<string, number[]>();
  for (const convBn of convBnsOf(plan, 3)) for (const [key, shape] of parameterShapesOf(convBn)) known.set(key, shape);
  const problems: string[] = [];
  const present = new Set<string>();
  for (const fullKey of weights.keys()) {
    if (!fullKey.startsWith(prefix)) {
      problems.push(`unexpected key '${fullKey}' (other keys carry the prefix '${prefix}')`);
      continue;
    }
    const key = fullKey.slice(prefix.length);
    present.add(key);
    if (isIgnorable(key)) continue;
    const expected = known.get(key);
    if (!expected) {
      problems.push(`unexpected key '${fullKey}' (not a parameter of this architecture)`);
      continue;
    }
    const info = weights.info(fullKey)!;
    const sameShape = info.shape.length === expected.length && info.shape.every((d, i) => d === expected[i]);
    if (!sameShape) problems.push(`'${fullKey}': expected shape ${shapeText(expected)}, got ${shapeText(info.shape)}`);
    if (!FLOAT_DTYPES.includes(info.dtype)) problems.push(`'${fullKey}': dtype ${info.dtype}, expected a float dtype (F32, F16, BF16 or F64)`);
  }
  for (const [key, shape] of required) {
    if (!present.has(key)) problems.push(`missing key '${prefix}${key}' (expected shape ${shapeText(shape)})`);
  }
  if (problems.length > 0) throw new WeightMismatchError(weights.source, problems);
  return prefix;
}

/**
 * Folds BatchNorm (running stats, eval mode) into the preceding conv, in float64:
 * y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta = conv_{W*s}(x) + (beta + (b - mean)*s), s = gamma/sqrt(var+eps)
 * (b = the conv's own bias, 0 for torchvision's bias-free convs).
 * Also transposes torch's OIHW to tfjs's HWIO.
 */
export function foldConvBn(weights: NamedFloatArrays, prefix: string, spec: ConvBnSpec, eps: number): { filter: Float32Array; bias: Float32Array } {
  const w = weights.readFloat32(`${prefix}${spec.conv}.weight`);
  const gamma = weights.readFloat32(`${prefix}${spec.bn}.weight`);
  const beta = weights.readFloat32(`${prefix}${spec.bn}.bias`);
  const mean = weights.readFloat32(`${prefix}${spec.bn}.running_mean`);
  const variance = weights.readFloat32(`${prefix}${spec.bn}.running_var`);
  const convBias = spec.bias ? weights.readFloat32(`${prefix}${spec.conv}.bias`) : undefined;
  const O = spec.outChannels;
  const I = spec.inChannels;
  const K = spec.kernel;
  const filter = new Float32Array(O * I * K * K);
  const bias = new Float32Array(O);
  for (let o = 0; o < O; o++) {
    const scale = gamma[o] / Math.sqrt(variance[o] + eps);
    bias[o] = beta[o] + ((convBias ? convBias[o] : 0) - mean[o]) * scale;
    for (let i = 0; i < I; i++) {
      for (let h = 0; h < K; h++) {
        for (let x = 0; x < K; x++) {
          filter[((h * K + x) * I + i) * O + o] = w[((o * I + i) * K + h) * K + x] * scale;
        }
      }
    }
  }
  return { filter, bias };
}

/** Folds every conv+BN up to `lastStage` into kept tensors (not variables: the backbone is frozen). */
export function foldResNetWeights(weights: NamedFloatArrays, plan: ResNetPlan, lastStage: number, eps = 1e-5): Map<string, FoldedConv> {
  const prefix = validateResNetWeights(weights, plan, lastStage);
  const folded = new Map<string, FoldedConv>();
  for (const spec of convBnsOf(plan, lastStage)) {
    const { filter, bias } = foldConvBn(weights, prefix, spec, eps);
    folded.set(spec.conv, {
      spec,
      filter: tf.keep(tf.tensor4d(filter, [spec.kernel, spec.kernel, spec.inChannels, spec.outChannels])),
      bias: tf.keep(tf.tensor1d(bias)),
    });
  }
  return folded;
}
