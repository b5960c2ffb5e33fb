import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { loadResNetFromFile } from '../src/node.js';
import type { ResNetBackbone } from '../src/resnet.js';
import { readParityFixture } from './fixtures.js';

// Reference features from torchvision (fixtures/make_fixtures.py, float64 forward of the stored weights).
for (const backend of ['cpu', 'wasm'] as const) {
  for (const name of ['resnet18_narrow', 'wide_bottleneck_narrow']) {
    describe(`${name} on ${backend}`, () => {
      const fixture = readParityFixture(name);
      let backbone: ResNetBackbone;
      beforeAll(async () => {
        await tf.setBackend(backend);
        await tf.ready();
        backbone = await loadResNetFromFile(fixture.safetensorsPath, fixture.meta.spec, { levels: ['layer1', 'layer2', 'layer3', 'layer4'] });
      });
      afterAll(() => backbone.dispose());

      it('reports levels derived from the architecture', () => {
        const expansion = fixture.meta.spec.block === 'basic' ? 1 : 4;
        expect(backbone.levels).toEqual(['layer1', 'layer2', 'layer3', 'layer4'].map((level, i) => ({ name: level, stride: 4 * 2 ** i, channels: fixture.meta.spec.widths[i] * expansion })));
        expect(backbone.identity.weights).toMatch(/^sha256:[0-9a-f]{64}$/);
      });

      fixture.inputs.forEach((input, inputIndex) => {
        it(`matches torchvision on every tap for ${input.dtype} input [${input.shape.join(', ')}] within 1e-4`, () => {
          const images = tf.tensor4d(input.values, input.shape, input.dtype);
          const taps = backbone.extract(images);
          images.dispose();
          const expected = fixture.meta.outputs.filter((o) => o.input === inputIndex);
          expect(taps.length).toBe(4);
          taps.forEach((tap, i) => {
            const ref = expected[i];
            expect(tap.shape).toEqual(ref.shape);
            expectClose(tap.dataSync(), fixture.featureValues.subarray(ref.offset, ref.offset + ref.length), 1e-4, `${name} ${backend} ${ref.level} input ${inputIndex}`);
          });
          tf.dispose(taps);
        });
      });

      it('leaks no tensors over repeated extract calls', async () => {
        const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
        await expectNoLeak(() => tf.dispose(backbone.extract(images)), 3, `${name}.extract`);
        images.dispose();
      });
    });
  }
}
