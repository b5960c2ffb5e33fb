/**
 * How the exporters read weights back from tfjs tensors. Synchronously by default (`dataSync`), which every CPU
 * backend allows; tfjs-webgpu in Node has no synchronous read-back (it needs an OffscreenCanvas), so the async
 * exporters (`exportResNetToOnnxAsync`, @thfr/restoration-onnx's `...Async`) read every weight first with
 * `readTensorValues` and hand the reader over.
 */
import type { tf } from '@thfr/tensor';

/** The float32 values of one of the exported model's tensors, in the tensor's own (row-major) order. */
export type TensorValues = (tensor: tf.Tensor) => Float32Array;

/** Reads a tensor back synchronously. */
export const syncTensorValues: TensorValues = (tensor) => tensor.dataSync() as Float32Array;

/**
 * Reads `tensors` back asynchronously, all in flight together (one read-back round trip rather than one per tensor
 * on a GPU), and returns a reader of those values; asking it for a tensor it did not read is a bug, reported by shape.
 */
export async function readTensorValues(tensors: Iterable<tf.Tensor>): Promise<TensorValues> {
  const unique = [...new Set(tensors)];
  const disposed = unique.find((t) => t.isDisposed);
  if (disposed) throw new Error(`readTensorValues: a tensor of shape [${disposed.shape.join(', ')}] was disposed; export before dispose()`);
  const values = await Promise.all(unique.map((t) => t.data() as Promise<Float32Array>));
  const read = new Map(unique.map((t, i) => [t, values[i]]));
  return (tensor) => {
    const found = read.get(tensor);
    if (!found) throw new Error(`readTensorValues: the tensor of shape [${tensor.shape.join(', ')}] was not among those read ahead`);
    return found;
  };
}
