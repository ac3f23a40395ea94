// Freezing and unfreezing layers for transfer learning, as Keras does it: `layer.trainable` set on each layer
// (nested models included, all the way down), so the state shows in every layer, is saved by `toJSON`/`save`,
// and a frozen BatchNormalization runs in inference mode (../layers/batch-normalization.ts). tfjs's own
// `model.trainable = false` marks only the weights and is not saved.
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkOptionNames, formatValue, validateBoolean } from '../arguments';
import { ArgumentError } from '../errors';
import '../layers/batch-normalization';
import '../backend/wasm-training-kernels';

/** Which of `model.layers` to change, by name, both ends included; without either end, from the first / to the last. */
export interface LayerRange {
  /** The first layer to change. */
  from?: string;
  /** The last layer to change. */
  upTo?: string;
}

export interface UnfreezeOptions extends LayerRange {
  /**
   * Freeze the BatchNormalization layers of the range instead, as Keras's fine-tuning examples do: the
   * statistics of small batches would overwrite the pretrained moving averages. Default false.
   */
  keepBatchNormalizationFrozen?: boolean;
}

/** The layers of a model nested as a layer; none for any other layer. */
function sublayers(layer: tfl.layers.Layer): tfl.layers.Layer[] {
  return (layer as Partial<tfl.LayersModel>).layers ?? [];
}

/** Sets `layer` and, in a nested model, every layer inside it to what `trainable` says for each. */
function setTrainable(layer: tfl.layers.Layer, trainable: (layer: tfl.layers.Layer) => boolean): void {
  layer.trainable = trainable(layer);
  for (const inner of sublayers(layer)) setTrainable(inner, trainable);
}

function layerIndex(model: tfl.LayersModel, option: keyof LayerRange, name: unknown): number {
  const index = model.layers.findIndex((layer) => layer.name === name);
  if (typeof name !== 'string' || index < 0) {
    throw new ArgumentError(
      `\`${option}\` must be the name of one of the layers of model '${model.name}' ` +
        `(${model.layers[0]?.name} … ${model.layers.at(-1)?.name}). Received: ${option}=${formatValue(name)}`,
    );
  }
  return index;
}

function rangeLayers(model: tfl.LayersModel, { from, upTo }: LayerRange): tfl.layers.Layer[] {
  const first = from === undefined ? 0 : layerIndex(model, 'from', from);
  const last = upTo === undefined ? model.layers.length - 1 : layerIndex(model, 'upTo', upTo);
  if (first > last) {
    throw new ArgumentError(
      `\`from\` must not come after \`upTo\` in the model's layers. Received: from=${formatValue(from)} (layer ${first}), ` +
        `upTo=${formatValue(upTo)} (layer ${last})`,
    );
  }
  return model.layers.slice(first, last + 1);
}

function setRangeTrainable(model: tfl.LayersModel, range: LayerRange, trainable: (layer: tfl.layers.Layer) => boolean): tfl.LayersModel {
  const layers = rangeLayers(model, range);
  // A model frozen whole with tfjs's `model.trainable = false` becomes frozen layer by layer first, so that
  // the layers outside the range keep that state once the model itself is trainable again.
  if (!model.trainable) {
    model.trainable = true;
    for (const layer of model.layers) setTrainable(layer, () => false);
  }
  for (const layer of layers) setTrainable(layer, trainable);
  return model;
}

/**
 * Freezes `model`'s layers, all of them or those of `range` (Keras's `layer.trainable = False` for each):
 * their weights stop training and their BatchNormalization layers run in inference mode.
 * As in Keras, compile the model after changing what is trainable. Returns `model`.
 */
export function freeze(model: tfl.LayersModel, range: LayerRange = {}): tfl.LayersModel {
  checkOptionNames('freeze', range, ['from', 'upTo']);
  return setRangeTrainable(model, range, () => false);
}

/**
 * Makes `model`'s layers trainable again, all of them or those of a range; the usual second step of
 * fine-tuning is `unfreeze(model, { from: '<first layer of the top blocks>', keepBatchNormalizationFrozen: true })`.
 * Compile afterwards. Returns `model`.
 */
export function unfreeze(model: tfl.LayersModel, options: UnfreezeOptions = {}): tfl.LayersModel {
  checkOptionNames('unfreeze', options, ['from', 'upTo', 'keepBatchNormalizationFrozen']);
  const { keepBatchNormalizationFrozen = false, ...range } = options;
  validateBoolean('keepBatchNormalizationFrozen', keepBatchNormalizationFrozen);
  return setRangeTrainable(model, range, (layer) => !(keepBatchNormalizationFrozen && layer.getClassName() === 'BatchNormalization'));
}
