// Keras's `hard_swish` activation, x · relu6(x + 3) / 6, for tfjs's Activation layer: Keras 3's MobileNetV3
// writes `Activation("hard_swish")`, and tfjs has no such activation. Registered as `hardSwish`, which tfjs
// writes as `hard_swish` in a saved model, as Keras does. (tfjs's `hardSigmoid` is the older 0.2x + 0.5.)
import * as tf from '@tensorflow/tfjs-core';

export class HardSwish extends tf.serialization.Serializable {
  static className = 'hardSwish';

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}

tf.serialization.registerClass(HardSwish);

/** The identifier to pass as `activation` to `tfl.layers.activation`. */
export const HARD_SWISH = HardSwish.className;
