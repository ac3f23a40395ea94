// Keras's rule for a frozen BatchNormalization, given to tfjs's own layer. Keras (TF2 and later) normalizes
// with the moving statistics and leaves them untouched when the layer is not trainable, even with
// `training: true` (`if training and self.trainable` in keras/src/layers/normalization/batch_normalization.py),
// so a frozen base fine-tunes as it was pretrained. tfjs uses the batch's statistics and updates the moving
// averages whenever `training` is true, trainable or not.
//
// tfjs also reads gamma and beta unconditionally in training, so a layer built with `scale: false` (Inception's)
// cannot train at all; Keras leaves out the parameter it does not have. The patch gives that case its own path.
//
// A patch of tfjs's class rather than a registered subclass: every builder, every user's
// `tf.layers.batchNormalization()` and every model tfjs deserializes create tfjs's class, and a subclass
// would reach only some of them (behaviour would then change on a save and reload). The patch only wraps
// `call` and `getConfig`; an unfrozen layer runs tfjs's code unchanged.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BatchNormalization } from '@tensorflow/tfjs-layers/dist/layers/normalization';

/**
 * tfjs-layers exports its BatchNormalization class only as a type; the runtime class is the one it registers for
 * deserialization. Taken from the registry, not from an instance: building one would use up an automatic layer
 * name, so that every BatchNormalization made after this import would be numbered one further than in tfjs.
 */
const TfjsBatchNormalization = tf.serialization.SerializationMap.getMap().classNameMap['BatchNormalization']![0] as unknown as typeof BatchNormalization;

/** Its fields, private in tfjs's typings; gamma and beta are absent with `scale: false` / `center: false`. */
interface BatchNormalizationFields {
  gamma?: tfl.LayerVariable;
  beta?: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
  axis: number;
  momentum: number;
  epsilon: number;
}

/**
 * Whether Keras would run this BatchNormalization in inference mode during training: `layer.trainable` is
 * false, or its gamma and beta are not trainable. tfjs's `model.trainable = false` marks only the weights of
 * the model's layers, not the layers, so both count.
 */
export function isFrozenBatchNormalization(layer: tfl.layers.Layer): boolean {
  if (!(layer instanceof TfjsBatchNormalization)) return false;
  if (!layer.trainable) return true;
  const { gamma, beta } = layer as unknown as BatchNormalizationFields;
  const parameters = [gamma, beta].filter((weight) => weight !== undefined);
  return parameters.length > 0 && parameters.every((weight) => !weight.trainable);
}

/** Training with the batch's statistics when gamma or beta is absent: tfjs's computation without them. */
function trainWithoutParameter(layer: BatchNormalizationFields, input: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const axis = layer.axis < 0 ? layer.axis + input.rank : layer.axis;
    const reductionAxes = input.shape.map((_, i) => i).filter((i) => i !== axis);
    const { mean, variance } = tf.moments(input, reductionAxes, true);
    const output = tf.batchNorm(input, mean, variance, layer.beta?.read(), layer.gamma?.read(), layer.epsilon);
    for (const [moving, batch] of [[layer.movingMean, mean], [layer.movingVariance, variance]] as const) {
      const value = moving.read();
      moving.write(tf.sub(value, tf.mul(tf.sub(value, tf.reshape(batch, value.shape)), 1 - layer.momentum)));
    }
    return output;
  });
}

type Call = (this: BatchNormalization, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
type GetConfig = (this: BatchNormalization) => tf.serialization.ConfigDict;

const INSTALLED = Symbol.for('keras-applications.frozenBatchNormalization');

function install(): void {
  const prototype = TfjsBatchNormalization.prototype as unknown as Record<PropertyKey, unknown> & { call: Call; getConfig: GetConfig };
  // The CommonJS and ESM builds of this package may both load into one process with one tfjs.
  if (prototype[INSTALLED]) return;
  prototype[INSTALLED] = true;

  const tfjsCall = prototype.call;
  prototype.call = function (inputs, kwargs) {
    if (!kwargs?.['training']) return tfjsCall.call(this, inputs, kwargs);
    if (isFrozenBatchNormalization(this)) return tfjsCall.call(this, inputs, { ...kwargs, training: false });
    const fields = this as unknown as BatchNormalizationFields;
    if (fields.gamma && fields.beta) return tfjsCall.call(this, inputs, kwargs);
    return trainWithoutParameter(fields, Array.isArray(inputs) ? inputs[0]! : inputs);
  };

  // Saved as not trainable when frozen through its weights too, so the rule holds after a reload.
  const tfjsGetConfig = prototype.getConfig;
  prototype.getConfig = function () {
    const config = tfjsGetConfig.call(this);
    return isFrozenBatchNormalization(this) ? { ...config, trainable: false } : config;
  };
}

install();
