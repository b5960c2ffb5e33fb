import { tf } from '@thfr/tensor';

/**
 * A seeded source of initial weights. tfjs' random ops take an integer seed each; we derive a new
 * one per tensor so that a model built twice with the same seed has identical weights.
 */
export class Initializer {
  private counter = 0;
  constructor(readonly seed = 0) {}

  nextSeed(): number {
    this.counter += 1;
    return (this.seed * 1_000_003 + this.counter * 7_919) % 2_147_483_647;
  }

  /** Kaiming-normal with fan_out and ReLU gain, as torchvision initialises ResNet convs. */
  kaimingNormalFanOut(shape: number[], fanOut: number): tf.Tensor {
    return tf.randomNormal(shape, 0, Math.sqrt(2 / fanOut), 'float32', this.nextSeed());
  }

  /** torch's default conv/linear init bound: uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
  uniformFanIn(shape: number[], fanIn: number): tf.Tensor {
    const bound = 1 / Math.sqrt(fanIn);
    return tf.randomUniform(shape, -bound, bound, 'float32', this.nextSeed());
  }
}
