// Keras's Conv2D with its `groups` argument, which tfjs's Conv2D lacks: the input channels split into
// `groups` parts, each convolved with its own slice of the filters (ConvNeXt's 7×7 depthwise convolution is
// `groups = channels`). The kernel is kept in Keras's layout, (kh, kw, inputChannels / groups, filters), so
// Keras's files load as they are. It registers as `Conv2D` and extends tfjs's Conv2D, which it replaces in
// deserialisation: with `groups: 1` (every ordinary Conv2D) it is tfjs's layer unchanged.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Conv2D, ConvLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/convolutional';
import { formatValue } from '../arguments';
import { ArgumentError } from '../errors';

/** tfjs-layers exports its Conv2D class only as a type; the runtime class is that of any conv2d layer. */
const TfjsConv2D = tfl.layers.conv2d({ filters: 1, kernelSize: 1 }).constructor as typeof Conv2D;

export interface GroupedConv2DArgs extends ConvLayerArgs {
  /** Keras's `groups`: a divisor of both the input channels and `filters`. Default 1. */
  groups?: number;
}

export class GroupedConv2D extends TfjsConv2D {
  static override className = 'Conv2D';
  readonly groups: number;

  constructor(args: GroupedConv2DArgs) {
    super(args);
    this.groups = args.groups ?? 1;
    if (!Number.isInteger(this.groups) || this.groups < 1) {
      throw new ArgumentError(`Conv2D '${this.name}': \`groups\` must be an integer >= 1. Received: groups=${formatValue(args.groups)}`);
    }
    if (this.filters % this.groups !== 0) {
      throw new ArgumentError(
        `Conv2D '${this.name}': the number of filters must be evenly divisible by the number of groups. ` +
          `Received: groups=${this.groups}, filters=${this.filters}`,
      );
    }
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    if (this.groups === 1) return super.build(inputShape);
    const shape = inputShape as tfl.Shape;
    const inputChannels = shape[shape.length - 1];
    if (this.dataFormat !== 'channelsLast' || inputChannels == null || inputChannels % this.groups !== 0) {
      throw new ArgumentError(
        `Conv2D '${this.name}': a grouped convolution needs channels-last input whose channels are evenly divisible by the number of groups. ` +
          `Received: groups=${this.groups}, input shape ${JSON.stringify(shape)}, dataFormat=${this.dataFormat}`,
      );
    }
    const kernelShape = [...this.kernelSize, inputChannels / this.groups, this.filters];
    this.kernel = this.addWeight('kernel', kernelShape, 'float32', this.kernelInitializer, this.kernelRegularizer, true, this.kernelConstraint);
    if (this.useBias) {
      this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer, this.biasRegularizer, true, this.biasConstraint);
    }
    this.inputSpec = [{ ndim: 4, axes: { 3: inputChannels } }];
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    if (this.groups === 1) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      const kernel = this.kernel.read() as tf.Tensor4D;
      const [kh, kw, groupChannels, filters] = kernel.shape;
      const strides = this.strides as [number, number];
      const dilations = this.dilationRate as [number, number];
      const padding = this.padding as 'same' | 'valid';
      let y: tf.Tensor4D;
      if (groupChannels === 1) {
        // One input channel per group: a depthwise convolution. Keras's output channel g·m + j (group g) is
        // tfjs's channel g·m + j too, so (kh, kw, 1, C·m) is (kh, kw, C, m) without moving any value.
        const depthwise = tf.reshape(kernel, [kh, kw, this.groups, filters / this.groups]) as tf.Tensor4D;
        y = tf.depthwiseConv2d(x, depthwise, strides, padding, 'NHWC', dilations);
      } else {
        const xs = tf.split(x, this.groups, 3) as tf.Tensor4D[];
        const kernels = tf.split(kernel, this.groups, 3) as tf.Tensor4D[];
        y = tf.concat(xs.map((part, g) => tf.conv2d(part, kernels[g]!, strides, padding, 'NHWC', dilations)), 3);
      }
      if (this.bias) y = tf.add(y, this.bias.read());
      return this.activation.apply(y);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups };
  }
}

tf.serialization.registerClass(GroupedConv2D);
