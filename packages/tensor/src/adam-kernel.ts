/**
 * One Adam step over a run of variables as a single tfjs kernel, so that a backend can update a whole bucket of
 * parameters in a few GPU commands instead of ~15 element-wise kernels plus a concat and a split (one dispatch each on
 * WebGPU). This file is the contract shared by @thfr/nn's FusedAdam (the caller, which keeps its element-wise ops for
 * backends without the kernel) and @thfr/runtime-common (which implements it for webgpu, cpu and wasm).
 *
 * `THFR_ADAM_STEP`: inputs { m [T], v [T], accBeta1 [], accBeta2 [], param0 … param{n-1}, grad0 … grad{n-1} } with T
 * the parameters' total size and grad_i the size of param_i; attrs { count: n, learningRate, beta1, beta2, epsilon }
 * -> outputs [newM [T], newV [T], newParam0 (param0's shape), …]. The moments are the parameters' flattened in order.
 * tf.train.adam's arithmetic (tfjs-core 4.22), element by element, in float32:
 *   m' = m β₁ + g (1 - β₁),  v' = v β₂ + g² (1 - β₂),
 *   p' = (m' / (1 - accβ₁)) / (sqrt(v' / (1 - accβ₂)) + ε) · (-lr) + p,
 * with accβ = β^(t+1) before the step, 1 - β rounded to float32 once. The inputs are left as they are.
 */
export const THFR_ADAM_STEP = 'ThfrAdamStep';

export interface AdamStepAttrs {
  /** Number of parameters (and gradients) in the inputs. */
  count: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** The input names of the i-th parameter and gradient. */
export const adamStepParamName = (i: number): string => `param${i}`;
export const adamStepGradName = (i: number): string => `grad${i}`;

export interface AdamStepValues {
  newM: Float32Array;
  newV: Float32Array;
  /** One per parameter, its size. */
  newParams: Float32Array[];
}

/** The step's float32 constants, each rounded once as tfjs rounds them (shared by every implementation of the pass). */
export interface AdamStepConstants {
  beta1: number;
  beta2: number;
  oneMinusBeta1: number;
  oneMinusBeta2: number;
  negativeLearningRate: number;
  epsilon: number;
  /** 1 - accβ₁ and 1 - accβ₂: the bias corrections. */
  correction1: number;
  correction2: number;
}

export function adamStepConstants(accBeta1: number, accBeta2: number, attrs: Omit<AdamStepAttrs, 'count'>): AdamStepConstants {
  const f = Math.fround;
  return {
    beta1: f(attrs.beta1), beta2: f(attrs.beta2), oneMinusBeta1: f(1 - attrs.beta1), oneMinusBeta2: f(1 - attrs.beta2),
    negativeLearningRate: f(-attrs.learningRate), epsilon: f(attrs.epsilon), correction1: f(1 - accBeta1), correction2: f(1 - accBeta2),
  };
}

/**
 * THFR_ADAM_STEP's arithmetic on flat float32 values, written into `out`: each operation rounded to float32 as tfjs'
 * float32 kernels round it (an IEEE double result of +, -, ×, ÷ or √ of float32 operands, rounded once to float32,
 * is the float32 operation's result), so the values equal tf.train.adam's on the cpu and wasm backends bit for bit.
 * `accBeta1` and `accBeta2` are the float32 values of the accumulated β powers.
 */
export function adamStepValues(
  params: readonly Float32Array[], grads: readonly Float32Array[], m: Float32Array, v: Float32Array,
  accBeta1: number, accBeta2: number, attrs: Omit<AdamStepAttrs, 'count'>, out: AdamStepValues,
): AdamStepValues {
  const f = Math.fround;
  const { beta1, beta2, oneMinusBeta1, oneMinusBeta2, negativeLearningRate, epsilon, correction1, correction2 } = adamStepConstants(accBeta1, accBeta2, attrs);
  const { newM, newV, newParams } = out;
  let o = 0;
  params.forEach((param, i) => {
    const grad = grads[i];
    const next = newParams[i];
    for (let j = 0; j < param.length; j++, o++) {
      const g = grad[j];
      const mNew = f(f(m[o] * beta1) + f(g * oneMinusBeta1));
      const vNew = f(f(v[o] * beta2) + f(f(g * g) * oneMinusBeta2));
      newM[o] = mNew;
      newV[o] = vNew;
      const ratio = f(f(mNew / correction1) / f(f(Math.sqrt(f(vNew / correction2))) + epsilon));
      next[j] = f(f(ratio * negativeLearningRate) + param[j]);
    }
  });
  return out;
}
