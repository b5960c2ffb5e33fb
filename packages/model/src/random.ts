// The seeded PRNG (mulberry32) is shared by every package: it lives in @thfr/detector.
export { SeededRandom } from '@thfr/detector';
