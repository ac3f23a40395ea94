// The one Keras `Lambda` the applications use: ResNeXt's (keras_applications 1.0.8) `*_2_reduce`,
// `lambda x: sum([x[:, :, :, :, i] for i in range(c)])`, which sums a 6-D tensor (batch included) over axis 4
// to finish a grouped convolution written as DepthwiseConv2D + Reshape. tfjs has no Lambda layer (and could
// not serialise Python code), so this layer does that one kind of sum and reports Keras's class, `Lambda`.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { formatValue } from '../arguments';
import { ArgumentError } from '../errors';

export interface LambdaSumArgs {
  /** The axis summed over, counted with the batch axis as 0 (as Python's `x[:, :, :, :, i]` indexes axis 4). */
  axis: number;
  name?: string;
}

export class LambdaSum extends tfl.layers.Layer {
  static className = 'Lambda';
  readonly axis: number;

  constructor(args: LambdaSumArgs) {
    super({ name: args.name });
    if (!Number.isInteger(args.axis) || args.axis < 1) {
      throw new ArgumentError(`LambdaSum '${this.name}': \`axis\` must be an integer >= 1 (the batch axis is 0). Received: axis=${formatValue(args.axis)}`);
    }
    this.axis = args.axis;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    const shape = inputShape as tfl.Shape;
    if (this.axis >= shape.length) {
      throw new ArgumentError(
        `LambdaSum '${this.name}': \`axis\` must be less than the input's rank. Received: axis=${this.axis} for input shape ${JSON.stringify(shape)} (rank ${shape.length})`,
      );
    }
    return shape.filter((_, i) => i !== this.axis);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.sum(Array.isArray(inputs) ? inputs[0]! : inputs, this.axis);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis };
  }
}

tf.serialization.registerClass(LambdaSum);
