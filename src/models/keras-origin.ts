// What loadKerasModel read for each layer and model it built, kept for saveKerasModel: the options tfjs has no
// place for (a random augmentation layer's factors, the form of a model's inputs) and the keyword arguments of
// each call (`base(x, training=False)`), so that a loaded model saves back with the config it came from.
import type * as tfl from '@tensorflow/tfjs-layers';

export interface KerasOrigin {
  /** The layer's or model's `config` as the file gives it. */
  config: Record<string, unknown>;
  /** Per call of the layer in its model, in node order: the call's `kwargs` as the file gives them. */
  callKwargs: Record<string, unknown>[];
}

const origins = new WeakMap<tfl.layers.Layer, KerasOrigin>();

export function recordKerasOrigin(layer: tfl.layers.Layer, config: Record<string, unknown>): void {
  origins.set(layer, { config, callKwargs: [] });
}

export function kerasOrigin(layer: tfl.layers.Layer): KerasOrigin | undefined {
  return origins.get(layer);
}
