import { tf } from '@thfr/tensor';

/** A kernel of ours as tfjs registers it (kernelFunc typed loosely: this package imports no backend). */
type KernelFunc = (args: never) => unknown;

/**
 * Registers `kernelFunc` as `kernelName` for `backendName`, in place of whatever was registered (tfjs warns about a
 * second registration, so the old one is unregistered first). Returns a function that puts the replaced kernel back
 * (or leaves none, where there was none).
 */
export function replaceKernel(kernelName: string, backendName: string, kernelFunc: KernelFunc): () => void {
  const previous = tf.getKernel(kernelName, backendName);
  if (previous != null) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc: kernelFunc as never });
  return () => {
    tf.unregisterKernel(kernelName, backendName);
    if (previous != null) tf.registerKernel(previous);
  };
}
