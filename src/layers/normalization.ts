// Keras's Normalization preprocessing layer (keras/src/layers/preprocessing/normalization.py) at inference:
// `(x - mean) / max(sqrt(variance), epsilon)` per feature along one axis, with the statistics either given
// as constants (ConvNeXt's PreStem: no weights) or held as the weights `mean`, `variance` and `count`
// (EfficientNet's stem: loaded from the weights file, `count` kept only because Keras saves it).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { formatValue } from '../arguments';
import { ArgumentError } from '../errors';
import type { WeightInitializers } from '../weights/preload';

/** Keras's `backend.epsilon()`. */
const EPSILON = 1e-7;

export interface NormalizationArgs {
  /** The axis that keeps its own statistics (Keras's `axis`, a single one here); default the last. */
  axis?: number;
  /** Constant statistics; both or neither. Without them the layer holds them as weights. */
  mean?: number[];
  variance?: number[];
  name?: string;
  /** The weights file's values, by Keras weight name (`mean`, `variance`, `count`). */
  weightInitializers?: WeightInitializers;
}

export class Normalization extends tfl.layers.Layer {
  static className = 'Normalization';
  readonly axis: number;
  readonly mean?: number[];
  readonly variance?: number[];
  private readonly weightInitializers: WeightInitializers;
  private meanWeight?: tfl.LayerVariable;
  private varianceWeight?: tfl.LayerVariable;

  constructor(args: NormalizationArgs = {}) {
    super({ name: args.name });
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis)) {
      throw new ArgumentError(`Normalization '${this.name}': \`axis\` must be an integer. Received: axis=${formatValue(args.axis)}`);
    }
    if ((args.mean === undefined) !== (args.variance === undefined)) {
      throw new ArgumentError(
        `Normalization '${this.name}': when setting values directly, both \`mean\` and \`variance\` must be set. ` +
          `Received: mean=${formatValue(args.mean)} and variance=${formatValue(args.variance)}`,
      );
    }
    if (args.mean && args.mean.length !== args.variance!.length) {
      throw new ArgumentError(
        `Normalization '${this.name}': \`mean\` and \`variance\` must have the same length. Received: ${args.mean.length} and ${args.variance!.length}`,
      );
    }
    this.mean = args.mean;
    this.variance = args.variance;
    this.weightInitializers = args.weightInitializers ?? {};
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as tfl.Shape;
    const axis = this.axis < 0 ? this.axis + shape.length : this.axis;
    const features = shape[axis];
    if (axis < 0 || axis >= shape.length || features == null) {
      throw new ArgumentError(
        `Normalization '${this.name}': the input needs a known size along axis ${this.axis}. Received input shape ${JSON.stringify(shape)}`,
      );
    }
    if (this.mean !== undefined && this.mean.length !== features) {
      throw new ArgumentError(
        `Normalization '${this.name}': \`mean\` and \`variance\` must have one value per feature along axis ${this.axis} (${features}). ` +
          `Received: ${this.mean.length} values for input shape ${JSON.stringify(shape)}`,
      );
    }
    if (this.mean === undefined) {
      const init = (weight: string, fallback: WeightInitializers[string]) => this.weightInitializers[weight] ?? fallback;
      this.meanWeight = this.addWeight('mean', [features], 'float32', init('mean', tfl.initializers.zeros()), undefined, false);
      this.varianceWeight = this.addWeight('variance', [features], 'float32', init('variance', tfl.initializers.ones()), undefined, false);
      // Keras keeps an integer `count` for old saved models; float32 here, as every loaded weight is.
      this.addWeight('count', [], 'float32', init('count', tfl.initializers.zeros()), undefined, false);
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const axis = this.axis < 0 ? this.axis + x.rank : this.axis;
      const broadcastShape = x.shape.map((size, i) => (i === axis ? size : 1));
      const mean = this.meanWeight ? this.meanWeight.read() : tf.tensor1d(this.mean!);
      const variance = this.varianceWeight ? this.varianceWeight.read() : tf.tensor1d(this.variance!);
      const std = tf.maximum(tf.sqrt(variance), EPSILON);
      return tf.div(tf.sub(x, tf.reshape(mean, broadcastShape)), tf.reshape(std, broadcastShape));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...super.getConfig(), axis: this.axis };
    if (this.mean !== undefined) Object.assign(config, { mean: this.mean, variance: this.variance! });
    return config;
  }
}

tf.serialization.registerClass(Normalization);
