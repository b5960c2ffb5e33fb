import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { createRandomResNet, extractFeatures, RESNET_SPECS, type FeatureExtractor } from '@thfr/backbone';
import { OnnxAcceleratedBackbone } from '@thfr/backbone-onnx';
import { tinyBackbone } from '@thfr/backbone/testing';
import { withFeatureRuntime } from '../src/backbones.js';

const small = () => createRandomResNet({ ...RESNET_SPECS.resnet18, widths: [8, 16, 32, 64], stemWidth: 8 }, { seed: 5 });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('--features: where the frozen backbone runs', () => {
  it("'auto' and 'onnx' run a ResNet's async extraction on onnxruntime-node (same identity, features within 1e-4)", async () => {
    for (const features of ['auto', 'onnx']) {
      const tfjsOnly = small();
      const reference = small();
      const opened = await withFeatureRuntime(tfjsOnly, features);
      expect(opened).toBeInstanceOf(OnnxAcceleratedBackbone);
      expect(opened.identity).toEqual(reference.identity);
      const images = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const [a, b] = [await extractFeatures(opened, images), reference.extract(images)];
      for (let k = 0; k < a.length; k++) {
        const scale = (await tf.max(tf.abs(b[k])).data())[0];
        const diff = (await tf.max(tf.abs(tf.sub(a[k], b[k]))).data())[0];
        expect(diff / scale).toBeLessThan(1e-4);
      }
      tf.dispose([images, ...a, ...b]);
      opened.dispose();
      reference.dispose();
    }
  });

  it("'tfjs' keeps the tfjs network; a non-ResNet stays on tfjs under 'auto' and is refused under 'onnx'; a bad value is named", async () => {
    const resnet = small();
    expect(await withFeatureRuntime(resnet, 'tfjs')).toBe(resnet);
    resnet.dispose();
    const tiny: FeatureExtractor = tinyBackbone();
    expect(await withFeatureRuntime(tiny, 'auto')).toBe(tiny);
    await expect(withFeatureRuntime(tiny, 'onnx')).rejects.toThrow(/--features onnx: only the ResNet backbones are exported to ONNX; 'tiny-test' runs on tfjs/);
    await expect(withFeatureRuntime(small(), 'gpu')).rejects.toThrow(/--features takes auto, onnx, tfjs; got 'gpu'/);
  });
});
