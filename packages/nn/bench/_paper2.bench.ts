import { it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { registerWasmTrainingKernels } from '@thfr/runtime-common';
import { FusedAdam } from '../src/index.js';
import { ThfrNetwork } from '../../model/src/network.js';
import { PAPER_CONFIG, DEFAULT_CONFIG, resolveConfig } from '../../model/src/config.js';

it('optimizer update on the THFR networks (synthetic gradients)', async () => {
  const backend = process.env.B ?? 'cpu';
  await tf.setBackend(backend); if (backend === 'wasm') registerWasmTrainingKernels();
  for (const [name, base] of ([['paper', PAPER_CONFIG], ['default', DEFAULT_CONFIG]] as const).filter(([n]) => (process.env.CONFIGS ?? 'paper,default').includes(n))) {
    const s = 64;
    const levels = [{ name: 'layer1', channels: 256, size: s / 4 }, { name: 'layer2', channels: 512, size: s / 8 }, { name: 'layer3', channels: 1024, size: s / 16 }];
    const config = resolveConfig({ imageSize: s }, base);
    const net = new ThfrNetwork(levels, config);
    const vars = net.trainableVariables();
    const grads: tf.NamedTensorMap = {};
    vars.forEach((v, i) => (grads[v.name] = tf.randomNormal(v.shape, 0, 1e-3, 'float32', i)));
    const params = vars.reduce((n, v) => n + v.size, 0);
    const lines = [`${backend} ${name} config: ${vars.length} variables, ${(params / 1e6).toFixed(2)} M parameters`];
    for (const kind of ['tf.train.adam', 'FusedAdam']) {
      const o = kind === 'FusedAdam' ? new FusedAdam(vars, { learningRate: config.learningRate, beta1: config.betas[0], beta2: config.betas[1] }) : tf.train.adam(config.learningRate, config.betas[0], config.betas[1]);
      o.applyGradients(grads as never);
      const info = await tf.profile(() => o.applyGradients(grads as never));
      const times: number[] = [];
      for (let i = 0; i < 3; i++) { const t0 = performance.now(); o.applyGradients(grads as never); await vars[vars.length - 1].data(); times.push(performance.now() - t0); }
      const compute = info.kernels.filter((k) => k.name !== 'Reshape').length;
      const buckets = kind === 'FusedAdam' ? ` (${(o as unknown as { buckets: unknown[] }).buckets.length} buckets)` : '';
      lines.push(`${kind}${buckets}: update ${info.kernels.length} kernels (${compute} without Reshape), peak +${((info.peakBytes) / 2 ** 20).toFixed(0)} MiB, ${times.map((t) => t.toFixed(0)).join('/')} ms`);
      o.dispose();
    }
    console.log(lines.join('\n  '));
    tf.dispose(Object.values(grads)); net.dispose();
  }
}, 3_600_000);
