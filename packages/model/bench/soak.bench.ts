/**
 * Soak: 1,000 predictions of a small trained THFR model in one process, printing tf.memory().numTensors,
 * numBytes and the process RSS every 100, so that a leak (tensors, tfjs buffers or native memory) shows as
 * a rising column. Every 10th call is also a failing one (an image of the wrong size given as a tensor),
 * so the error path is soaked too. A benchmark that prints figures: it asserts nothing about time or memory.
 * Run: cd packages/model && npx vitest run --config vitest.bench.config.ts bench/soak.bench.ts
 * With NODE_OPTIONS=--expose-gc each row is taken after a full garbage collection (else the heap and RSS
 * columns also show garbage not yet collected).
 * Env: SOAK_BACKEND=cpu (default) or wasm; SOAK_PREDICTIONS=1000; SOAK_IMAGE_SIZE=64.
 */
import { it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { initRuntime } from '@thfr/runtime-node';
import { tf } from '@thfr/tensor';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { trainThfr } from '../src/index.js';

const MiB = 1024 * 1024;

it('soak: 1,000 predictions, memory every 100', async () => {
  const backend = process.env.SOAK_BACKEND ?? 'cpu';
  const total = Number(process.env.SOAK_PREDICTIONS ?? 1000);
  const size = Number(process.env.SOAK_IMAGE_SIZE ?? 64);
  if (backend === 'cpu') await tf.setBackend('cpu');
  else await initRuntime({ prefer: [backend as 'wasm'] }); // registers the training kernels wasm lacks
  await tf.ready();
  const backbone = tinyBackbone();
  const { model } = await trainThfr(backbone, toyImages(8, size, 5), { config: { imageSize: size, decoderBlocks: [1, 1, 1], epochs: 2, batchSize: 4, seed: 3 } });
  const images = [...toyImages(4, size, 21), ...toyImages(4, size, 22, true)];
  const wrong = tf.zeros([1, size / 2, size / 2, 3]) as tf.Tensor4D;
  const gc = (globalThis as { gc?: () => void }).gc;
  const rows: string[] = [
    `soak on ${backend}: ${total} predictions of one ${size}x${size} image (tiny backbone, THFR decoder [1,1,1], template bank of 8), a failing call every 10`,
    '| predictions | numTensors | numBytes | RSS MiB | heap MiB | ms / prediction (last 100) |',
    '|---:|---:|---:|---:|---:|---:|',
  ];
  const row = (n: number, ms: number) => {
    gc?.();
    const m = tf.memory();
    const p = process.memoryUsage();
    rows.push(`| ${n} | ${m.numTensors} | ${m.numBytes} | ${(p.rss / MiB).toFixed(1)} | ${(p.heapUsed / MiB).toFixed(1)} | ${ms > 0 ? ms.toFixed(1) : '–'} |`);
  };
  let failures = 0;
  row(0, 0);
  let started = performance.now();
  for (let i = 1; i <= total; i++) {
    await model.predict([images[i % images.length]]);
    if (i % 10 === 0) await model.predict(wrong).then(() => { throw new Error('a wrong size was accepted'); }, () => failures++);
    if (i % 100 === 0) {
      row(i, (performance.now() - started) / 100);
      started = performance.now();
    }
  }
  rows.push(`failing calls: ${failures}; after dispose of the model: numTensors ${(() => { wrong.dispose(); model.dispose(); backbone.dispose(); return tf.memory().numTensors; })()}`);
  console.log(rows.join('\n'));
});
