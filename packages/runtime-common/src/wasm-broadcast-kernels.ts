/**
 * Broadcasting comparison and min/max kernels for the wasm backend at the speed of their same-shape form.
 *
 * tfjs-backend-wasm 4.22 runs Add, Sub, Multiply, RealDiv and SquaredDifference through XNNPACK, which broadcasts at
 * full speed, but every other binary kernel through a generic C++ loop that is fast only for equal shapes and
 * scalars: broadcasting a [4, 1, 1, 512] tensor against a [4, 16, 16, 512] one took 85-135 ms in Equal, Greater,
 * Maximum, Pow... against 3-6 ms for equal shapes (this machine; `thfr bench` reads the training step). One such call
 * is the gradient of every max over axes (tf.max's gradient compares the input with the kept-dims maximum: THFR's
 * global bottleneck, 75-100 ms of a 3.1 s training step).
 *
 * Each kernel here, for float32 inputs that broadcast in any other way, first expands the smaller operand(s) to the
 * output's shape by multiplying with ones (XNNPACK, exact: x * 1 is x for every float, -0 and NaN included), then
 * runs tfjs' own kernel on equal shapes. Other cases go to tfjs' kernel unchanged, so results are bit-identical.
 */
import { tf } from '@thfr/tensor';
import { borrow, type KernelArgs, type TensorInfo } from './composed-kernel.js';
import { replaceKernel } from './replace-kernel.js';

type KernelFunc = (args: KernelArgs) => TensorInfo;

/** The wasm binary kernels without XNNPACK's broadcasting (tfjs-backend-wasm 4.22's generic loop). */
export const WASM_BROADCAST_KERNELS = ['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Maximum', 'Minimum', 'Pow', 'Mod', 'FloorDiv', 'Atan2'] as const;

/** tfjs' own kernels, kept the first time they are replaced (per backend and kernel). */
const originals = new Map<string, KernelFunc>();

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Whether the generic loop handles this pair at full speed: equal shapes or a single value on either side. */
function fastAlready(a: TensorInfo, b: TensorInfo): boolean {
  return sameShape(a.shape, b.shape) || tf.util.sizeFromShape(a.shape) === 1 || tf.util.sizeFromShape(b.shape) === 1;
}

function broadcastKernel(original: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || fastAlready(a, b)) return original(args);
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return tf.tidy(() => {
      const ones = tf.ones(shape);
      const expand = (x: TensorInfo): TensorInfo => (sameShape(x.shape, shape) ? x : tf.mul(borrow(x, args.backend), ones));
      // tfjs' kernel returns a new TensorInfo the tidy does not own; the expanded operands are freed with it.
      return original({ ...args, inputs: { ...args.inputs, a: expand(a), b: expand(b) } }) as never;
    }) as unknown as TensorInfo;
  };
}

/**
 * Replaces the wasm backend's broadcasting binary kernels listed in WASM_BROADCAST_KERNELS (idempotent; kernels the
 * backend lacks are skipped). Returns the names it registered.
 */
export function registerWasmBroadcastKernels(backendName = 'wasm'): string[] {
  const registered: string[] = [];
  for (const kernelName of WASM_BROADCAST_KERNELS) {
    const key = `${backendName}/${kernelName}`;
    const original = originals.get(key) ?? (tf.getKernel(kernelName, backendName)?.kernelFunc as unknown as KernelFunc | undefined);
    if (!original) continue;
    originals.set(key, original);
    // replaceKernel keeps tfjs' setupFunc, which binds the wasm function `original` calls.
    replaceKernel(kernelName, backendName, broadcastKernel(original) as never);
    registered.push(kernelName);
  }
  return registered;
}
