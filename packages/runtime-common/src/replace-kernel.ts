import { tf } from '@thfr/tensor';

/** A kernel of ours as tfjs registers it (kernelFunc typed loosely: this package imports no backend). */
type KernelFunc = (args: never) => unknown;

/**
 * Registers `kernelFunc` as `kernelName` for `backendName`, in place of whatever was registered (tfjs warns about a
 * second registration, so the old one is unregistered first). Returns a function that puts the replaced kernel back
 * (or leaves none, where there was none).
 *
 * The replaced kernel's `setupFunc` and `disposeFunc` stay with the new one: tfjs-backend-wasm's kernels bind their
 * wasm function in setupFunc, which the backend calls for the kernels registered when it initialises. A kernel that
 * falls back on the one it replaced, registered before `tf.setBackend('wasm')` (as initRuntime does), would otherwise
 * call an unbound function.
 */
export function replaceKernel(kernelName: string, backendName: string, kernelFunc: KernelFunc): () => void {
  const previous = tf.getKernel(kernelName, backendName);
  if (previous != null) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ setupFunc: previous?.setupFunc, disposeFunc: previous?.disposeFunc, kernelName, backendName, kernelFunc: kernelFunc as never });
  return () => {
    tf.unregisterKernel(kernelName, backendName);
    if (previous != null) tf.registerKernel(previous);
  };
}
