import { tf } from '@thfr/tensor';
import { Conv2d, Initializer, Module, type GraphRecorder } from '@thfr/nn';

/**
 * Bidirectional pairwise relation (paper eq. 2, Fig. 4): theta and phi are 1x1 convs embedding the
 * input stream and the template; A = theta(I)^T phi(T) is the m x m dot-product affinity over the
 * m = H*W positions. Position i's relation vector is [A[i, :], A^T[i, :]] (input->template and
 * template->input), so the relation feature has 2m channels and is laid out on the H x W grid.
 */
export class PairwiseRelation extends Module {
  readonly theta: Conv2d;
  readonly phi: Conv2d;

  constructor(inputChannels: number, templateChannels: number, readonly embedChannels: number, init: Initializer) {
    super();
    this.theta = this.registerModule('theta', new Conv2d(inputChannels, embedChannels, 1, init, { bias: true }));
    this.phi = this.registerModule('phi', new Conv2d(templateChannels, embedChannels, 1, init, { bias: true }));
  }

  /** input [B,H,W,Ci], template [B,H,W,Ct] -> relation [B,H,W,2HW]. */
  forward(input: tf.Tensor4D, template: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w] = input.shape;
      const m = h * w;
      const query = tf.reshape(this.theta.forward(input), [b, m, this.embedChannels]);
      const key = tf.reshape(this.phi.forward(template), [b, m, this.embedChannels]);
      // Scaled like attention logits so the relation's magnitude does not grow with the embedding width.
      const affinity = tf.div(tf.matMul(query, tf.transpose(key, [0, 2, 1])), Math.sqrt(this.embedChannels));
      const relation = tf.concat([affinity, tf.transpose(affinity, [0, 2, 1])], 2);
      return tf.reshape(relation, [b, h, w, 2 * m]);
    });
  }

  /** `size`: H = W of the input and template. */
  record(g: GraphRecorder, input: string, template: string, size: number): string {
    return g.node('pairwise_relation', [this.theta.record(g, input), this.phi.record(g, template)], { attrs: { scale: 1 / Math.sqrt(this.embedChannels), height: size, width: size } });
  }
}
