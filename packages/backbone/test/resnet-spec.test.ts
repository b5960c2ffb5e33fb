import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RandomResNetWeights } from '../src/random-weights.js';
import { planResNet, RESNET_SPECS, type ResNetArchitecture } from '../src/resnet-spec.js';
import { validateResNetWeights, type NamedFloatArrays } from '../src/resnet-weights.js';
import { FIXTURES } from './fixtures.js';

// state_dict names and shapes of torchvision 0.14's full-size models (fixtures/make_fixtures.py).
const torchvision = JSON.parse(readFileSync(join(FIXTURES, 'torchvision_shapes.json'), 'utf8')) as Record<string, Array<[string, number[]]>>;

/** A shapes-only view of a checkpoint (the validator never reads values). */
function shapesOnly(entries: Array<[string, number[]]>, source: string): NamedFloatArrays {
  const map = new Map(entries.map(([k, s]) => [k, { dtype: k.endsWith('num_batches_tracked') ? 'I64' : 'F32', shape: s }]));
  return { source, keys: () => [...map.keys()], info: (k) => map.get(k), readFloat32: () => new Float32Array() };
}

describe('ResNet plans match torchvision', () => {
  // resnet50_v1 is the Keras/Caffe layout, not a torchvision model: checked against its own fixture below and in
  // resnet50-imagenet.test.ts (parity with an independent PyTorch ResNet-50 v1).
  for (const arch of (Object.keys(RESNET_SPECS) as ResNetArchitecture[]).filter((a) => a !== 'resnet50_v1')) {
    it(`${arch}: every conv/BN parameter name and shape`, () => {
      const expected = torchvision[arch].filter(([k]) => !k.startsWith('fc.') && !k.endsWith('num_batches_tracked'));
      const ours = new RandomResNetWeights(RESNET_SPECS[arch]);
      expect(ours.keys().sort()).toEqual(expected.map(([k]) => k).sort());
      for (const [key, shape] of expected) expect(ours.info(key)?.shape, key).toEqual(shape);
      // A real torchvision / timm checkpoint layout (with fc and num_batches_tracked) validates for all levels.
      expect(validateResNetWeights(shapesOnly(torchvision[arch], arch), planResNet(RESNET_SPECS[arch]), 3)).toBe('');
    });
  }

  it('resnet50_v1: torchvision resnet50 names and shapes plus a bias per conv, stride on the first 1x1 conv', () => {
    const v15 = new RandomResNetWeights(RESNET_SPECS.resnet50);
    const v1 = new RandomResNetWeights(RESNET_SPECS.resnet50_v1);
    const convs = v15.keys().filter((k) => /(conv\d|downsample\.0)\.weight$/.test(k) || k === 'conv1.weight');
    expect(v1.keys().sort()).toEqual([...v15.keys(), ...convs.map((k) => k.replace(/\.weight$/, '.bias'))].sort());
    for (const key of v15.keys()) expect(v1.info(key)?.shape, key).toEqual(v15.info(key)?.shape);
    const block = planResNet(RESNET_SPECS.resnet50_v1).stages[1].blocks[0];
    expect(block.convs.map((c) => c.stride)).toEqual([2, 1, 1]);
    expect(planResNet(RESNET_SPECS.resnet50).stages[1].blocks[0].convs.map((c) => c.stride)).toEqual([1, 2, 1]);
    expect(block.downsample?.stride).toBe(2);
  });

  it('reports strides and channels of the standard nets', () => {
    const wide = planResNet(RESNET_SPECS.wide_resnet50_2);
    expect(wide.stages.map((s) => [s.name, s.stride, s.channels])).toEqual([
      ['layer1', 4, 256],
      ['layer2', 8, 512],
      ['layer3', 16, 1024],
      ['layer4', 32, 2048],
    ]);
    expect(planResNet(RESNET_SPECS.resnet18).stages.map((s) => s.channels)).toEqual([64, 128, 256, 512]);
  });
});
