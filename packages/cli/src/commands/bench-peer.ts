import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '@thfr/tensor';
import { ResNetBackbone, serializeResNetBackbone, type FeatureExtractor } from '@thfr/backbone';
import type { Output } from '../output.js';

/** A PyTorch-side script: in the package's `peer/` (next to dist/ and src/), or in THFR_PEER_DIR (a bundled copy). */
export function peerScript(name: string): string {
  return join(process.env.THFR_PEER_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'peer'), name);
}

const PEER_SCRIPT = peerScript('pytorch_peer.py');

export interface PeerRow {
  backbone: string;
  batch: number;
  tfjsMs: number;
  peerMs: number;
  /** tfjs time / PyTorch time: above 1 means tfjs is slower. */
  slowdown: number;
}

export interface PeerResult {
  peer: string;
  torch: string;
  device: string;
  /** The BLAS PyTorch's CPU products ran on: 'openblas', 'mkl', 'blis', 'reference' or 'unknown'. */
  blas: string;
  threads: number;
  /** max over taps of |mean|tap| tfjs - PyTorch| / PyTorch's, on the deterministic probe image: the same network? */
  tapMeanRelativeDiff: number;
  rows: PeerRow[];
}

/**
 * On the CPU, Debian's torch runs its matrix products on whichever libblas.so.3 the system points to; on the reference
 * BLAS (libblas3) it was 6x slower here than on OpenBLAS, so the ratios against it would flatter tfjs. Says so.
 */
export function warnOfReferenceBlas(peer: { device: string; blas: string }, output: Output): void {
  if (peer.device === 'cpu' && peer.blas === 'reference') {
    output.note("warning: PyTorch runs on the reference BLAS (Debian's libblas3), several times slower than an optimised one: its times are not PyTorch's best; install libopenblas0-pthread (apt) for a fair comparison");
  }
}

/** 'PyTorch 1.13 on cpu (openblas BLAS), 2 threads': how the bench's lines name a peer run. */
export function describePeer(peer: { torch: string; device: string; blas: string; threads: number }): string {
  return `PyTorch ${peer.torch} on ${peer.device}${peer.device === 'cpu' ? ` (${peer.blas} BLAS)` : ''}, ${peer.threads} threads`;
}

/** The probe image both sides build: ((y * W + x) * 3 + c) % 251 / 250. */
function probeImage(size: number): tf.Tensor4D {
  const values = new Float32Array(size * size * 3);
  for (let i = 0; i < values.length; i++) values[i] = (i % 251) / 250;
  return tf.tensor4d(values, [1, size, size, 3]);
}

/**
 * Times the backbone's forward in tfjs and, with the same weights (exported as float32 safetensors), in PyTorch
 * (`python` must have torch: Debian's python3-torch), in one run; prints the ratios.
 */
export async function benchBackboneAgainstPytorch(backbone: FeatureExtractor, tfjsMs: Map<number, number>, size: number, repeats: number, python: string, output: Output): Promise<PeerResult> {
  if (!(backbone instanceof ResNetBackbone)) throw new Error(`--peer pytorch: backbone '${backbone.identity.architecture}' is not a ResNet; the PyTorch peer runs the ResNets (resnet50_imagenet_v1, resnet18..wide_resnet101_2)`);
  const dir = mkdtempSync(join(tmpdir(), 'thfr-peer-'));
  try {
    const { manifest, weights } = await serializeResNetBackbone(backbone, { dtype: 'F32' });
    writeFileSync(join(dir, manifest.weights.path), weights);
    writeFileSync(join(dir, 'backbone.json'), JSON.stringify(manifest));
    const batches = [...tfjsMs.keys()];
    const run = spawnSync(python, [PEER_SCRIPT, dir, '--size', String(size), '--batches', batches.join(','), '--repeats', String(repeats), '--threads', '2'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (run.error || run.status !== 0) {
      throw new Error(`--peer pytorch: '${python} ${PEER_SCRIPT}' failed (${run.error?.message ?? `exit ${run.status}`}): ${(run.stderr ?? '').trim().split('\n').slice(-3).join(' | ')} (install Debian's python3-torch, or pass --python PATH)`);
    }
    const peer = JSON.parse(run.stdout.trim().split('\n').pop()!) as { peer: string; torch: string; device: string; blas: string; threads: number; tapMeans: number[]; rows: Array<{ batch: number; msPerBatch: number }> };
    warnOfReferenceBlas(peer, output);
    const probe = probeImage(size);
    const taps = backbone.extract(probe);
    const means = await Promise.all(taps.map(async (t) => { const m = tf.mean(tf.abs(t)); const v = (await m.data())[0]; m.dispose(); return v; }));
    tf.dispose([...taps, probe]);
    const tapMeanRelativeDiff = Math.max(...means.map((m, i) => Math.abs(m - peer.tapMeans[i]) / Math.abs(peer.tapMeans[i])));
    const rows = peer.rows.map((r) => {
      const tfjs = tfjsMs.get(r.batch)!;
      return { backbone: backbone.identity.architecture, batch: r.batch, tfjsMs: tfjs, peerMs: r.msPerBatch, slowdown: tfjs / r.msPerBatch };
    });
    output.line(`peer: ${describePeer(peer)}; same network: tap means differ by ${tapMeanRelativeDiff.toExponential(1)} (relative)`);
    for (const r of rows) output.line(`  ${r.backbone} at ${size} px, batch ${r.batch}: tfjs ${r.tfjsMs.toFixed(0)} ms, PyTorch ${r.peerMs.toFixed(0)} ms per batch: tfjs at ${(1 / r.slowdown).toFixed(2)}x PyTorch's speed`);
    return { peer: peer.peer, torch: peer.torch, device: peer.device, blas: peer.blas, threads: peer.threads, tapMeanRelativeDiff, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
