/**
 * @thfr/backbone-onnx/node — the ONNX backbone on onnxruntime-node (an optional peer dependency: installed by the
 * user, like tfjs-node) and `.onnx` files on disk.
 */
import { readFile } from 'node:fs/promises';
import { ResNetBackbone } from '@thfr/backbone';
import { OnnxFeatureExtractor, type OnnxExtractorOptions } from './onnx-extractor.js';
import { exportResNetToOnnxAsync, type OnnxExportOptions } from './resnet-onnx.js';
import type { OnnxRuntimeLike } from './ort-types.js';
import { OnnxAcceleratedBackbone } from './onnx-accelerated.js';

export * from './index.js';

let runtime: Promise<OnnxRuntimeLike> | undefined;

/**
 * The onnxruntime-node module, imported once. Throws a message saying how to install it when it is missing (its
 * postinstall only downloads CUDA libraries: `npm install onnxruntime-node --ignore-scripts` is enough for the CPU).
 */
export function loadOnnxRuntimeNode(): Promise<OnnxRuntimeLike> {
  runtime ??= import('onnxruntime-node').then(
    (module) => ((module as { default?: OnnxRuntimeLike }).default ?? module) as unknown as OnnxRuntimeLike,
    (error: unknown) => {
      runtime = undefined;
      throw new Error(`onnxruntime-node is not installed or does not load (${(error as Error).message.split('\n')[0]}); install it next to @thfr/backbone-onnx: npm install onnxruntime-node --ignore-scripts (an optional peer dependency; the CPU binary ships in the package)`);
    },
  );
  return runtime;
}

/**
 * A FeatureExtractor on onnxruntime-node: from a tfjs ResNet backbone (exported in memory; dispose the tfjs one
 * yourself once no longer needed) or from the bytes of an exported `.onnx` file.
 */
export async function createOnnxFeatureExtractor(source: ResNetBackbone | Uint8Array, options: OnnxExtractorOptions & OnnxExportOptions = {}): Promise<OnnxFeatureExtractor> {
  const ort = await loadOnnxRuntimeNode();
  const bytes = source instanceof ResNetBackbone ? await exportResNetToOnnxAsync(source, options) : source;
  return OnnxFeatureExtractor.create(ort, bytes, options);
}

/** Opens an exported backbone file (`thfr export-onnx`) on onnxruntime-node. */
export async function loadOnnxFeatureExtractor(path: string, options: OnnxExtractorOptions = {}): Promise<OnnxFeatureExtractor> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`loadOnnxFeatureExtractor: cannot read '${path}': ${(error as Error).message}`);
  }
  return createOnnxFeatureExtractor(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { where: path, ...options });
}

/**
 * The tfjs ResNet `backbone` with its async extraction on onnxruntime-node (exported in memory, ~0.4 s for
 * ResNet-50); it takes ownership of `backbone`. Measured on 2 CPU cores: the ResNet-50 forward at 256 px runs
 * 2-5x faster than on tfjs-wasm (docs/benchmarks.md).
 */
export async function accelerateWithOnnx(backbone: ResNetBackbone, options: OnnxExtractorOptions = {}): Promise<OnnxAcceleratedBackbone> {
  return new OnnxAcceleratedBackbone(backbone, await createOnnxFeatureExtractor(backbone, options));
}
