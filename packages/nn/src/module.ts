import { tf } from '@thfr/tensor';
import type { Disposable } from '@thfr/tensor';

/**
 * Base class of trainable layers, with torch-like semantics: named parameters (trainable variables),
 * buffers (non-trainable state such as batch-norm running statistics), children, a train/eval mode
 * and flat state dicts keyed by dotted names ("gbn.block.conv1.weight").
 */
export abstract class Module implements Disposable {
  private readonly parameters = new Map<string, tf.Variable>();
  private readonly buffers = new Map<string, tf.Variable>();
  private readonly children = new Map<string, Module>();
  private disposed = false;
  training = true;

  protected registerParameter(name: string, initial: tf.Tensor): tf.Variable {
    const variable = tf.variable(initial, true);
    initial.dispose();
    this.parameters.set(name, variable);
    return variable;
  }

  protected registerBuffer(name: string, initial: tf.Tensor): tf.Variable {
    const variable = tf.variable(initial, false);
    initial.dispose();
    this.buffers.set(name, variable);
    return variable;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  /** Sets training mode on this module and every child (batch norm uses batch statistics when training). */
  train(training = true): this {
    this.training = training;
    for (const child of this.children.values()) child.train(training);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Trainable variables with their dotted names, in registration order. */
  namedParameters(prefix = ''): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    for (const [name, variable] of this.parameters) out.push([prefix + name, variable]);
    for (const [name, child] of this.children) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  namedBuffers(prefix = ''): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    for (const [name, variable] of this.buffers) out.push([prefix + name, variable]);
    for (const [name, child] of this.children) out.push(...child.namedBuffers(`${prefix}${name}.`));
    return out;
  }

  trainableVariables(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  parameterCount(): number {
    return this.namedParameters().reduce((sum, [, v]) => sum + v.size, 0);
  }

  /** Parameters and buffers by name: the state that save/load round-trips. */
  stateDict(): Map<string, tf.Variable> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies `state` into this module's variables. Missing, unexpected or mis-shaped entries are all
   * reported in one error that names each key and both shapes.
   */
  loadStateDict(state: Map<string, tf.Tensor> | Record<string, tf.Tensor>, what = 'state dict'): void {
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const problems: string[] = [];
    for (const [name, variable] of own) {
      const value = entries.get(name);
      if (!value) problems.push(`missing '${name}' (expected shape [${variable.shape}])`);
      else if (value.shape.join(',') !== variable.shape.join(',')) {
        problems.push(`'${name}' has shape [${value.shape}], expected [${variable.shape}]`);
      }
    }
    for (const name of entries.keys()) if (!own.has(name)) problems.push(`unexpected '${name}'`);
    if (problems.length > 0) {
      const shown = problems.slice(0, 12).join('; ');
      throw new Error(`${what} does not match the architecture: ${shown}${problems.length > 12 ? `; and ${problems.length - 12} more` : ''}`);
    }
    for (const [name, variable] of own) tf.tidy(() => variable.assign(tf.cast(entries.get(name)!, 'float32')));
  }

  dispose(): void {
    if (this.disposed) return;
    for (const v of this.parameters.values()) v.dispose();
    for (const v of this.buffers.values()) v.dispose();
    for (const child of this.children.values()) child.dispose();
    this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}
