import type { AnomalyDetector, DetectorMethod } from './contract.js';

/** The methods a program knows, by name; saved folders are matched to theirs by manifest. */
export class DetectorRegistry<TBackbone = unknown> {
  private readonly methods = new Map<string, DetectorMethod<TBackbone, AnomalyDetector>>();

  constructor(methods: Iterable<DetectorMethod<TBackbone, any>> = []) {
    for (const m of methods) this.register(m);
  }

  register(method: DetectorMethod<TBackbone, any>): this {
    if (!/^[a-z][a-z0-9-]*$/.test(method.name)) throw new RangeError(`detector method name '${method.name}' must be lower-case letters, digits and dashes`);
    if (this.methods.has(method.name)) throw new Error(`detector method '${method.name}' is already registered`);
    this.methods.set(method.name, method);
    return this;
  }

  get names(): string[] {
    return [...this.methods.keys()];
  }

  has(name: string): boolean {
    return this.methods.has(name);
  }

  /** The method called `name`, or an error listing the registered ones. */
  get(name: string): DetectorMethod<TBackbone, AnomalyDetector> {
    const method = this.methods.get(name);
    if (!method) throw new Error(`unknown method '${name}': choose one of ${this.names.join(', ')}`);
    return method;
  }

  /** The method that wrote a parsed manifest.json: its `method` field, else the first that recognizes it. */
  forManifest(manifest: Record<string, unknown>, source = 'manifest.json'): DetectorMethod<TBackbone, AnomalyDetector> {
    if (typeof manifest.method === 'string') {
      if (!this.methods.has(manifest.method)) throw new Error(`${source} was written by method '${manifest.method}', which this program does not know (it knows ${this.names.join(', ')})`);
      return this.get(manifest.method);
    }
    for (const method of this.methods.values()) if (method.recognizes(manifest)) return method;
    throw new Error(`${source} (format '${String(manifest.format)}') was not written by any known method (${this.names.join(', ')})`);
  }
}

/** A method's named preset (`preset`, default 'default'), or an error naming the method and listing its presets. */
export function presetOf<T>(presets: Record<string, T>, preset: string | undefined, method: string): T {
  const name = preset ?? 'default';
  if (!Object.hasOwn(presets, name)) throw new Error(`${method}: unknown preset '${name}': choose one of ${Object.keys(presets).join(', ')}`);
  return presets[name];
}
