// Seeded pseudo-random numbers for the synthetic generator (never Math.random, so output is reproducible).

import { mulberry32 } from '@thfr/detector/random';

// mulberry32 is shared by every package (@thfr/detector/random, which loads no tfjs).
export { mulberry32 };

/** Mixes several integers into one 32-bit seed (murmur3 finaliser per step), so each image gets its own stream. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

export class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  sign(): number {
    return this.next() < 0.5 ? -1 : 1;
  }
}
