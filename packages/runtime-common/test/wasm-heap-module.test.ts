import { describe, expect, it } from 'vitest';
import { batchNormSimdFor } from '../src/index.js';

/** A stand-in for tfjs-wasm's Emscripten module: a real memory, and a malloc that returns what it is told. */
function fakeBackend(memory: WebAssembly.Memory, next: () => number) {
  const freed: number[] = [];
  return { backend: { wasm: { asm: { memory }, _malloc: () => next(), _free: (pointer: number) => freed.push(pointer) } }, freed };
}

describe('wasmHeapModule', () => {
  it("reads malloc's signed i32 as the unsigned offset it is (heaps past 2 GiB)", () => {
    const { backend } = fakeBackend(new WebAssembly.Memory({ initial: 1 }), () => -2145146656);
    const heap = batchNormSimdFor(backend)!;
    expect(heap).toBeDefined();
    expect(heap.malloc(64)).toBe(2149820640);
  });

  it('names a failed allocation, and binds once per memory', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const { backend } = fakeBackend(memory, () => 0);
    expect(() => batchNormSimdFor(backend)!.malloc(1024)).toThrow(/batch-norm\.wat: the wasm heap has no room for 1024 bytes/);
    expect(batchNormSimdFor(fakeBackend(memory, () => 16).backend)).toBe(batchNormSimdFor(backend));
  });

  it('refuses views of other memory, and does not bind to a shared (threaded) heap or a backend without one', () => {
    const { backend } = fakeBackend(new WebAssembly.Memory({ initial: 1 }), () => 16);
    expect(() => batchNormSimdFor(backend)!.pointer(new Float32Array(4), 'x')).toThrow(/'x' is not a view of the wasm heap/);
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    expect(batchNormSimdFor(fakeBackend(shared, () => 16).backend)).toBeUndefined();
    expect(batchNormSimdFor({ wasm: {} })).toBeUndefined();
    expect(batchNormSimdFor(undefined)).toBeUndefined();
  });
});
