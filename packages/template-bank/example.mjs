import { initRuntime } from '@thfr/runtime-node';
import { tf } from '@thfr/tensor';
import { TemplateBank, createRandom } from '@thfr/template-bank';

await initRuntime({ prefer: ['wasm'] }); // registers a backend: library code never does
// 20 normal training images: search key = deepest feature I3 [N, 4, 4, 32], payload = template reference T [N, 2, 2, 48].
const keys = tf.randomNormal([20, 4, 4, 32], 0, 1, 'float32', 1);
const reference = tf.randomNormal([20, 2, 2, 48], 0, 1, 'float32', 2);
const bank = TemplateBank.fromFeatures(keys, [reference], { storage: 'float16', levelNames: ['T'] });
tf.dispose([keys, reference]); // the bank keeps its own copy

// Training: for a batch of training images 3 and 7, pick one of the 3 nearest templates, never the image itself.
const batchKeys = tf.randomNormal([2, 4, 4, 32], 0, 1, 'float32', 3);
const picked = bank.pick(batchKeys, { topN: 3, exclude: [3, 7], random: createRandom(0) });
const [T] = bank.gather(picked); // [2, 2, 2, 48] float32, caller owns
// Inference: the nearest template (n = 1), on a bank subsampled to 25% by greedy k-center.
const small = bank.subsample(0.25, { seed: 0 });
const { indices, distances } = small.search(batchKeys);
console.log(small.size, small.sourceIndices[indices[0][0]], distances[0][0].toFixed(3), T.shape, small.memoryBytes());
// Save and load: a JSON manifest plus one binary buffer.
const { manifest, buffer } = small.serialize();
const loaded = TemplateBank.deserialize(JSON.stringify(manifest), buffer);
console.log(loaded.search(batchKeys).indices[0][0] === indices[0][0]);
tf.dispose([batchKeys, T]);
[bank, small, loaded].forEach((b) => b.dispose());
