import { tf } from '@thfr/tensor';
import '@tensorflow/tfjs-backend-cpu';
import { initRuntime } from '../dist/index.js';
await initRuntime({prefer:['wasm']});
const x0 = [1,5,3,2, 4,0,7,8, 9,1,2,3, 0,6,5,4];
for (const b of ['cpu','wasm']) { await tf.setBackend(b);
 const x = tf.tensor4d(x0,[1,4,4,1]);
 const g = tf.grad(a=>tf.sum(tf.mul(tf.maxPool(a,2,2,'valid'), tf.tensor4d([1,2,3,4],[1,2,2,1]))))(x);
 console.log(b, Array.from(await g.data()).join(' '));
 const x2 = tf.tensor4d(x0.flatMap(v=>[v,-v]),[1,4,4,2]);
 const g2 = tf.grad(a=>tf.sum(tf.mul(tf.maxPool(a,2,2,'valid'), tf.tensor4d([1,2,3,4,5,6,7,8],[1,2,2,2]))))(x2);
 console.log(b, Array.from(await g2.data()).join(' '));
}
