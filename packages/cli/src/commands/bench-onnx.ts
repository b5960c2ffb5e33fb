import { tf } from '@thfr/tensor';
import type { ResNetBackbone } from '@thfr/backbone';
import { exportResNetToOnnxAsync } from '@thfr/backbone-onnx';
import { createOnnxFeatureExtractor, loadOnnxRuntimeNode } from '@thfr/backbone-onnx/node';
import type { PeerResult } from './bench-peer.js';
import { latencyMs } from './bench-timing.js';
import type { Output } from '../output.js';

export interface OnnxBenchRow {
  backbone: string;
  runtime: 'onnxruntime-node';
  batch: number;
  /** onnxruntime's intra-op threads. */
  threads: number;
  msPerBatch: number;
  msPerImage: number;
  /** PyTorch's time for the same batch in the same run (`--peer pytorch`), and its thread count. */
  pytorchMs?: number;
  pytorchThreads?: number;
  /** PyTorch's time / onnxruntime's: above 1 means onnxruntime is faster. */
  speedVsPytorch?: number;
}

/**
 * Times the backbone exported to ONNX on onnxruntime-node, through `OnnxFeatureExtractor.extractAsync` (what a
 * method sees: the tfjs input read back, the run, the outputs made into tfjs tensors), one warm-up then the median
 * of `repeats` calls, for each thread count and batch. Returns `skipped` when onnxruntime-node is not installed.
 */
export async function benchBackboneOnOnnxRuntime(
  backbone: ResNetBackbone, batches: number[], size: number, repeats: number, threads: number[], output: Output, peer?: PeerResult,
): Promise<{ rows: OnnxBenchRow[] } | { skipped: string }> {
  try {
    await loadOnnxRuntimeNode();
  } catch (error) {
    output.line(`backbone ${backbone.identity.architecture} on onnxruntime-node: skipped (${(error as Error).message})`);
    return { skipped: (error as Error).message };
  }
  const bytes = await exportResNetToOnnxAsync(backbone);
  const name = backbone.identity.architecture;
  const rows: OnnxBenchRow[] = [];
  for (const threadCount of threads) {
    const extractor = await createOnnxFeatureExtractor(bytes, { threads: threadCount });
    try {
      for (const batch of batches) {
        const images = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
        const ms = await latencyMs(repeats, async () => tf.dispose(await extractor.extractAsync(images)));
        images.dispose();
        const torch = peer?.rows.find((r) => r.batch === batch);
        const row: OnnxBenchRow = { backbone: name, runtime: 'onnxruntime-node', batch, threads: threadCount, msPerBatch: ms, msPerImage: ms / batch };
        if (torch && peer) Object.assign(row, { pytorchMs: torch.peerMs, pytorchThreads: peer.threads, speedVsPytorch: torch.peerMs / ms });
        rows.push(row);
        const versus = row.speedVsPytorch !== undefined ? `; PyTorch (${peer!.threads} threads) ${row.pytorchMs!.toFixed(0)} ms: onnxruntime at ${row.speedVsPytorch.toFixed(2)}x PyTorch's speed` : '';
        output.line(`backbone ${name} on onnxruntime-node at ${size} px, batch ${batch}, ${threadCount} thread${threadCount === 1 ? '' : 's'}: ${ms.toFixed(0)} ms per batch, ${(ms / batch).toFixed(0)} ms per image${versus}`);
      }
    } finally {
      extractor.dispose();
      await extractor.released;
    }
  }
  return { rows };
}
