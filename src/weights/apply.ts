// Puts the weights of a Keras file into a tfjs model, layer by layer. Every layer is matched and
// every shape checked before the first value is written, so a bad file changes nothing.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { WeightsMismatchError } from '../errors';
import { readWeights, readWeightsFile, readWeightsFileDeferred } from './h5';
import { resolveWeightsFile, type WeightsDownloadOptions } from './source';
import type { LayerWeights, WeightTensor, WeightsFile } from './types';

/** Where weights come from: a path or URL of a Keras `.h5`/`.weights.h5` file, its bytes, or a read file. */
export type WeightsSource = string | Uint8Array | ArrayBuffer | WeightsFile;

export interface LoadWeightsOptions extends WeightsDownloadOptions {
  /** Match layers by name instead of by order (legacy `.h5` files only), as Keras's `by_name=True`. */
  byName?: boolean;
  /** With `byName`, skip layers whose weight count or shapes differ instead of failing. */
  skipMismatch?: boolean;
}

/** One model layer and the file weights that will be written into it. */
interface Assignment {
  layer: tfl.layers.Layer;
  values: WeightTensor[];
}

/**
 * Reads any weights source into the in-memory form. URLs are downloaded (and cached, in Node). With
 * `deferData`, a file on disk is read by `readWeightsFileDeferred` (for the wasm backend).
 */
export async function readWeightsSource(
  source: WeightsSource,
  options: LoadWeightsOptions = {},
  deferData = false,
): Promise<WeightsFile> {
  if (typeof source === 'object' && 'format' in source) return source;
  const file = await resolveWeightsFile(source, options);
  if (typeof file === 'string') return (deferData ? readWeightsFileDeferred : readWeightsFile)(file);
  return readWeights(file, typeof source === 'string' ? source : undefined);
}

/**
 * Loads Keras weights into `model`: legacy and full-model `.h5` files by Keras's legacy rule (the layers
 * that have weights, in order) or by name, Keras 3 `.weights.h5` files by Keras 3's layer keys.
 * Throws a WeightsMismatchError naming the layer, the weight and both shapes; nothing is applied then.
 */
export async function loadWeights(model: tfl.LayersModel, source: WeightsSource, options: LoadWeightsOptions = {}): Promise<void> {
  const file = await readWeightsSource(source, options);
  const plan =
    file.format === 'keras3'
      ? planKeras3(model, file, options)
      : options.byName
        ? planByName(model, file, options)
        : planByOrder(model, file);
  applyPlan(plan);
}

function weightedLayers(layers: tfl.layers.Layer[]): tfl.layers.Layer[] {
  return layers.filter((layer) => layer.weights.length > 0);
}

function planByOrder(model: tfl.LayersModel, file: WeightsFile): Assignment[] {
  const modelLayers = weightedLayers(model.layers);
  const fileLayers = file.layers.filter((layer) => layer.weights.length > 0);
  if (modelLayers.length !== fileLayers.length) {
    throw new WeightsMismatchError(
      `Layer count mismatch when loading weights into model '${model.name}': the model has ${modelLayers.length} ` +
        `layers with weights, the file has ${fileLayers.length} (${describeFirstDifference(modelLayers, fileLayers)}). ` +
        'Is the file for another model, or for the model with/without its top?',
    );
  }
  return modelLayers.map((layer, i) => assignment(layer, fileLayers[i]!, false)!);
}

function planByName(model: tfl.LayersModel, file: WeightsFile, options: LoadWeightsOptions): Assignment[] {
  const byName = new Map(file.layers.map((layer) => [layer.name, layer]));
  const plan: Assignment[] = [];
  for (const layer of weightedLayers(model.layers)) {
    const saved = byName.get(layer.name);
    if (!saved || saved.weights.length === 0) continue;
    const planned = assignment(layer, saved, options.skipMismatch ?? false);
    if (planned) plan.push(planned);
  }
  return plan;
}

/** Keras 3 names each saved layer after its class: `conv2d`, `conv2d_1`, … in the container's layer order. */
function planKeras3(model: tfl.LayersModel, file: WeightsFile, options: LoadWeightsOptions): Assignment[] {
  const saved = new Map(file.layers.map((layer) => [layer.name, layer]));
  const used = new Set<string>();
  const plan: Assignment[] = [];
  const visit = (layers: tfl.layers.Layer[], prefix: string): void => {
    const counts = new Map<string, number>();
    for (const layer of layers) {
      const base = keras3Key(layer);
      const seen = counts.get(base);
      counts.set(base, seen === undefined ? 0 : seen + 1);
      const key = prefix + (seen === undefined ? base : `${base}_${seen + 1}`);
      if (layer instanceof tfl.LayersModel) {
        visit(layer.layers, `${key}/layers/`);
        continue;
      }
      if (layer.weights.length === 0) continue;
      const entry = saved.get(key);
      if (!entry) {
        if (options.skipMismatch) continue;
        throw new WeightsMismatchError(
          `Layer '${layer.name}' (${layer.getClassName()}) has ${layer.weights.length} weights, but the Keras 3 file ` +
            `has no group 'layers/${key}' for it. Is the file for another model?`,
        );
      }
      used.add(key);
      const planned = assignment(layer, entry, options.skipMismatch ?? false);
      if (planned) plan.push(planned);
    }
  };
  visit(model.layers, '');
  const unused = [...saved.keys()].filter((key) => !used.has(key));
  if (unused.length > 0 && !options.skipMismatch) {
    throw new WeightsMismatchError(
      `The Keras 3 file has weights for layers the model '${model.name}' does not have: ${unused.slice(0, 5).join(', ')}` +
        `${unused.length > 5 ? `, … (${unused.length} in all)` : ''}. Is the file for another model?`,
    );
  }
  return plan;
}

const KERAS3_CLASS_NAMES: Record<string, string> = { Model: 'Functional' };

/** Keras's `to_snake_case` of the layer's Keras class name. */
function keras3Key(layer: tfl.layers.Layer): string {
  const className = KERAS3_CLASS_NAMES[layer.getClassName()] ?? layer.getClassName();
  return className
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** Checks one layer against its saved weights; undefined when skipping a mismatch. */
function assignment(layer: tfl.layers.Layer, saved: LayerWeights, skipMismatch: boolean): Assignment | undefined {
  const targets = layer.weights;
  const problem =
    targets.length !== saved.weights.length
      ? `layer '${layer.name}' (${layer.getClassName()}) has ${targets.length} weights ` +
        `(${targets.map((w) => shortName(w.originalName)).join(', ')}), but the file's layer '${saved.name}' ` +
        `has ${saved.weights.length} (${saved.weights.map((w) => w.name).join(', ')})`
      : targets
          .map((target, i) => {
            const value = saved.weights[i]!;
            if (sameShape(target.shape, value.shape) && value.data.length === sizeOf(value.shape)) return undefined;
            return (
              `layer '${layer.name}' (${layer.getClassName()}), weight '${shortName(target.originalName)}': the model ` +
              `expects shape [${target.shape.join(', ')}], the file's '${saved.name}/${value.name}' has shape ` +
              `[${value.shape.join(', ')}]`
            );
          })
          .find((message) => message !== undefined);
  if (problem === undefined) return { layer, values: saved.weights };
  if (skipMismatch) return undefined;
  throw new WeightsMismatchError(`Weights do not fit the model: ${problem}. Nothing was loaded.`);
}

function applyPlan(plan: Assignment[]): void {
  for (const { layer, values } of plan) {
    const tensors = values.map((value) => tf.tensor(value.data, value.shape, 'float32'));
    try {
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
}

function describeFirstDifference(modelLayers: tfl.layers.Layer[], fileLayers: LayerWeights[]): string {
  const index = modelLayers.findIndex((layer, i) => fileLayers[i]?.name !== layer.name);
  if (index < 0) return `the file has extra layers from '${fileLayers[modelLayers.length]?.name}' on`;
  const fileName = fileLayers[index]?.name;
  return `first difference at weighted layer ${index}: '${modelLayers[index]!.name}' in the model, ` +
    (fileName === undefined ? 'nothing in the file' : `'${fileName}' in the file`);
}

function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** `conv1/kernel` from tfjs's `conv1/kernel` or a nested `block/conv1/kernel`. */
function shortName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}
