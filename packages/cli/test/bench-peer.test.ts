/**
 * `thfr bench --peer pytorch`'s Python peers (packages/cli/peer). CI has no Python, so two layers: a static check that
 * runs everywhere (each script defines the entry point it calls: a refactor once left pytorch_peer.py calling an
 * undefined main()), and, where Debian's python3-torch is installed, the backbone peer run on a small random ResNet
 * with the same weights as tfjs, whose level means must agree.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { createRandomResNet } from '@thfr/backbone';
import { benchBackboneAgainstPytorch, peerScript, warnOfReferenceBlas } from '../src/commands/bench-peer.js';
import type { Output } from '../src/output.js';

const PYTHON = process.env.THFR_TEST_PYTHON ?? '/usr/bin/python3';
const torchMissing = (() => {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  return probe.error || probe.status !== 0 ? `no PyTorch at ${PYTHON} (Debian's python3-torch)` : '';
})();

const quiet: Output = { json: false, quiet: true, line: () => {}, note: () => {}, result: () => {} };

describe('the PyTorch peers', () => {
  const scripts = readdirSync(peerScript('.')).filter((name) => name.endsWith('.py'));

  it('each script defines the functions its entry point calls', () => {
    expect(scripts.sort()).toEqual(['pytorch_network_peer.py', 'pytorch_peer.py']);
    for (const name of scripts) {
      const source = readFileSync(peerScript(name), 'utf8');
      const entry = source.split(/^if __name__ == '__main__':\n/m)[1];
      expect(entry, `${name} has an entry point`).toBeDefined();
      const defined = new Set([...source.matchAll(/^def (\w+)\(/gm)].map((m) => m[1]));
      for (const [, called] of entry.matchAll(/^\s+(\w+)\(/gm)) expect(defined.has(called), `${name}: ${called}() is defined`).toBe(true);
    }
  });

  it('warns when PyTorch runs its CPU products on the reference BLAS, and only then', () => {
    const notes: string[] = [];
    const output: Output = { ...quiet, note: (text) => notes.push(text) };
    warnOfReferenceBlas({ device: 'cpu', blas: 'openblas' }, output);
    warnOfReferenceBlas({ device: 'cuda', blas: 'reference' }, output);
    expect(notes).toEqual([]);
    warnOfReferenceBlas({ device: 'cpu', blas: 'reference' }, output);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/reference BLAS .* install libopenblas0-pthread/);
  });

  it.skipIf(Boolean(torchMissing))(`runs the backbone in PyTorch with the same weights${torchMissing ? ` (skipped: ${torchMissing})` : ''}`, async () => {
    await tf.setBackend('cpu');
    const backbone = createRandomResNet('resnet18', { seed: 3 });
    try {
      const result = await benchBackboneAgainstPytorch(backbone, new Map([[1, 10]]), 64, 1, PYTHON, quiet);
      expect(result.peer).toBe('pytorch');
      expect(result.device).toBe('cpu');
      expect(['openblas', 'mkl', 'blis', 'reference', 'unknown']).toContain(result.blas);
      expect(result.tapMeanRelativeDiff).toBeLessThan(1e-4);
      expect(result.rows.map((row) => row.batch)).toEqual([1]);
      expect(result.rows[0].peerMs).toBeGreaterThan(0);
    } finally {
      backbone.dispose();
    }
  });
});
