import { tf, assertRank, describeShape, ShapeError } from '@thfr/tensor';
import { encodeFloat16 } from './float16.js';
import { KeyReducer, resolveKeyReduction, type KeyReduction } from './key-reduction.js';
import { l2NormalizeRows } from './nearest-neighbors.js';
import type { TemplateStorage } from './serialization.js';
import { checkStorage, concatParts, product } from './template-storage.js';
import { TemplateBank } from './template-bank.js';

export interface TemplateBankOptions extends KeyReduction {
  /** How the level values are held: 'float32' (default, as tensors) or 'float16' (half the bytes, JS side). */
  storage?: TemplateStorage;
  /** Names of the value levels (default 'level0', 'level1', ...). */
  levelNames?: string[];
  /** Keys per search matMul (default 4096). */
  chunkSize?: number;
}

/**
 * Collects templates batch by batch (features are usually extracted in batches) and builds the bank.
 * Each add() reduces and normalises its keys at once, so only the reduced keys of the set are kept.
 */
export class TemplateBankBuilder {
  private readonly storage: TemplateStorage;
  private readonly reduction;
  private readonly chunkSize: number;
  private levelNames: string[] | undefined;
  private reducer: KeyReducer | undefined;
  private levelShapes: number[][] | undefined;
  private keyParts: Float32Array[] = [];
  private valueParts: Array<Array<Float32Array | Uint16Array>> = [];
  private count = 0;

  constructor(opts: TemplateBankOptions = {}) {
    this.storage = checkStorage(opts.storage ?? 'float32');
    this.reduction = resolveKeyReduction(opts);
    this.chunkSize = opts.chunkSize ?? 4096;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1) throw new RangeError(`template bank chunkSize must be a positive integer, got ${this.chunkSize}`);
    this.levelNames = opts.levelNames ? [...opts.levelNames] : undefined;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Adds N templates: keys [N, ...] (same per-image shape every call) and values per level [N, H, W, C].
   * Reads the tensors back asynchronously (so it runs on WebGPU in Node); the caller keeps its inputs.
   */
  async add(keys: tf.Tensor, values: tf.Tensor4D[]): Promise<this> {
    const reduced = this.prepare(keys, values);
    const keyData = (await reduced.data()) as Float32Array;
    reduced.dispose();
    const valueData = await Promise.all(values.map((v) => v.data() as Promise<Float32Array | Int32Array | Uint8Array>));
    return this.ingest(keyData, valueData);
  }

  /** Checks the shapes (fixing the level layout on the first call) and returns the normalised reduced keys. */
  private prepare(keys: tf.Tensor, values: tf.Tensor4D[]): tf.Tensor {
    if (keys.rank < 2) throw new ShapeError(`template keys: expected [N, D] or [N, h, w, c], got ${describeShape(keys.shape)}`);
    const n = keys.shape[0];
    if (n < 1) throw new ShapeError(`template keys: expected at least one template, got ${describeShape(keys.shape)}`);
    if (!Array.isArray(values)) throw new TypeError('template values: expected an array of [N, H, W, C] tensors, one per level');
    values.forEach((v, l) => {
      assertRank(v, 4, `template values[${l}]`);
      if (v.shape[0] !== n) throw new ShapeError(`template values[${l}]: expected ${n} templates (the keys' first dim), got shape ${describeShape(v.shape)}`);
    });
    if (!this.reducer) {
      if (this.levelNames && this.levelNames.length !== values.length) throw new RangeError(`levelNames has ${this.levelNames.length} names for ${values.length} levels`);
      this.levelNames ??= values.map((_, l) => `level${l}`);
      if (new Set(this.levelNames).size !== this.levelNames.length) throw new RangeError(`levelNames must be distinct, got ${this.levelNames.join(', ')}`);
      this.reducer = new KeyReducer(keys.shape.slice(1), this.reduction);
      this.levelShapes = values.map((v) => v.shape.slice(1));
      this.valueParts = values.map(() => []);
    } else {
      if (values.length !== this.levelShapes!.length) throw new ShapeError(`template values: expected ${this.levelShapes!.length} levels as in the first batch, got ${values.length}`);
      values.forEach((v, l) => {
        const expected = this.levelShapes![l];
        if (!v.shape.slice(1).every((d, i) => d === expected[i])) throw new ShapeError(`template values[${l}]: expected shape ${describeShape([null, ...expected])}, got ${describeShape(v.shape)}`);
      });
    }
    return tf.tidy(() => l2NormalizeRows(this.reducer!.reduce(keys, 'template keys')));
  }

  private ingest(keyData: Float32Array, valueData: Array<Float32Array | Int32Array | Uint8Array>): this {
    const n = keyData.length / this.reducer!.keyDim;
    for (let i = 0; i < keyData.length; i++) {
      if (!Number.isFinite(keyData[i])) throw new ShapeError(`template keys: expected finite values, found ${keyData[i]} in template ${this.count + Math.floor(i / this.reducer!.keyDim)}`);
    }
    this.keyParts.push(keyData);
    valueData.forEach((raw, l) => {
      const data = raw instanceof Float32Array ? raw.slice() : Float32Array.from(raw);
      this.valueParts[l].push(this.storage === 'float16' ? encodeFloat16(data) : data);
    });
    this.count += n;
    return this;
  }

  build(): TemplateBank {
    if (!this.reducer || this.count === 0) throw new RangeError('TemplateBankBuilder.build: no templates were added');
    const keyDim = this.reducer.keyDim;
    const keys = concatParts(this.keyParts, new Float32Array(this.count * keyDim));
    const levels = this.levelShapes!.map((shape, l) => {
      const total = this.count * product(shape);
      const out = this.storage === 'float16' ? new Uint16Array(total) : new Float32Array(total);
      return { name: this.levelNames![l], shape: [...shape], data: concatParts(this.valueParts[l], out) };
    });
    return TemplateBank.fromData(
      {
        keyInputShape: [...this.reducer.keyInputShape],
        keyReduction: this.reduction,
        keyDim,
        size: this.count,
        storage: this.storage,
        keys,
        levels,
        sourceIndices: Int32Array.from({ length: this.count }, (_, i) => i),
      },
      this.chunkSize,
    );
  }

  dispose(): void {
    this.reducer?.dispose();
    this.reducer = undefined;
    this.keyParts = [];
    this.valueParts = [];
  }
}
