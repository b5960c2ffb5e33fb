// The backends every numeric test runs on. Importing them here (tests only) keeps src/ backend-free.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';

export const BACKENDS = ['cpu', 'wasm'] as const;

export async function useBackend(name: (typeof BACKENDS)[number]): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
}
