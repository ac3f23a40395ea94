// Keras's GlobalAveragePooling2D with its `keepdims` argument (MobileNet's and MobileNetV3's heads and
// squeeze-excite blocks keep the pooled map 4-D); tfjs's layer has no such argument.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type TfjsGlobalAveragePooling2D = ReturnType<typeof tfl.layers.globalAveragePooling2d>;

export type GlobalAveragePooling2DArgs = Parameters<typeof tfl.layers.globalAveragePooling2d>[0] & {
  /** Keep the spatial axes as size 1 (Keras's `keepdims`). Default false. */
  keepdims?: boolean;
};

/** tfjs-layers exports only the factory; the class is the constructor of any instance. */
const TfjsGlobalAveragePooling2D = tfl.layers.globalAveragePooling2d({ name: 'keras_applications_probe' })
  .constructor as (new (args: GlobalAveragePooling2DArgs) => TfjsGlobalAveragePooling2D) &
  Pick<typeof tf.serialization.Serializable, 'fromConfig'>;

export class GlobalAveragePooling2D extends TfjsGlobalAveragePooling2D {
  static className = 'GlobalAveragePooling2D';
  readonly keepdims: boolean;

  constructor(args: GlobalAveragePooling2DArgs = {}) {
    super(args);
    this.keepdims = args.keepdims ?? false;
  }

  private get spatialAxes(): [number, number] {
    return this.dataFormat === 'channelsFirst' ? [2, 3] : [1, 2];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    if (!this.keepdims) return super.computeOutputShape(inputShape);
    const shape = [...(inputShape as tfl.Shape)];
    for (const axis of this.spatialAxes) shape[axis] = 1;
    return shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    if (!this.keepdims) return super.call(inputs, kwargs);
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.mean(input, this.spatialAxes, true);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), keepdims: this.keepdims };
  }
}

tf.serialization.registerClass(GlobalAveragePooling2D);
