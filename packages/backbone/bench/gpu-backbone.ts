/**
 * GPU benchmark of the WideResNet50-2 backbone (layer1..layer3, 256x256, random weights), for the GPU machine.
 * Plain ESM, no vitest: bundle with esbuild and call with the tfjs namespace whose backend (e.g. webgpu) the caller
 * has already set up:
 *   const { runBackboneGpuBench } = await import('./gpu-backbone.bundle.mjs');
 *   console.log(JSON.stringify(await runBackboneGpuBench(tf)));
 * The caller's tfjs-core must be the same instance this library uses (bundle both from one tfjs-core).
 */
import { tf as libraryTf } from '@thfr/tensor';
import { createRandomResNet } from '../src/random-weights.js';

export interface GpuBenchRow {
  backbone: string;
  backend: string;
  batch: number;
  size: number;
  msPerBatch: number;
  msPerImage: number;
  repeats: number;
}

type TfLike = { getBackend(): string; ready(): Promise<void> };

export async function runBackboneGpuBench(tf: TfLike, options: { batches?: number[]; size?: number; repeats?: number } = {}): Promise<GpuBenchRow[]> {
  await tf.ready();
  if (tf.getBackend() !== libraryTf.getBackend()) {
    throw new Error(`runBackboneGpuBench: the caller's tfjs backend is '${tf.getBackend()}' but the library's is '${libraryTf.getBackend()}' (two tfjs-core instances in the bundle?)`);
  }
  const size = options.size ?? 256;
  const repeats = options.repeats ?? 10;
  const backbone = createRandomResNet('wide_resnet50_2');
  const rows: GpuBenchRow[] = [];
  try {
    for (const batch of options.batches ?? [1, 16]) {
      const images = libraryTf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 1) as import('@thfr/tensor').Tensor4D;
      const run = async () => {
        const features = backbone.extract(images);
        await Promise.all(features.map((f) => f.data())); // the GPU queue is asynchronous: wait for the values
        libraryTf.dispose(features);
      };
      for (let i = 0; i < 3; i++) await run(); // warm-up: shader compilation, buffer pools
      const times: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const start = performance.now();
        await run();
        times.push(performance.now() - start);
      }
      images.dispose();
      times.sort((a, b) => a - b);
      const ms = times[Math.floor(times.length / 2)];
      rows.push({ backbone: 'wide_resnet50_2 (layer1..3)', backend: tf.getBackend(), batch, size, msPerBatch: ms, msPerImage: ms / batch, repeats });
    }
  } finally {
    backbone.dispose();
  }
  return rows;
}
