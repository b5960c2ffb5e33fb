import { it } from 'vitest';
import { tf } from '@thfr/tensor';
import { initRuntime } from '@thfr/runtime-node';
import { ThfrNetwork } from '../src/network.js';
import { resolveConfig } from '../src/config.js';
import { restorationLoss } from '../src/loss.js';
import { templateReference } from '../src/template-reference.js';

it('step time', async () => {
  await initRuntime({ prefer: ['wasm'] } as never);
  console.log('backend', tf.getBackend());
  const variants = (process.env.VARIANTS ?? '256:0.25:1,1,1').split(' ');
  for (const v of variants) {
    const [size, ratio, dec] = v.split(':');
    const s = Number(size);
    const levels = [{ name: 'layer1', channels: 256, size: s / 4 }, { name: 'layer2', channels: 512, size: s / 8 }, { name: 'layer3', channels: 1024, size: s / 16 }];
    const config = resolveConfig({ imageSize: s, codeWidthRatio: Number(ratio), decoderBlocks: dec.split(',').map(Number) });
    const net = new ThfrNetwork(levels, config);
    const params = net.trainableVariables().reduce((n, v) => n + v.size, 0);
    const B = Number(process.env.B ?? 8);
    const heap = () => ((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length / 2 ** 20).toFixed(0);
    console.log(`size ${s} ratio ${ratio}: params ${(params / 1e6).toFixed(2)} M heap ${heap()} MiB`);
    const features = levels.map((l) => tf.randomUniform([B, l.size, l.size, l.channels]) as tf.Tensor4D);
    const template = templateReference(features, net.codeSize);
    const opt = tf.train.adam(0.005, 0.5, 0.999);
    const vars = net.trainableVariables();
    net.train();
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const loss = opt.minimize(() => restorationLoss(features, net.forward(features, template)), true, vars)!;
      await loss.data(); loss.dispose();
      times.push(performance.now() - t);
    }
    if (process.env.PROFILE) {
      const info = await tf.profile(async () => {
        const loss = opt.minimize(() => restorationLoss(features, net.forward(features, template)), true, vars)!;
        await loss.data(); loss.dispose();
      });
      const byName = new Map<string, { ms: number; n: number }>();
      for (const k of info.kernels) {
        const e = byName.get(k.name) ?? { ms: 0, n: 0 };
        e.ms += Number(k.kernelTimeMs); e.n += 1; byName.set(k.name, e);
      }
      console.log([...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14).map(([n, e]) => `${n}: ${e.ms.toFixed(0)} ms x${e.n}`).join('\n'));
    }
    const mem = tf.memory();
    console.log(`size ${s} ratio ${ratio} dec ${dec}: params ${(params / 1e6).toFixed(2)} M, step B=${B}: ${times.map((t) => t.toFixed(0)).join(', ')} ms, tensor bytes ${(mem.numBytes / 2 ** 20).toFixed(0)} MiB, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB heap ${heap()} MiB`);
    tf.dispose([...features, template]); opt.dispose(); net.dispose();
  }
}, 3_600_000);
