import { tf, describeShape, ShapeError } from '@thfr/tensor';
import { randomProjection, type ProjectionKind } from './random-projection.js';

/**
 * Optional reduction of the search keys (and, identically, of every query) before flattening. The
 * default is none: exact image-level cosine distance on the flattened feature, as the paper does.
 */
export interface KeyReduction {
  /** Average-pool keys [N, h, w, c] with a pooling x pooling window and stride (h, w must divide). */
  keyPooling?: number;
  /** Then project the flattened key to this many dimensions with a seeded Gaussian/sparse JL matrix. */
  keyProjectionDim?: number;
  keyProjectionSeed?: number;
  keyProjectionKind?: ProjectionKind;
}

/** The reduction in the explicit form stored in a manifest. */
export interface ResolvedKeyReduction {
  pooling: number;
  projectionDim: number;
  projectionSeed: number;
  projectionKind: ProjectionKind;
}

export function resolveKeyReduction(r: KeyReduction = {}): ResolvedKeyReduction {
  const pooling = r.keyPooling ?? 1;
  const projectionDim = r.keyProjectionDim ?? 0;
  if (!Number.isInteger(pooling) || pooling < 1) throw new RangeError(`keyPooling must be a positive integer, got ${pooling}`);
  if (!Number.isInteger(projectionDim) || projectionDim < 0) throw new RangeError(`keyProjectionDim must be a non-negative integer, got ${projectionDim}`);
  const projectionKind = r.keyProjectionKind ?? 'gaussian';
  if (projectionKind !== 'gaussian' && projectionKind !== 'sparse') throw new RangeError(`keyProjectionKind must be 'gaussian' or 'sparse', got '${String(projectionKind)}'`);
  return { pooling, projectionDim, projectionSeed: r.keyProjectionSeed ?? 0, projectionKind };
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Turns keys or queries [N, ...keyInputShape] into float32 rows [N, keyDim] (not yet normalised). */
export class KeyReducer {
  readonly keyDim: number;
  private readonly pooledShape: number[];
  private projection: tf.Tensor2D | undefined;

  constructor(readonly keyInputShape: readonly number[], readonly reduction: ResolvedKeyReduction) {
    if (keyInputShape.length === 0 || keyInputShape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ShapeError(`template keys: expected a per-image shape of positive sizes, got ${describeShape(keyInputShape)}`);
    }
    const { pooling, projectionDim } = reduction;
    if (pooling > 1) {
      if (keyInputShape.length !== 3) throw new ShapeError(`template keys: keyPooling needs keys [N, h, w, c], got per-image shape ${describeShape(keyInputShape)}`);
      const [h, w, c] = keyInputShape;
      if (h % pooling !== 0 || w % pooling !== 0) throw new ShapeError(`template keys: keyPooling ${pooling} must divide the key height and width, got ${h}x${w}`);
      this.pooledShape = [h / pooling, w / pooling, c];
    } else {
      this.pooledShape = [...keyInputShape];
    }
    const flatDim = product(this.pooledShape);
    this.keyDim = projectionDim > 0 ? projectionDim : flatDim;
    if (projectionDim > 0) this.projection = tf.keep(randomProjection(flatDim, projectionDim, reduction.projectionSeed, reduction.projectionKind));
  }

  /** Accepts [N, ...keyInputShape], or [N, D] with D = product(keyInputShape) when there is no pooling. */
  reduce(x: tf.Tensor, what: string): tf.Tensor2D {
    const expected = this.keyInputShape;
    const perImage = x.shape.slice(1);
    const exact = perImage.length === expected.length && perImage.every((d, i) => d === expected[i]);
    const flatOk = this.reduction.pooling === 1 && x.rank === 2 && x.shape[1] === product(expected);
    if (!exact && !flatOk) throw new ShapeError(`${what}: expected shape ${describeShape([null, ...expected])}, got ${describeShape(x.shape)}`);
    return tf.tidy(() => {
      let t: tf.Tensor = tf.cast(x, 'float32');
      if (this.reduction.pooling > 1) t = tf.avgPool(t as tf.Tensor4D, this.reduction.pooling, this.reduction.pooling, 'valid');
      let rows = tf.reshape(t, [x.shape[0], -1]) as tf.Tensor2D;
      if (this.projection) rows = tf.matMul(rows, this.projection);
      return rows;
    });
  }

  /** The projection matrix [rows, keyDim] read back, or undefined without a projection. */
  async projectionData(): Promise<{ rows: number; values: Float32Array } | undefined> {
    if (!this.projection) return undefined;
    return { rows: this.projection.shape[0], values: Float32Array.from((await this.projection.data()) as Float32Array) };
  }

  memoryBytes(): number {
    return this.projection ? this.projection.size * 4 : 0;
  }

  dispose(): void {
    this.projection?.dispose();
    this.projection = undefined;
  }
}
