import { tf, THFR_ADAM_STEP, adamStepGradName, adamStepParamName, type AdamStepAttrs } from '@thfr/tensor';
import type { Disposable } from '@thfr/tensor';

export interface FusedAdamOptions {
  /** Step size. Default 0.001 (tf.train.adam's default). */
  learningRate?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default: the active backend's epsilon (1e-7 for float32), as tf.train.adam. */
  epsilon?: number;
  /**
   * Most values per flat buffer (default 2^24 = 64 MiB of float32). Variables are grouped, in order, into
   * buckets of at most this many values (a larger variable gets a bucket of its own); each bucket is one
   * set of kernels per step. The step's temporary memory is a few buffers of one bucket, so a 132 M
   * parameter network (THFR's paper configuration) does not need 3 extra copies of all its parameters
   * at once (the wasm heap stops at 4 GiB). Infinity = one bucket.
   */
  bucketSize?: number;
  /**
   * The buckets themselves, as consecutive runs of variable indices covering every variable in order (e.g. another
   * network's partition, `partitionIntoBuckets`, to reproduce its kernel count). Default: `bucketSize`'s partition.
   */
  buckets?: number[][];
  /**
   * Run a bucket's step as the backend's THFR_ADAM_STEP kernel where one is registered (initRuntime of
   * @thfr/runtime-node and @thfr/runtime-web registers it on webgpu, copies and one shader instead of ~35 shaders and a
   * slice per variable, and on cpu, one pass). The same floats as the ops. Default true; false keeps the element-wise
   * ops everywhere. Buckets in which some variables have no gradient use the ops either way.
   */
  stepKernel?: boolean;
}

/** A run of consecutive variables updated through one flat m / v buffer. */
interface Bucket {
  /** Indices into the variable list. */
  indices: number[];
  sizes: number[];
  total: number;
  m: tf.Variable;
  v: tf.Variable;
}

/** One optimizer state tensor, in tf.train.adam's getWeights() format. */
export interface NamedOptimizerWeight {
  name: string;
  tensor: tf.Tensor;
}

/**
 * Adam over flat parameter buffers: the gradients of consecutive variables are concatenated into one 1-D
 * tensor per bucket (`bucketSize`, default 2^24 values) and the first/second moments are one flat tensor
 * per bucket, so a step runs 21 kernels for the first bucket and at most 17 for each further one (two
 * concats, the element-wise Adam ops, one split; Reshapes aside) instead of 14 per variable, which is what
 * costs on WebGPU (one dispatch each) and in tfjs' per-op overhead.
 *
 * Same arithmetic as tf.train.adam(learningRate, beta1, beta2, epsilon) in tfjs-core 4.22, op for op
 * (m, v, the bias corrections through accBeta1/accBeta2 = beta^(t+1), `p + (-lr) * mHat / (sqrt(vHat) + eps)`),
 * so element-wise the results are the same floats on a given backend. Variables without a gradient in a
 * step keep their value and moments, as in tfjs.
 *
 * getWeights()/setWeights() use tf.train.adam's format ([iter, m per variable "<name>/m", v per variable
 * "<name>/v"]), so checkpoints move between the two. tfjs variables cannot be views of one buffer, so
 * each step also concatenates the current values and splits the new ones back (assigned to the variables).
 */
export class FusedAdam implements Disposable {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly bucketSize: number;
  private readonly variables: tf.Variable[];
  private readonly total: number;
  private readonly buckets: Bucket[];
  private readonly accBeta1: tf.Variable;
  private readonly accBeta2: tf.Variable;
  private iterationCount = 0;
  private disposed = false;
  /** Masks (1 = has a gradient) for buckets in which some variables have no gradient, by bucket and set. */
  private readonly masks = new Map<string, tf.Tensor>();
  private readonly stepKernel: boolean;

  constructor(variables: readonly tf.Variable[], options: FusedAdamOptions = {}) {
    if (variables.length === 0) throw new Error('FusedAdam: no variables to optimise');
    const names = new Set<string>();
    for (const variable of variables) {
      if (variable.dtype !== 'float32') throw new Error(`FusedAdam: variable '${variable.name}' is ${variable.dtype}; only float32 variables can be optimised`);
      if (names.has(variable.name)) throw new Error(`FusedAdam: variable '${variable.name}' is listed twice`);
      names.add(variable.name);
    }
    this.variables = [...variables];
    this.total = this.variables.reduce((a, v) => a + v.size, 0);
    this.learningRate = options.learningRate ?? 0.001;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? tf.backend().epsilon();
    this.bucketSize = options.bucketSize ?? 2 ** 24;
    this.stepKernel = options.stepKernel ?? true;
    if (!(this.bucketSize >= 1)) throw new Error(`FusedAdam: bucketSize must be >= 1, got ${this.bucketSize}`);
    const partition = options.buckets ?? partitionIntoBuckets(this.variables.map((v) => v.size), this.bucketSize);
    checkPartition(partition, this.variables.length);
    this.buckets = partition.map((indices) => {
      const sizes = indices.map((i) => this.variables[i].size);
      const total = sizes.reduce((a, b) => a + b, 0);
      return {
        indices,
        sizes,
        total,
        m: tf.tidy(() => tf.variable(tf.zeros([total]), false)),
        v: tf.tidy(() => tf.variable(tf.zeros([total]), false)),
      };
    });
    this.accBeta1 = tf.tidy(() => tf.variable(tf.scalar(this.beta1), false));
    this.accBeta2 = tf.tidy(() => tf.variable(tf.scalar(this.beta2), false));
  }

  /** Steps taken (tf.train.adam's `iterations`). */
  get iterations(): number {
    return this.iterationCount;
  }

  /** Number of scalars optimised (the length of the flat buffers). */
  get size(): number {
    return this.total;
  }

  /**
   * Runs `lossFn`, computes the gradients of its scalar result with respect to the variables, applies one
   * Adam step and returns the loss (the caller disposes it), like `optimizer.minimize(f, true, varList)`.
   */
  minimize(lossFn: () => tf.Scalar): tf.Scalar {
    this.assertLive();
    const { value, grads } = tf.variableGrads(lossFn, this.variables);
    try {
      this.applyGradients(grads);
    } finally {
      tf.dispose(grads);
    }
    return value;
  }

  /** One Adam step from gradients keyed by variable name (missing ones: that variable is left as is). */
  applyGradients(grads: tf.NamedTensorMap | readonly NamedOptimizerWeight[]): void {
    this.assertLive();
    const byName: Record<string, tf.Tensor | undefined> = Array.isArray(grads)
      ? Object.fromEntries((grads as readonly NamedOptimizerWeight[]).map((g) => [g.name, g.tensor]))
      : (grads as tf.NamedTensorMap);
    const present = this.variables.map((variable) => byName[variable.name]);
    present.forEach((g, i) => {
      const variable = this.variables[i];
      if (g != null && (g.size !== variable.size || g.dtype !== 'float32')) {
        throw new Error(`FusedAdam: gradient of '${variable.name}' has shape [${g.shape}] (${g.dtype}), expected [${variable.shape}] (float32)`);
      }
    });
    if (present.every((g) => g == null)) {
      // tfjs still advances accBeta and the iteration count.
      this.advance();
      return;
    }
    const kernel = this.stepKernel && tf.getKernel(THFR_ADAM_STEP, tf.getBackend()) != null;
    tf.tidy(() => {
      let oneMinusAccBeta: [tf.Tensor, tf.Tensor] | undefined;
      this.buckets.forEach((bucket, b) => {
        const grads = bucket.indices.map((i) => present[i]);
        if (grads.every((g) => g == null)) return;
        if (kernel && grads.every((g) => g != null)) {
          this.stepBucketKernel(bucket, grads as tf.Tensor[]);
          return;
        }
        const mask = grads.some((g) => g == null) ? this.maskFor(b, grads) : undefined;
        oneMinusAccBeta ??= [tf.sub(1, this.accBeta1), tf.sub(1, this.accBeta2)];
        this.stepBucket(bucket, grads, mask, ...oneMinusAccBeta);
      });
    });
    this.advance();
  }

  /**
   * tfjs' Adam update on one bucket's flat buffers, op for op. Intermediates are disposed as soon as they
   * are used, so the temporary memory is a few buffers of the bucket's size.
   */
  private stepBucket(bucket: Bucket, grads: ReadonlyArray<tf.Tensor | undefined>, mask: tf.Tensor | undefined, oneMinusAccBeta1: tf.Tensor, oneMinusAccBeta2: tf.Tensor): void {
    const { beta1, beta2 } = this;
    const variables = bucket.indices.map((i) => this.variables[i]);
    const flat = (list: ReadonlyArray<tf.Tensor>) => (list.length === 1 ? flatten(list[0]) : tf.concat(list.map(flatten)));
    // `flat` of a single 1-D tensor is that tensor: the caller's gradient or a variable, never disposed here.
    const borrowed = new Set<tf.Tensor>([...grads.filter((t): t is tf.Tensor => t != null), ...variables]);
    const release = (t: tf.Tensor) => {
      if (!borrowed.has(t)) t.dispose();
    };
    const g = flat(grads.map((t, i) => t ?? tf.zeros([bucket.sizes[i]])));
    let newM = addThenDispose(tf.mul(bucket.m, beta1), tf.mul(g, 1 - beta1));
    const g2 = tf.square(g);
    release(g);
    let newV = addThenDispose(tf.mul(bucket.v, beta2), tf.mul(g2, 1 - beta2));
    g2.dispose();
    if (mask) {
      newM = whereThenDispose(mask, newM, bucket.m);
      newV = whereThenDispose(mask, newV, bucket.v);
    }
    const mHat = tf.div(newM, oneMinusAccBeta1);
    const vHat = tf.div(newV, oneMinusAccBeta2);
    bucket.m.assign(newM);
    bucket.v.assign(newV);
    newM.dispose();
    newV.dispose();
    const root = tf.sqrt(vHat);
    vHat.dispose();
    const denominator = tf.add(root, this.epsilon);
    root.dispose();
    const ratio = tf.div(mHat, denominator);
    tf.dispose([mHat, denominator]);
    const update = tf.mul(ratio, -this.learningRate);
    ratio.dispose();
    const values = flat(variables);
    let next = tf.add(update, values);
    update.dispose();
    if (mask) {
      const kept = tf.where(mask, next, values);
      next.dispose();
      next = kept;
    }
    release(values);
    const pieces = variables.length === 1 ? [next] : tf.split(next, bucket.sizes);
    pieces.forEach((piece, i) => variables[i].assign(variables[i].rank === 1 ? piece : tf.reshape(piece, variables[i].shape)));
    tf.dispose([next, ...pieces]);
  }

  /** The same step as `stepBucket` (without a mask) as one THFR_ADAM_STEP kernel: new moments and parameters, assigned. */
  private stepBucketKernel(bucket: Bucket, grads: tf.Tensor[]): void {
    const variables = bucket.indices.map((i) => this.variables[i]);
    const inputs: tf.NamedTensorMap = { m: bucket.m, v: bucket.v, accBeta1: this.accBeta1, accBeta2: this.accBeta2 };
    variables.forEach((variable, i) => {
      inputs[adamStepParamName(i)] = variable;
      inputs[adamStepGradName(i)] = grads[i];
    });
    const attrs: AdamStepAttrs = { count: variables.length, learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
    const [newM, newV, ...newParams] = tf.engine().runKernel(THFR_ADAM_STEP, inputs, attrs as never) as unknown as tf.Tensor[];
    bucket.m.assign(newM);
    bucket.v.assign(newV);
    newParams.forEach((param, i) => variables[i].assign(param));
    tf.dispose([newM, newV, ...newParams]);
  }

  /**
   * The state in tf.train.adam's format: `iter` (int32 scalar), then m and v per variable named
   * "<variable name>/m" and "/v", in the variables' order. The tensors are new: the caller disposes them.
   */
  async getWeights(): Promise<NamedOptimizerWeight[]> {
    this.assertLive();
    return tf.tidy(() => {
      const perVariable = (which: 'm' | 'v') =>
        this.buckets.flatMap((bucket) => {
          const pieces = bucket.indices.length === 1 ? [bucket[which]] : tf.split(bucket[which], bucket.sizes);
          return pieces.map((t, k) => {
            const variable = this.variables[bucket.indices[k]];
            return { name: `${variable.name}/${which}`, tensor: tf.reshape(t, variable.shape) };
          });
        });
      const all = [{ name: 'iter', tensor: tf.scalar(this.iterationCount, 'int32') }, ...perVariable('m'), ...perVariable('v')];
      all.forEach((w) => tf.keep(w.tensor));
      return all;
    });
  }

  /**
   * Restores a state saved by getWeights() (of this class or of tf.train.adam over the same variables in
   * the same order). Entries are matched by position; names are not checked (tfjs' variable names are
   * not stable across processes). The given tensors are not kept or disposed.
   */
  async setWeights(weights: readonly NamedOptimizerWeight[]): Promise<void> {
    this.assertLive();
    if (weights.length === 0) throw new Error("FusedAdam.setWeights: expected ['iter', m per variable, v per variable], got nothing");
    const iterations = (await weights[0].tensor.data())[0];
    if (!Number.isInteger(iterations) || iterations < 0) throw new Error(`FusedAdam.setWeights: '${weights[0].name}' holds ${iterations}, expected a step count`);
    const rest = weights.slice(1);
    const n = this.variables.length;
    if (rest.length !== 0 && rest.length !== 2 * n) {
      throw new Error(`FusedAdam.setWeights: ${rest.length} moment tensors for ${n} variables; expected ${2 * n} (m then v per variable) or none`);
    }
    rest.forEach((w, i) => {
      const variable = this.variables[i % n];
      if (w.tensor.size !== variable.size) {
        throw new Error(`FusedAdam.setWeights: '${w.name}' has shape [${w.tensor.shape}], expected [${variable.shape}] (${i < n ? 'm' : 'v'} of variable ${i % n}, '${variable.name}')`);
      }
    });
    tf.tidy(() => {
      for (const bucket of this.buckets) {
        for (const which of ['m', 'v'] as const) {
          const offset = which === 'm' ? 0 : n;
          if (rest.length === 0) {
            bucket[which].assign(tf.zeros([bucket.total]));
            continue;
          }
          const parts = bucket.indices.map((i) => tf.reshape(tf.cast(rest[offset + i].tensor, 'float32'), [-1]));
          bucket[which].assign(parts.length === 1 ? parts[0] : tf.concat(parts));
        }
      }
      // As tfjs: accBeta = beta^(iterations + 1).
      this.accBeta1.assign(tf.pow(this.beta1, iterations + 1));
      this.accBeta2.assign(tf.pow(this.beta2, iterations + 1));
    });
    this.iterationCount = iterations;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.buckets.flatMap((b) => [b.m, b.v]), this.accBeta1, this.accBeta2, ...this.masks.values()]);
    this.masks.clear();
  }

  private advance(): void {
    tf.tidy(() => {
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
    this.iterationCount += 1;
  }

  private maskFor(bucketIndex: number, grads: ReadonlyArray<tf.Tensor | undefined>): tf.Tensor {
    const bucket = this.buckets[bucketIndex];
    const key = `${bucketIndex}:${grads.map((g) => (g == null ? '0' : '1')).join('')}`;
    let mask = this.masks.get(key);
    if (!mask) {
      const values = new Uint8Array(bucket.total);
      let offset = 0;
      grads.forEach((g, i) => {
        if (g != null) values.fill(1, offset, offset + bucket.sizes[i]);
        offset += bucket.sizes[i];
      });
      mask = tf.keep(tf.tensor1d(values, 'bool'));
      this.masks.set(key, mask);
    }
    return mask;
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('FusedAdam: used after dispose()');
  }
}

/** 1-D view of a tensor (no Reshape kernel for one that is already 1-D). */
function flatten(t: tf.Tensor): tf.Tensor {
  return t.rank === 1 ? t : tf.reshape(t, [-1]);
}

function addThenDispose(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const out = tf.add(a, b);
  tf.dispose([a, b]);
  return out;
}

function whereThenDispose(mask: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const out = tf.where(mask, a, b);
  a.dispose();
  if (!(b instanceof tf.Variable)) b.dispose();
  return out;
}

/**
 * FusedAdam's default buckets: variables in order, a bucket closed before the variable that would take it past
 * `bucketSize` values (a larger variable gets a bucket of its own). Returns runs of variable indices.
 */
export function partitionIntoBuckets(sizes: readonly number[], bucketSize: number): number[][] {
  const buckets: number[][] = [];
  let current: number[] = [];
  let total = 0;
  sizes.forEach((size, i) => {
    if (total > 0 && total + size > bucketSize) {
      buckets.push(current);
      current = [];
      total = 0;
    }
    current.push(i);
    total += size;
  });
  if (current.length > 0) buckets.push(current);
  return buckets;
}

function checkPartition(buckets: number[][], count: number): void {
  const flat = buckets.flat();
  if (buckets.some((b) => b.length === 0) || flat.length !== count || flat.some((index, k) => index !== k)) {
    throw new Error(`FusedAdam: buckets must be non-empty consecutive runs of the ${count} variable indices in order, got ${JSON.stringify(buckets).slice(0, 120)}`);
  }
}
