import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { loadResNetFromSafetensors } from '../src/resnet-loaders.js';
import { loadResNetFromFile } from '../src/node.js';
import { parseSafetensors } from '../src/safetensors.js';
import { WeightMismatchError } from '../src/resnet-weights.js';
import { readParityFixture } from './fixtures.js';
import { makeSafetensors } from './safetensors-writer.js';

const fixture = readParityFixture('resnet18_narrow');
const spec = fixture.meta.spec;

/** Re-encodes the fixture with `edit` applied to its tensor table (raw bytes kept as stored). */
function edited(edit: (t: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }>) => void): Uint8Array {
  const file = parseSafetensors(fixture.safetensors);
  const dataStart = 8 + Number(new DataView(fixture.safetensors.buffer, fixture.safetensors.byteOffset).getBigUint64(0, true));
  const tensors: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }> = {};
  for (const [name, e] of file.entries) tensors[name] = { dtype: e.dtype, shape: e.shape, bytes: fixture.safetensors.subarray(dataStart + e.begin, dataStart + e.end) };
  edit(tensors);
  return makeSafetensors(tensors);
}

describe('ResNet loader errors', () => {
  it('lists missing, extra and mis-shaped keys in ONE error naming the keys and both shapes', async () => {
    const bytes = edited((t) => {
      delete t['layer1.0.bn1.running_var'];
      t['layer2.0.conv1.weight'] = { ...t['layer2.0.conv1.weight'], shape: [16, 8, 1, 9] };
      t['head.weight'] = { dtype: 'F32', shape: [1], bytes: new Uint8Array(4) };
      t['fc.weight'] = { dtype: 'F32', shape: [1], bytes: new Uint8Array(4) };
    });
    const error = await loadResNetFromSafetensors(bytes, spec, { source: 'bad.safetensors' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WeightMismatchError);
    const message = (error as Error).message;
    expect(message).toMatch(/^bad\.safetensors: 3 problems/);
    expect(message).toContain("missing key 'layer1.0.bn1.running_var' (expected shape [8])");
    expect(message).toContain("'layer2.0.conv1.weight': expected shape [16, 8, 3, 3], got [16, 8, 1, 9]");
    expect(message).toContain("unexpected key 'head.weight'");
    expect(message).not.toContain('fc.weight');
  });

  it('rejects an architecture that does not match the file (e.g. Bottleneck weights for a BasicBlock net)', async () => {
    await expect(loadResNetFromSafetensors(fixture.safetensors, { ...spec, block: 'bottleneck' })).rejects.toThrow(/problems with the ResNet weights:[\s\S]*'layer1\.0\.conv1\.weight': expected shape \[8, 8, 1, 1\], got \[8, 8, 3, 3\][\s\S]*and \d+ more/);
  });

  it('rejects integer weights', async () => {
    const bytes = edited((t) => {
      const w = t['bn1.weight'];
      t['bn1.weight'] = { dtype: 'I16', shape: w.shape, bytes: w.bytes };
    });
    await expect(loadResNetFromSafetensors(bytes, spec)).rejects.toThrow(/'bn1\.weight': dtype I16, expected a float dtype/);
  });

  it('rejects a truncated file naming the file', async () => {
    await expect(loadResNetFromSafetensors(fixture.safetensors.subarray(0, 100_000), spec, { source: 'cut.safetensors' })).rejects.toThrow(/cut\.safetensors: .*truncated file/);
  });

  it('names a missing file', async () => {
    await expect(loadResNetFromFile('/nonexistent/w.safetensors', 'resnet18')).rejects.toThrow(/cannot read '\/nonexistent\/w\.safetensors'/);
  });

  it('accepts layer4 being absent when layer4 is not requested, and a "module." prefix', async () => {
    await tf.setBackend('cpu');
    const bytes = edited((t) => {
      for (const key of Object.keys(t)) {
        const value = t[key];
        delete t[key];
        if (!key.startsWith('layer4.')) t[`module.${key}`] = value;
      }
    });
    const backbone = await loadResNetFromSafetensors(bytes, spec, { levels: ['layer1', 'layer3'] });
    expect(backbone.levels.map((l) => [l.name, l.stride, l.channels])).toEqual([
      ['layer1', 4, 8],
      ['layer3', 16, 32],
    ]);
    backbone.dispose();
    await expect(loadResNetFromSafetensors(bytes, spec, { levels: ['layer4'] })).rejects.toThrow(/missing key 'module\.layer4\.0\.conv1\.weight'/);
  });

  it('rejects an unknown architecture name, level, and bad images', async () => {
    await expect(loadResNetFromSafetensors(fixture.safetensors, 'resnet19' as never)).rejects.toThrow(/Unknown ResNet architecture 'resnet19' \(expected one of: resnet18, resnet34/);
    await expect(loadResNetFromSafetensors(fixture.safetensors, spec, { levels: ['layer5' as never] })).rejects.toThrow(/unknown level 'layer5'/);
    const backbone = await loadResNetFromSafetensors(fixture.safetensors, spec);
    const gray = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
    expect(() => backbone.extract(gray)).toThrow(/expected RGB images \[B, H, W, 3\], got shape \[1, 32, 32, 1\]/);
    gray.dispose();
    backbone.dispose();
    const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    expect(() => backbone.extract(images)).toThrow(/after dispose/);
    images.dispose();
  });
});
