// Messages between the page (main thread) and the inference worker. Plain data only: what crosses
// postMessage is structured-cloned (typed arrays are transferred, not copied).
import type { WebBackendName, BackendDescription } from '@thfr/runtime-web';
import type { NormalStatistics } from '@thfr/model';

/** Where the frozen backbone and the restoration network run: see PageOptions.features. */
export const FEATURE_RUNTIMES = ['auto', 'onnx', 'tfjs'] as const;
export type FeatureRuntime = (typeof FEATURE_RUNTIMES)[number];

/** thfr's tiled WebGPU GEMM: off (tfjs' kernels), on, or auto (per shape, the faster on this GPU): see PageOptions.gemm. */
export const GEMM_CHOICES = ['off', 'on', 'auto'] as const;
export type GemmChoice = (typeof GEMM_CHOICES)[number];

export interface LoadRequest {
  type: 'load';
  /** Absolute URL of the model folder, ending in '/'. */
  modelUrl: string;
  /** Folder URL of tfjs-backend-wasm's .wasm files. */
  wasmPaths: string;
  backend?: WebBackendName;
  features: FeatureRuntime;
  gemm: GemmChoice;
}

export type ToWorker =
  | LoadRequest
  | { type: 'predict'; id: number; name: string; bytes: ArrayBuffer };

export interface SkippedBackendInfo {
  name: string;
  reason: string;
}

export interface ModelInfo {
  imageSize: number;
  normalStatistics?: NormalStatistics;
  backbone: string;
  /** Where the backbone and the network run, e.g. 'onnxruntime-web 1.30.0 (wasm, 2 threads)' or 'tfjs (webgpu)'. */
  networksOn: string;
  /** The first inference (shader compilation, weight upload), on a blank image. */
  warmupMs: number;
}

export interface PredictionMessage {
  type: 'result';
  id: number;
  name: string;
  /** Raw image score: max of the smoothed anomaly map. */
  score: number;
  /** 0 at the mean score of normal images, 1 at the calibrated threshold; null without calibration. */
  normalizedScore: number | null;
  /** size x size anomaly map, row-major. */
  map: Float32Array;
  size: number;
  /** The input image resized to size x size RGB, for drawing the overlay. */
  image: Uint8Array;
  templateIndex: number;
  timings: { decodeMs: number; inferenceMs: number };
}

export type FromWorker =
  | { type: 'runtime'; backend: WebBackendName; skipped: SkippedBackendInfo[]; description: BackendDescription }
  | { type: 'progress'; stage: 'backbone' | 'model' | 'warmup'; fraction: number; detail: string }
  | ({ type: 'ready' } & ModelInfo)
  | PredictionMessage
  | { type: 'error'; id?: number; message: string };
