/**
 * The seeded pseudo-random numbers every thfr package uses (training order, template draws, coreset
 * starts, projections, synthetic data), so a seed repeats exactly on every backend and platform.
 * Pure JavaScript: importable as '@thfr/detector/random' without loading tfjs.
 */

/** mulberry32: a fast generator with a 32-bit state; returns uniform floats in [0, 1). `state` is used as given (>>> 0). */
export function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    return mulberry32Output(a);
  };
}

function mulberry32Output(state: number): number {
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** mulberry32 seeded through a golden-ratio mix (so seeds 0, 1, 2... start far apart): uniform [0, 1). */
export function createRandom(seed: number): () => number {
  return mulberry32((Math.trunc(seed) ^ 0x9e3779b9) >>> 0);
}

/** Standard normal numbers from a uniform source (Box-Muller, both outputs used). */
export function createGaussian(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    let u = 0;
    while (u === 0) u = random(); // log(0) would be -inf
    const v = random();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
}

/** mulberry32 with a readable and restorable state (for training checkpoints) and a seeded shuffle. */
export class SeededRandom {
  private state: number;

  constructor(state: number) {
    this.state = state >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    return mulberry32Output(this.state);
  }

  /** Fisher-Yates shuffle of 0..n-1. */
  permutation(n: number): Int32Array {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }

  /** The generator's whole state (for checkpoints). */
  getState(): number {
    return this.state;
  }

  setState(state: number): void {
    this.state = state >>> 0;
  }
}
