// Puts a model file's weights into the model built from its config. The layers are matched through the config
// (Keras's own layer order and classes), not through tfjs's layer order, which can differ in a Functional model.
// Every weighted layer must get values and every saved value must find its layer, shapes checked, before any write.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { WeightsMismatchError } from '../errors';
import type { WeightTensor, WeightsFile } from '../weights/types';
import type { BuiltLayer } from './keras-config';

type Plan = Map<tfl.layers.Layer, WeightTensor[]>;

/** Keras 3 (`model.weights.h5` of a .keras archive): `layers/<key>/vars`, the key from the class, unique per model. */
export function applyKeras3Weights(model: BuiltLayer, file: WeightsFile, where: string): void {
  const saved = new Map(file.layers.map((layer) => [layer.name, layer.weights]));
  const plan: Plan = new Map();
  const visit = (layers: BuiltLayer[], prefix: string): void => {
    const counts = new Map<string, number>();
    // Keras operations are not among a model's layers: they take no key.
    for (const built of layers.filter((layer) => !layer.operation)) {
      const base = snakeCase(built.kerasClass);
      const count = counts.get(base) ?? 0;
      counts.set(base, count + 1);
      const key = prefix + (count === 0 ? base : `${base}_${count}`);
      if (built.inner) {
        visit(built.inner, `${key}/layers/`);
      } else if (built.layer.weights.length > 0) {
        const values = saved.get(key) ?? mismatch(where, `layer '${built.layer.name}' has weights, but the file has no group layers/${key}/vars for it`);
        plan.set(built.layer, values);
        saved.delete(key);
      }
    }
  };
  visit(model.inner ?? [], '');
  if (saved.size > 0) mismatch(where, `the file has weights no layer of the config takes: layers/${[...saved.keys()].join(', layers/')}`);
  applyPlan(plan, where);
}

/**
 * Legacy full-model `.h5`: `model_weights/<layer name>` per top-level layer; a nested model's group holds all
 * its layers' weights, each named `<inner layer>/<weight>`.
 */
export function applyLegacyWeights(model: BuiltLayer, file: WeightsFile, where: string): void {
  const saved = new Map(file.layers.map((layer) => [layer.name, layer.weights]));
  const plan: Plan = new Map();
  for (const built of model.inner ?? []) {
    const weighted = leaves(built).filter((leaf) => leaf.weights.length > 0);
    if (weighted.length === 0) continue;
    const values = saved.get(built.layer.name) ?? mismatch(where, `layer '${built.layer.name}' has weights, but model_weights has no group for it`);
    if (!built.inner) {
      plan.set(built.layer, values);
      continue;
    }
    const byOwner = new Map<string, WeightTensor[]>();
    for (const value of values) {
      const owner = value.name.split('/').at(-2) ?? '';
      byOwner.set(owner, [...(byOwner.get(owner) ?? []), value]);
    }
    for (const leaf of weighted) {
      const own = byOwner.get(leaf.name) ?? mismatch(where, `layer '${leaf.name}' of '${built.layer.name}' has weights, but the file has none named ${leaf.name}/…`);
      plan.set(leaf, own);
      byOwner.delete(leaf.name);
    }
    if (byOwner.size > 0) mismatch(where, `model_weights/${built.layer.name} has weights of layers '${built.layer.name}' does not have: ${[...byOwner.keys()].join(', ')}`);
  }
  applyPlan(plan, where);
}

/** The layers that hold weights themselves: a nested model's layers, through every level. */
function leaves(built: BuiltLayer): tfl.layers.Layer[] {
  return built.inner ? built.inner.flatMap(leaves) : [built.layer];
}

function applyPlan(plan: Plan, where: string): void {
  for (const [layer, values] of plan) {
    const targets = layer.weights;
    if (targets.length !== values.length) {
      mismatch(where, `layer '${layer.name}' (${layer.getClassName()}) has ${targets.length} weights, the file gives it ${values.length}`);
    }
    targets.forEach((target, i) => {
      const { shape, name } = values[i]!;
      if (target.shape.length !== shape.length || target.shape.some((dim, axis) => dim !== shape[axis])) {
        mismatch(where, `layer '${layer.name}' expects [${target.shape.join(', ')}] for '${target.originalName}', the file's '${name}' is [${shape.join(', ')}]`);
      }
    });
  }
  for (const [layer, values] of plan) {
    const tensors = values.map((value) => tf.tensor(value.data, value.shape, 'float32'));
    try {
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
}

/** Keras's `to_snake_case` of a class name: `Conv2D` → `conv2d`, `ReLU` → `re_lu`. */
export function snakeCase(className: string): string {
  return className
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

function mismatch(where: string, problem: string): never {
  throw new WeightsMismatchError(`The weights in ${where} do not fit the model of its config: ${problem}.`);
}
