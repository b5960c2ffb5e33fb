import { it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { loadDefaultBackbone } from '../src/node.js';
it('t', async () => {
  await tf.setBackend('wasm');
  for (const name of ['mobilenet_v2', 'inception_v3'] as const) {
    let t = performance.now();
    const bb = await loadDefaultBackbone({ name });
    console.log('T', name, 'load ms', performance.now() - t, JSON.stringify(bb.levels), JSON.stringify(bb.identity), tf.memory().numTensors);
    const x = tf.randomUniform([1, 256, 256, 3]) as tf.Tensor4D;
    bb.extract(x).forEach(t => t.dispose());
    t = performance.now();
    const f = bb.extract(x);
    console.log('T', f.map(t => t.shape.join('x')).join(' '), 'fwd ms', performance.now() - t);
    tf.dispose(f); x.dispose(); bb.dispose();
    console.log('T after dispose', tf.memory().numTensors);
  }
}, 300000);
