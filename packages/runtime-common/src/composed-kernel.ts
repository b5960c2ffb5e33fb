/**
 * Kernels composed from tensor ops: the engine accepts a Tensor as a kernel's output and does not record the nested
 * ops on the gradient tape (kernelDepth > 0), so such a kernel behaves like a native one.
 */
import { tf } from '@thfr/tensor';
import type { Tensor } from '@thfr/tensor';

export type TensorInfo = { dataId: object; shape: number[]; dtype: string };
export type KernelArgs = { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown };

/**
 * Wraps a kernel input as a Tensor sharing its data. The backend's reference count is raised first so
 * that disposing the wrapper (at the end of the tidy) gives the data back to its owner untouched.
 */
export function borrow<T extends Tensor>(info: TensorInfo, backend: unknown): T {
  (backend as { incRef(dataId: object): void }).incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info as never) as T;
}

/** A kernel function running `run` in a tidy: only the returned tensor survives. */
export function composed(run: (args: KernelArgs) => Tensor) {
  return (args: KernelArgs) => tf.tidy(() => run(args)) as never;
}
