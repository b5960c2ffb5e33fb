import type { tf } from '@thfr/tensor';
import type { NamedFloatArrays } from './resnet-weights.js';
import { RESNET_LAYER_NAMES } from './resnet-spec.js';

/**
 * Keras applications' ResNet-50 weights (as the tfjs converter writes them: `res2a_branch2a/kernel` HWIO,
 * `bn2a_branch2a/gamma`, ..., `fc1000/kernel` [in, out]) seen under torchvision's names and layouts
 * (`layer1.0.conv1.weight` OIHW, `layer1.0.bn1.weight`, ..., `fc.weight` [out, in]), so that one ResNet
 * implementation loads both sources. Browser-safe: works on the bytes, nothing is read from disk.
 *
 * Keras names a block by stage number (2..5, = torchvision's layer1..layer4) and a letter per block
 * (a, b, c, ...); branch2a/b/c are the three convs of the Bottleneck and branch1 is the projection shortcut.
 */
export class KerasResNetWeights implements NamedFloatArrays {
  private readonly kerasEntries = new Map<string, { shape: number[]; offset: number; size: number }>();
  private readonly torchToKeras = new Map<string, string>();

  constructor(weightSpecs: tf.io.WeightsManifestEntry[], private readonly data: ArrayBuffer, readonly source: string) {
    let offset = 0;
    for (const spec of weightSpecs) {
      if (spec.dtype !== 'float32' || spec.quantization) {
        throw new Error(`${source}: weight '${spec.name}' is ${spec.quantization ? `quantised (${spec.quantization.dtype})` : spec.dtype}; expected plain float32`);
      }
      const size = spec.shape.reduce((a, b) => a * b, 1);
      this.kerasEntries.set(spec.name, { shape: spec.shape, offset, size });
      offset += size * 4;
    }
    if (offset !== data.byteLength) {
      throw new Error(`${source}: the weight manifest describes ${offset} bytes but the shards hold ${data.byteLength} (truncated or mismatched shards)`);
    }
    for (const kerasName of this.kerasEntries.keys()) {
      const torchName = kerasToTorchName(kerasName);
      // Unknown names pass through unchanged so that validation reports them as unexpected keys.
      this.torchToKeras.set(torchName ?? kerasName, kerasName);
    }
  }

  keys(): string[] {
    return [...this.torchToKeras.keys()];
  }

  info(key: string): { dtype: string; shape: number[] } | undefined {
    const kerasName = this.torchToKeras.get(key);
    if (!kerasName) return undefined;
    const { shape } = this.kerasEntries.get(kerasName)!;
    return { dtype: 'F32', shape: torchShape(kerasName, shape) };
  }

  readFloat32(key: string): Float32Array {
    const kerasName = this.torchToKeras.get(key);
    if (!kerasName) throw new Error(`${this.source}: no weight '${key}'`);
    const { shape, offset, size } = this.kerasEntries.get(kerasName)!;
    const values = new Float32Array(this.data, offset, size);
    if (kerasName.endsWith('/kernel') && shape.length === 4) return hwioToOihw(values, shape as [number, number, number, number]);
    if (kerasName.endsWith('/kernel') && shape.length === 2) return transpose2d(values, shape[0], shape[1]);
    return values.slice();
  }
}

const PARAM_SUFFIX: Record<string, { conv?: string; bn?: string }> = {
  kernel: { conv: 'weight' },
  bias: { conv: 'bias' },
  gamma: { bn: 'weight' },
  beta: { bn: 'bias' },
  moving_mean: { bn: 'running_mean' },
  moving_variance: { bn: 'running_var' },
};

/** 'res3b_branch2c/kernel' -> 'layer2.1.conv3.weight'; null for a name outside the ResNet-50 scheme. */
export function kerasToTorchName(kerasName: string): string | null {
  const [layer, param] = kerasName.split('/');
  const suffix = PARAM_SUFFIX[param];
  if (!suffix) return null;
  if (layer === 'conv1' && suffix.conv) return `conv1.${suffix.conv}`;
  if (layer === 'bn_conv1' && suffix.bn) return `bn1.${suffix.bn}`;
  if (layer === 'fc1000' && suffix.conv) return `fc.${suffix.conv}`;
  const match = /^(res|bn)([2-5])([a-z])_branch(1|2a|2b|2c)$/.exec(layer);
  if (!match) return null;
  const [, kind, stage, letter, branch] = match;
  const isConv = kind === 'res';
  const name = isConv ? suffix.conv : suffix.bn;
  if (!name) return null;
  const prefix = `${RESNET_LAYER_NAMES[Number(stage) - 2]}.${letter.charCodeAt(0) - 97}`;
  if (branch === '1') return `${prefix}.downsample.${isConv ? 0 : 1}.${name}`;
  const index = { '2a': 1, '2b': 2, '2c': 3 }[branch as '2a' | '2b' | '2c'];
  return `${prefix}.${isConv ? 'conv' : 'bn'}${index}.${name}`;
}

function torchShape(kerasName: string, shape: number[]): number[] {
  if (kerasName.endsWith('/kernel') && shape.length === 4) return [shape[3], shape[2], shape[0], shape[1]];
  if (kerasName.endsWith('/kernel') && shape.length === 2) return [shape[1], shape[0]];
  return shape;
}

/**
 * [a, b, c, d] -> [d, c, a, b]: a conv filter HWIO (Keras, tfjs) to OIHW (torch, ONNX's Conv); the same reorder takes
 * tfjs' transposed-conv filter [k, k, out, in] to ONNX ConvTranspose's [in, out, k, k].
 */
export function hwioToOihw(values: Float32Array, [H, W, I, O]: readonly number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let h = 0; h < H; h++) {
    for (let w = 0; w < W; w++) {
      for (let i = 0; i < I; i++) {
        const from = ((h * W + w) * I + i) * O;
        for (let o = 0; o < O; o++) out[((o * I + i) * H + h) * W + w] = values[from + o];
      }
    }
  }
  return out;
}

function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}
