// Keras 3's CustomScaleLayer (keras/src/applications/inception_resnet_v2.py): the scaled residual
// `inputs[0] + inputs[1] * scale` of an Inception-ResNet block, as a weightless layer.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export interface CustomScaleLayerArgs {
  /** The factor the residual branch (the second input) is multiplied by. */
  scale: number;
  name?: string;
}

export class CustomScaleLayer extends tfl.layers.Layer {
  static className = 'CustomScaleLayer';
  readonly scale: number;

  constructor(args: CustomScaleLayerArgs) {
    super({ name: args.name });
    this.scale = args.scale;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (inputShape as tfl.Shape[])[0]!;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [shortcut, residual] = inputs as tf.Tensor[];
    return tf.tidy(() => tf.add(shortcut!, tf.mul(residual!, this.scale)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}

tf.serialization.registerClass(CustomScaleLayer);
