import type { DetectorInput } from './images.js';

/** Per-image, method-specific results beside score and map (e.g. THFR's `{ template: 3 }`). JSON-safe. */
export type ImageExtras = Record<string, number | string | boolean | null>;

/** What every detector's predict returns, read back to plain arrays. */
export interface DetectorPrediction {
  /** One image score per image (higher = more anomalous). */
  scores: Float32Array;
  /** One anomaly map per image, size x size, row-major. */
  maps: Float32Array[];
  size: number;
  /** One entry per image (an empty object when the method has none). */
  extras: ImageExtras[];
}

/** Progress of fit: `phase` is method-specific ('features', 'train', 'coreset', ...). */
export interface FitProgress {
  phase: string;
  done: number;
  total: number;
  /** A short human-readable status (e.g. 'epoch 3/20 loss 0.41'). */
  detail?: string;
}

export interface DetectorFitOptions {
  onProgress?: (progress: FitProgress) => void;
  /** Aborts between steps (batches, epochs, coreset rounds) with the signal's reason. */
  signal?: AbortSignal;
  /** Held-out normal images for calibration, where the method calibrates. */
  validationImages?: DetectorInput;
}

/** What fit reports; methods add their own fields (epochs, bank size, ...). */
export interface DetectorFitSummary {
  images: number;
  seconds: number;
  backend: string;
  [field: string]: unknown;
}

export interface DetectorPredictOptions {
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** The backbone facts a detector records (a structural subset of @thfr/backbone's BackboneIdentity). */
export interface BackboneIdentityLike {
  architecture: string;
  weights: string;
  taps: string[];
}

/**
 * The contract every thfr method implements. A detector is created unfitted for a backbone (which it
 * does not own), fitted on normal images, then predicts; `save` is in each method's Node entry and the
 * registry (`DetectorMethod`), `dispose` frees its tensors but never the backbone.
 */
export interface AnomalyDetector {
  /** Registry name of the method ('thfr', 'rd4ad', 'patchcore', ...). */
  readonly method: string;
  /** Square input size in pixels; RGB inputs are resized to it, tensors must have it. */
  readonly imageSize: number;
  /** Default predict batch size. */
  readonly batchSize: number;
  readonly backbone: { readonly identity: BackboneIdentityLike };
  /** True once fitted or loaded. */
  readonly fitted: boolean;
  fit(images: DetectorInput, options?: DetectorFitOptions): Promise<DetectorFitSummary>;
  predict(images: DetectorInput, options?: DetectorPredictOptions): Promise<DetectorPrediction>;
  /** The last fit's summary (also after load, when saved). */
  readonly fitSummary?: DetectorFitSummary;
  /** Bytes the detector holds on the device, by part. */
  memoryBytes(): Record<string, number>;
  dispose(): void;
}

/** Options a method gets when a detector is created: a named preset and overrides of its config. */
export interface DetectorCreateOptions {
  /** A method-defined preset ('default', 'paper', ...). */
  preset?: string;
  /** Config overrides, checked by the method (unknown or fixed fields are refused by name). */
  config?: Record<string, unknown>;
}

/**
 * How a method plugs into the registry: create, save and load detectors. `TBackbone` is the backbone
 * type (FeatureExtractor in practice); saving and loading take a folder path (Node entries).
 */
export interface DetectorMethod<TBackbone = unknown, TDetector extends AnomalyDetector = AnomalyDetector> {
  readonly name: string;
  /** One line for --help and reports. */
  readonly summary: string;
  create(backbone: TBackbone, options?: DetectorCreateOptions): TDetector;
  /** True when a parsed manifest.json (of a folder without a `method` field) was written by this method. */
  recognizes(manifest: Record<string, unknown>): boolean;
  /**
   * Reads and checks a saved folder's manifest without loading any tensor (so a CLI can fail early and
   * open the backbone the manifest names: one-step loading is inspect -> open backbone -> load).
   */
  inspect(dir: string): Promise<{ backbone: BackboneIdentityLike }>;
  save(detector: TDetector, dir: string, options?: { extraFiles?: Map<string, Uint8Array | string> }): Promise<unknown>;
  load(dir: string, backbone: TBackbone): Promise<TDetector>;
}
