/// <reference lib="webworker" />
// The inference worker: owns the tensor runtime and the model, so backend start-up, weight loading and
// inference never block the page. One request at a time (messages are handled in order).
import { initRuntime } from '@thfr/runtime-web';
import { loadBackboneFromUrl, type FeatureExtractor } from '@thfr/backbone';
import { OnnxAcceleratedBackbone } from '@thfr/backbone-onnx';
import { loadModelFromUrl, type ThfrModel } from '@thfr/model';
import { decodeImage, decodeImageInBrowser, resizeRgb, type RgbImage } from '@thfr/data';
import type { FromWorker, ToWorker } from './worker-protocol.js';
import { checkModelFolder } from './model-probe.js';
import { backboneOnOnnxRuntime, inferenceOnOnnxRuntime, loadOnnxRuntimeWeb, wantsOnnxRuntime, type OnnxRuntimeWeb } from './onnx-runtime-web.js';

declare const self: DedicatedWorkerGlobalScope;

let model: ThfrModel | undefined;
let queue: Promise<void> = Promise.resolve();

function send(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

async function load(request: Extract<ToWorker, { type: 'load' }>): Promise<void> {
  const base = request.modelUrl.endsWith('/') ? request.modelUrl : `${request.modelUrl}/`;
  // A missing model folder is reported as such, before the runtime starts or the backbone is fetched.
  await checkModelFolder(base);
  // A software WebGPU adapter or WebGL renderer (SwiftShader, llvmpipe) is skipped for wasm unless ?backend= forces it.
  // ?gemm=auto: the GEMM's shapes are timed after the warm-up inference below (predict's loop calls tunePendingKernels).
  const webgpuTiledGemm = request.gemm === 'auto' ? 'auto' : request.gemm === 'on';
  const runtime = await initRuntime({ force: request.backend, wasmPaths: request.wasmPaths, webgpuTiledGemm });
  send({ type: 'runtime', backend: runtime.backend, skipped: runtime.skipped.map((s) => ({ name: s.name, reason: s.reason })), description: runtime.description });

  // backbone/ holds backbone.json + weights.safetensors (the ResNet-50 default, float16) or model.json (tfjs layers).
  const backboneUrl = `${base}backbone/`;
  let backbone: FeatureExtractor = await loadBackboneFromUrl(backboneUrl, {
    onProgress: (fraction) => send({ type: 'progress', stage: 'backbone', fraction, detail: 'backbone weights' }),
  }).catch((error: unknown) => {
    throw new Error(`cannot load the backbone from ${backboneUrl} (a model folder saved by \`thfr train\` has one): ${(error as Error).message}`);
  });
  let onnx: OnnxRuntimeWeb | undefined;
  // ?features=auto falls back to tfjs when onnxruntime-web cannot start (its .wasm not served, a CSP); =onnx fails.
  let onnxFailure: string | undefined;
  if (wantsOnnxRuntime(request.features, runtime.backend, backbone)) {
    send({ type: 'progress', stage: 'backbone', fraction: 1, detail: 'moving the backbone to onnxruntime-web' });
    try {
      onnx = await loadOnnxRuntimeWeb();
      backbone = await backboneOnOnnxRuntime(onnx.ort, backbone);
    } catch (error) {
      if (request.features === 'onnx') throw new Error(`?features=onnx: onnxruntime-web did not start: ${(error as Error).message}`);
      onnx = undefined;
      onnxFailure = (error as Error).message;
    }
  }
  model = await loadModelFromUrl(base, backbone, {
    onProgress: (loaded, total) => send({ type: 'progress', stage: 'model', fraction: total > 0 ? loaded / total : 1, detail: `${(loaded / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB` }),
  });
  const onOnnx = onnx && backbone instanceof OnnxAcceleratedBackbone ? await inferenceOnOnnxRuntime(onnx.ort, model, backbone) : undefined;

  // One blank image compiles the backend's kernels (WebGPU/WebGL shaders) before the user's first image.
  send({ type: 'progress', stage: 'warmup', fraction: 0, detail: `first inference on a blank ${model.config.imageSize} px image (compiles the ${runtime.backend} kernels)` });
  const size = model.config.imageSize;
  const start = performance.now();
  await model.predict([{ width: size, height: size, data: new Uint8Array(size * size * 3).fill(128) }]);
  const warmupMs = performance.now() - start;
  send({ type: 'progress', stage: 'warmup', fraction: 1, detail: `done in ${(warmupMs / 1000).toFixed(1)} s` });
  send({ type: 'ready', imageSize: size, normalStatistics: model.normalStatistics, backbone: backbone.identity.architecture, networksOn: onnx && onOnnx ? `${onnx.description}, ${onOnnx}` : `tfjs (${runtime.backend})${onnxFailure ? `: onnxruntime-web did not start (${onnxFailure})` : ''}`, warmupMs });
}

/** PNG and JPEG go through @thfr/data's decoder (the same pixels as in Node); other formats through the browser's codecs. */
async function decode(buffer: ArrayBuffer, name: string): Promise<RgbImage> {
  const bytes = new Uint8Array(buffer);
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  return isPng || isJpeg ? decodeImage(bytes, name) : decodeImageInBrowser(new Blob([buffer]));
}

async function predict(request: Extract<ToWorker, { type: 'predict' }>): Promise<void> {
  if (!model) throw new Error('the model is not loaded yet');
  const decodeStart = performance.now();
  const image = await decode(request.bytes, request.name);
  const decodeMs = performance.now() - decodeStart;
  const inferenceStart = performance.now();
  const prediction = await model.predict([image]);
  const inferenceMs = performance.now() - inferenceStart;
  const size = prediction.size;
  const score = prediction.scores[0];
  const shown = image.width === size && image.height === size ? image : resizeRgb(image, size, size);
  const map = prediction.maps[0];
  const imageBytes = Uint8Array.from(shown.data);
  send({
    type: 'result',
    id: request.id,
    name: request.name,
    score,
    normalizedScore: model.normalStatistics ? model.normalizeScore(score) : null,
    map,
    size,
    image: imageBytes,
    templateIndex: prediction.templateIndices[0],
    timings: { decodeMs, inferenceMs },
  }, [map.buffer, imageBytes.buffer]);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const request = event.data;
  queue = queue.then(async () => {
    try {
      if (request.type === 'load') await load(request);
      else await predict(request);
    } catch (error) {
      send({ type: 'error', id: request.type === 'predict' ? request.id : undefined, message: error instanceof Error ? error.message : String(error) });
    }
  });
};
