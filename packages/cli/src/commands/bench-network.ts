import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '@thfr/tensor';
import { ResNetBackbone, encodeSafetensors, serializeResNetBackbone, type FeatureExtractor } from '@thfr/backbone';
import type { RestorationConfig, RestorationNetwork } from '@thfr/restoration';
import type { Output } from '../output.js';
import { peerScript, warnOfReferenceBlas } from './bench-peer.js';

/** The PyTorch side of the network comparison, next to pytorch_peer.py (which it imports for the backbone). */
const NETWORK_PEER_SCRIPT = peerScript('pytorch_network_peer.py');

export interface NetworkPeerResult {
  peer: string;
  torch: string;
  device: string;
  /** The BLAS PyTorch's CPU products ran on (bench-peer.ts' warnOfReferenceBlas). */
  blas: string;
  /** CUDA convolutions and matrix products allowed to round to TF32 (THFR_PEER_TF32=1); false on the CPU. */
  tf32?: boolean;
  threads: number;
  /** max over levels of max |tfjs - PyTorch| / max |tfjs| of the restored levels on one probe batch: the same network? */
  probeMaxRelativeDiff: number;
  parameters: number;
  inference: Array<{ batch: number; msPerBatch: number }>;
  trainStep: { batch: number; ms: number };
}

export interface NetworkPeerSettings {
  config: RestorationConfig;
  codeSize: number;
  /** Adam's epsilon on the tfjs side (FusedAdam's default: the backend's epsilon). */
  adamEpsilon: number;
  /** Templates in the bank the peer searches (the tfjs bench's bank size). */
  bankImages: number;
  batches: number[];
  trainBatch: number;
  repeats: number;
}

/** The tfjs ResNet behind a backbone (itself, or the `tfjs` network of an OnnxAcceleratedBackbone). */
function toBackbone(backbone: FeatureExtractor): ResNetBackbone | undefined {
  if (backbone instanceof ResNetBackbone) return backbone;
  const inner = (backbone as unknown as { tfjs?: unknown }).tfjs;
  return inner instanceof ResNetBackbone ? inner : undefined;
}

/**
 * Times the same restoration network with the same weights in PyTorch (`python` with torch: Debian's
 * python3-torch): full inference (backbone, template search, network, anomaly map) and one training step, from
 * the network's recorded graph (`toGraph`) and state dict. `probe` = backbone levels (+ template) the tfjs network
 * restores in eval mode, so that the peer can check it runs the same network.
 */
export async function benchNetworkAgainstPytorch(network: RestorationNetwork, backbone: FeatureExtractor, probe: { features: tf.Tensor4D[]; template?: tf.Tensor4D }, settings: NetworkPeerSettings, python: string, output: Output): Promise<NetworkPeerResult> {
  const resnet = toBackbone(backbone);
  if (!resnet) throw new Error(`--peer pytorch: backbone '${backbone.identity.architecture}' is not a ResNet; the PyTorch peer runs the ResNets`);
  if (!network.toGraph) throw new Error('--peer pytorch: the network does not record its graph (toGraph)');
  const dir = mkdtempSync(join(tmpdir(), 'thfr-network-peer-'));
  try {
    const graph = network.toGraph();
    const { manifest, weights } = await serializeResNetBackbone(resnet, { dtype: 'F32' });
    writeFileSync(join(dir, manifest.weights.path), weights);
    writeFileSync(join(dir, 'backbone.json'), JSON.stringify(manifest));
    // Asynchronous reads: WebGPU in Node has no synchronous ones.
    const state = await Promise.all([...network.stateDict()].map(async ([name, v]) => ({ name, shape: v.shape, values: (await v.data()) as Float32Array })));
    writeFileSync(join(dir, 'network.safetensors'), encodeSafetensors(state, 'F32'));
    const { config } = settings;
    writeFileSync(join(dir, 'network.json'), JSON.stringify({
      graph, imageSize: config.imageSize, sigma: config.sigma, lossForm: config.lossForm, learningRate: config.learningRate, betas: config.betas,
      epsilon: settings.adamEpsilon, codeSize: settings.codeSize, bankImages: settings.bankImages,
    }));
    network.eval();
    const restored = network.forward(probe.features, probe.template);
    const levelNames = graph.inputs.map((i) => i.name).filter((n) => n !== 'template');
    const named = [
      ...probe.features.map((f, k) => ({ name: levelNames[k], tensor: f })),
      ...(probe.template ? [{ name: 'template', tensor: probe.template }] : []),
      ...restored.map((r, k) => ({ name: `restored_${k}`, tensor: r })),
    ];
    const probeTensors = await Promise.all(named.map(async ({ name, tensor }) => ({ name, shape: tensor.shape, values: (await tensor.data()) as Float32Array })));
    tf.dispose(restored);
    writeFileSync(join(dir, 'probe.safetensors'), encodeSafetensors(probeTensors, 'F32'));
    output.note(`peer: timing the network in PyTorch (${python})`);
    const run = spawnSync(python, [NETWORK_PEER_SCRIPT, dir, '--batches', settings.batches.join(','), '--train-batch', String(settings.trainBatch), '--repeats', String(settings.repeats), '--threads', '2'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (run.error || run.status !== 0) {
      throw new Error(`--peer pytorch: '${python} ${NETWORK_PEER_SCRIPT}' failed (${run.error?.message ?? `exit ${run.status}`}): ${(run.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
    }
    const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as NetworkPeerResult;
    warnOfReferenceBlas(result, output);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
