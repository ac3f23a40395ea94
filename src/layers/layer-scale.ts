// Keras's LayerScale (keras/src/applications/convnext.py): multiplies each channel of a ConvNeXt block's
// output by a learned factor, `x * gamma`, gamma starting at `initValues`.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { WeightInitializers } from '../weights/preload';

export interface LayerScaleArgs {
  initValues: number;
  projectionDim: number;
  /**
   * The weight's name. Keras 3 leaves it unnamed, so a fresh process calls them `variable`, `variable_1`, …
   * in build order; the builder passes that name so the layer table and by-name loading agree with Keras.
   * An object because tfjs's deserialisation rewrites every string in a config except under a `name` key.
   */
  weight?: { name: string };
  name?: string;
  /** The weights file's value of the weight, by its name. */
  weightInitializers?: WeightInitializers;
}

export class LayerScale extends tfl.layers.Layer {
  static className = 'LayerScale';
  readonly initValues: number;
  readonly projectionDim: number;
  readonly weightName: string;
  private readonly initializer: WeightInitializers[string];
  private gamma?: tfl.LayerVariable;

  constructor(args: LayerScaleArgs) {
    super({ name: args.name });
    this.initValues = args.initValues;
    this.projectionDim = args.projectionDim;
    this.weightName = args.weight?.name ?? 'variable';
    this.initializer = args.weightInitializers?.[this.weightName] ?? tfl.initializers.constant({ value: this.initValues });
  }

  override build(): void {
    this.gamma = this.addWeight(this.weightName, [this.projectionDim], 'float32', this.initializer, undefined, true);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, this.gamma!.read()));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), initValues: this.initValues, projectionDim: this.projectionDim, weight: { name: this.weightName } };
  }
}

tf.serialization.registerClass(LayerScale);
