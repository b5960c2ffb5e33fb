/**
 * Edits of a Keras/tfjs-layers model topology (JSON) before the model is built: cut it after the taps, make the
 * input size free, and switch BatchNorm `scale: false` to true (tfjs 4.22's BN gradient needs gamma).
 */
type KerasLayer = { name: string; class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[] };
type Topology = { model_config?: { class_name: string; config: { layers: KerasLayer[]; input_layers: unknown[]; output_layers: unknown[] } } } & Record<string, unknown>;

function modelConfig(topology: unknown) {
  const config = (topology as Topology)?.model_config?.config;
  if (!config || !Array.isArray(config.layers)) throw new Error('Keras topology: expected model_config.config.layers (a functional Model)');
  return config;
}

/** The names of the layers that feed `layer` (functional API inbound_nodes: [[[name, node, tensor, kwargs], ...]]). */
function inboundNames(layer: KerasLayer): string[] {
  const names: string[] = [];
  for (const node of layer.inbound_nodes as unknown[][]) for (const edge of node as unknown[][]) names.push(edge[0] as string);
  return names;
}

export interface PatchedTopology {
  topology: Topology;
  /** Layer names kept (ancestors of the taps). */
  kept: Set<string>;
  /** BatchNorm layers whose scale was switched on: they need a gamma of ones. */
  scaleAdded: string[];
}

/** Returns a patched deep copy of `topology`; `inputSize` null leaves height and width free. */
export function patchTopology(topology: unknown, taps: string[], inputSize: [number | null, number | null] = [null, null]): PatchedTopology {
  const copy = JSON.parse(JSON.stringify(topology)) as Topology;
  const config = modelConfig(copy);
  const byName = new Map(config.layers.map((l) => [l.name, l]));
  const missing = taps.filter((t) => !byName.has(t));
  if (missing.length > 0) throw new Error(`Keras topology: no layer named ${missing.join(', ')}`);
  const kept = new Set<string>();
  const stack = [...taps];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (kept.has(name)) continue;
    kept.add(name);
    stack.push(...inboundNames(byName.get(name)!));
  }
  config.layers = config.layers.filter((l) => kept.has(l.name));
  config.output_layers = taps.map((t) => [t, 0, 0]);
  const scaleAdded: string[] = [];
  for (const layer of config.layers) {
    if (layer.class_name === 'InputLayer') {
      const shape = layer.config.batch_input_shape as Array<number | null>;
      layer.config.batch_input_shape = [null, inputSize[0], inputSize[1], shape[3]];
    }
    if (layer.class_name === 'BatchNormalization' && layer.config.scale === false) {
      layer.config.scale = true;
      scaleAdded.push(layer.name);
    }
  }
  return { topology: copy, kept, scaleAdded };
}
