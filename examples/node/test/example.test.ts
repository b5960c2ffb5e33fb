import { describe, expect, it } from 'vitest';
import { initRuntime } from '@thfr/runtime-node';
import { runExample } from '../src/main.js';

describe('examples/node: a detector from single packages', () => {
  it('separates the synthetic anomalies without training', async () => {
    await initRuntime({ prefer: ['wasm'] });
    const r = await runExample('ad', 128, 16, 16);
    console.log(r);
    expect(r.imageAuroc).toBeGreaterThan(0.7);
    expect(r.pixelAuroc).toBeGreaterThan(0.8);
  }, 180_000);
});
