import { convBnsOf, parameterShapesOf, planResNet, resolveResNetSpec, type ResNetArchitecture, type ResNetSpec } from './resnet-spec.js';
import type { NamedFloatArrays } from './resnet-weights.js';
import { buildResNet, type ResNetBackbone, type ResNetOptions } from './resnet.js';
// The seeded PRNG every package shares (mulberry32), so random backbones are reproducible across runs and platforms.
import { mulberry32 } from '@thfr/detector/random';

export { mulberry32 };

/**
 * He-initialised torch-layout weights with identity BatchNorm statistics, for benchmarks and as the
 * "random features" sanity floor. Values are generated lazily, key by key.
 */
export class RandomResNetWeights implements NamedFloatArrays {
  readonly source: string;
  private readonly shapes = new Map<string, number[]>();

  constructor(spec: ResNetSpec, readonly seed = 0) {
    this.source = `random weights (seed ${seed})`;
    // The plan's own parameter list (conv biases included for the v1 layout; they start at zero like BN shifts).
    for (const convBn of convBnsOf(planResNet(spec), 3)) for (const [key, shape] of parameterShapesOf(convBn)) this.shapes.set(key, shape);
  }

  keys(): string[] {
    return [...this.shapes.keys()];
  }

  info(key: string): { dtype: string; shape: number[] } | undefined {
    const shape = this.shapes.get(key);
    return shape ? { dtype: 'F32', shape } : undefined;
  }

  readFloat32(key: string): Float32Array {
    const shape = this.shapes.get(key)!;
    const count = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(count);
    if (key.endsWith('running_var') || (key.endsWith('.weight') && shape.length === 1)) out.fill(1);
    else if (key.endsWith('.weight')) {
      // Per-key seed so the values do not depend on the order keys are read in.
      let h = this.seed;
      for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
      const random = mulberry32(h);
      const std = Math.sqrt(2 / (count / shape[0]));
      for (let i = 0; i < count; i += 2) {
        // Box-Muller: two normals per two uniforms.
        const r = Math.sqrt(-2 * Math.log(1 - random()));
        const theta = 2 * Math.PI * random();
        out[i] = r * Math.cos(theta) * std;
        if (i + 1 < count) out[i + 1] = r * Math.sin(theta) * std;
      }
    }
    return out;
  }
}

/** A ResNet with random (He) weights: same shapes and speed as the pretrained one, meaningless features. */
export function createRandomResNet(arch: ResNetArchitecture | ResNetSpec, options: ResNetOptions & { seed?: number } = {}): ResNetBackbone {
  const seed = options.seed ?? 0;
  return buildResNet(arch, new RandomResNetWeights(resolveResNetSpec(arch), seed), { ...options, weightsId: options.weightsId ?? `random:seed=${seed}` });
}
