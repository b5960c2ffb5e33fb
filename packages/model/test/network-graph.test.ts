import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { closeness, expectNoLeak } from '@thfr/tensor/testing';
import { runNetworkGraph } from '@thfr/nn';
import { ThfrNetwork, imagesToTensor, measureLevels, resolveConfig, type ThfrConfig } from '../src/index.js';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';

const backbone = tinyBackbone();
const tiny: Partial<ThfrConfig> = { imageSize: 64, decoderBlocks: [1, 2, 1], epochs: 1, batchSize: 2, seed: 5 };

beforeAll(async () => { await tf.setBackend('cpu'); });
afterAll(() => backbone.dispose());

describe('ThfrNetwork.toGraph', () => {
  it('runs to the same restored levels as forward() in eval mode, for every ablation', async () => {
    const levels = measureLevels(backbone, 64);
    const x = imagesToTensor(toyImages(2, 64, 3), 64);
    const features = backbone.extract(x);
    const variants: Array<Partial<ThfrConfig>> = [{}, { bottleneck: 'gbn' }, { bottleneck: 'lbn', localBottleneckBlocks: 2 }, { template: false }, { relation: false }, { templateReferences: 'per-stream' }];
    for (const variant of variants) {
      const net = new ThfrNetwork(levels, resolveConfig({ ...tiny, ...variant }));
      // Non-trivial running statistics, so the graph's batch norms are checked against forward()'s.
      tf.tidy(() => { for (let i = 0; i < 2; i++) net.forward(features, tf.randomNormal([2, net.codeSize, net.codeSize, net.templateChannels], 0, 1, 'float32', 40 + i) as tf.Tensor4D); });
      net.eval();
      const template = tf.randomNormal([2, net.codeSize, net.codeSize, net.templateChannels], 0, 1, 'float32', 9) as tf.Tensor4D;
      const graph = net.toGraph();
      expect(graph.inputs.map((i) => i.name)).toEqual([...levels.map((l) => l.name), ...(net.config.template ? ['template'] : [])]);
      const inputs: Record<string, tf.Tensor4D> = Object.fromEntries(levels.map((l, k) => [l.name, features[k]]));
      if (net.config.template) inputs.template = template;
      const expected = net.forward(features, template);
      const state = net.stateDict() as Map<string, tf.Tensor>;
      const got = runNetworkGraph(graph, state, inputs);
      expect(got.map((t) => t.shape)).toEqual(expected.map((t) => t.shape));
      got.forEach((t, k) => expect(closeness(t.dataSync(), expected[k].dataSync()).maxRel, `${JSON.stringify(variant)} level ${k + 1}`).toBeLessThan(1e-5));
      // Every weight of the state dict is read by the graph (nothing silently left out).
      const read = new Set(graph.nodes.flatMap((n) => Object.values(n.params ?? {})));
      expect([...state.keys()].filter((k) => !read.has(k))).toEqual([]);
      await expectNoLeak(() => tf.dispose(runNetworkGraph(graph, state, inputs)));
      tf.dispose([template, ...expected, ...got]);
      net.dispose();
    }
    tf.dispose([x, ...features]);
  });
});
