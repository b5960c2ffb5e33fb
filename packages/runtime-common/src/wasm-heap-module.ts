/**
 * thfr's own WebAssembly modules on tfjs-backend-wasm's heap: each is instantiated against the backend's memory (it
 * imports it), so that a kernel passes its tensors' heap offsets and reads and writes them in place, without a copy.
 * Used where tfjs-wasm has no kernel of its own for a loop that JavaScript runs ~10x slower than SIMD (batch norm).
 */

/** The parts of tfjs-backend-wasm's Emscripten module used here. */
interface EmscriptenModuleLike {
  asm?: { memory?: WebAssembly.Memory };
  wasmExports?: { memory?: WebAssembly.Memory };
  _malloc?: (bytes: number) => number;
  _free?: (pointer: number) => void;
}

/** A module of ours bound to one tfjs-wasm heap. */
export interface WasmHeapModule<E> {
  exports: E;
  memory: WebAssembly.Memory;
  /** Heap bytes for scratch (16-byte aligned, as Emscripten's malloc gives); free them with `free`. */
  malloc(bytes: number): number;
  free(pointer: number): void;
  /** The heap offset of a view of this heap (an input or output tensor's values); throws for any other array. */
  pointer(view: Float32Array, what: string): number;
  f32(pointer: number, length: number): Float32Array;
  f64(pointer: number, length: number): Float64Array;
}

const bound = new WeakMap<WebAssembly.Memory, Map<string, WasmHeapModule<unknown> | null>>();
const compiled = new Map<string, WebAssembly.Module | null>();

function decodeBase64(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Compiles once per process; null where the engine lacks what the module needs (128-bit SIMD). */
function compile(name: string, base64: string): WebAssembly.Module | null {
  if (!compiled.has(name)) {
    const bytes = decodeBase64(base64);
    // Synchronous compilation: a kernel runs synchronously; the modules are ~1 KB, under browsers' 4 KB limit for it.
    compiled.set(name, WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null);
  }
  return compiled.get(name)!;
}

/**
 * Module `name` (its bytes in base64) bound to the heap of `backend` (a tfjs-backend-wasm backend), or undefined
 * where it cannot be: another backend, an engine without SIMD, or tfjs-wasm's threaded build, whose shared memory
 * the module (declared for an unshared one) does not link to. Callers then run their JavaScript loops.
 */
export function wasmHeapModule<E>(backend: unknown, name: string, base64: string): WasmHeapModule<E> | undefined {
  const emscripten = (backend as { wasm?: EmscriptenModuleLike } | undefined)?.wasm;
  const memory = emscripten?.asm?.memory ?? emscripten?.wasmExports?.memory;
  const { _malloc: malloc, _free: free } = emscripten ?? {};
  if (!(memory instanceof WebAssembly.Memory) || !malloc || !free) return undefined;
  let modules = bound.get(memory);
  if (!modules) bound.set(memory, (modules = new Map()));
  if (!modules.has(name)) {
    const module = compile(name, base64);
    let instance: WebAssembly.Instance | undefined;
    try {
      instance = module ? new WebAssembly.Instance(module, { env: { memory } }) : undefined;
    } catch {
      instance = undefined; // a shared (threaded) heap: link error
    }
    modules.set(name, instance ? {
      exports: instance.exports as E,
      memory,
      malloc: (bytes) => {
        // Emscripten's malloc returns a signed i32: an offset past 2 GiB (a paper-size training step) reads negative.
        const pointer = malloc(bytes) >>> 0;
        if (!pointer) throw new Error(`${name}: the wasm heap has no room for ${bytes} bytes of scratch`);
        return pointer;
      },
      free: (pointer) => free(pointer),
      pointer: (view, what) => {
        if (view.buffer !== memory.buffer) throw new Error(`${name}: '${what}' is not a view of the wasm heap (read it after every allocation)`);
        return view.byteOffset;
      },
      f32: (pointer, length) => new Float32Array(memory.buffer, pointer, length),
      f64: (pointer, length) => new Float64Array(memory.buffer, pointer, length),
    } : null);
  }
  return (modules.get(name) ?? undefined) as WasmHeapModule<E> | undefined;
}
