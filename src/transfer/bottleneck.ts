// Bottleneck features, the classic transfer-learning recipe for large image sets: run the frozen base once
// over the data, keep its outputs (with the labels and class names) in an `.h5` file, and train the new head
// on those many times, without running the base again.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Dataset } from '@tensorflow/tfjs-data';
import { formatValue } from '../arguments';
import { isNode } from '../env';
import { ArgumentError, KerasApplicationsError, WeightsFileError } from '../errors';
import type { ImageBatch } from '../data/dataset';
import { replaceFile } from '../weights/replace-file';
import { hdf5HandleProblem } from '../weights/superblock';

/** A model's outputs for a dataset, with what the dataset says about them. */
export interface BottleneckFeatures {
  /** `[n, ...]`: the model's output for every image, in the order of the pass that computed them. */
  features: tf.Tensor;
  /** The dataset's labels in the same order, as it yielded them (class indices `[n]`, one-hot `[n, k]`, …, float32 from imageDatasetFromDirectory); null without. */
  labels: tf.Tensor | null;
  /** Class index → name (an ImageDataset's `classNames`); null when unknown. */
  classNames: string[] | null;
}

export interface ComputeFeaturesOptions {
  /** Called after each batch with the number of images done so far. */
  onBatch?: (imagesDone: number) => void;
}

/**
 * Runs `model` (typically a frozen base with `pooling: 'avg'`) over one pass of `dataset`, batch by batch,
 * and gathers its outputs and the batches' labels. Only the outputs are kept, never the images. For an
 * `imageDatasetFromDirectory` dataset pass `shuffle: false` (or use it fresh: its first pass follows `filePaths`).
 */
export async function computeFeatures(
  model: tfl.LayersModel,
  dataset: Dataset<ImageBatch> & { classNames?: string[] | null },
  options: ComputeFeaturesOptions = {},
): Promise<BottleneckFeatures> {
  const features: Float32Array[] = [];
  const labels: tf.TypedArray[] = [];
  let featureShape: number[] | undefined;
  let labelShape: number[] | undefined;
  let labelDtype: tf.DataType = 'float32';
  let count = 0;
  const iterator = await dataset.iterator();
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    const element = next.value;
    if (!(element?.xs instanceof tf.Tensor)) {
      tf.dispose(element as tf.TensorContainer);
      throw new ArgumentError(`computeFeatures needs a dataset of { xs, ys? } batches. Received an element with keys ${formatValue(Object.keys(element ?? {}))}`);
    }
    let output: tf.Tensor | undefined;
    try {
      output = model.predict(element.xs) as tf.Tensor;
      features.push((await output.data()) as Float32Array);
      featureShape = output.shape.slice(1);
      if (element.ys) {
        labels.push(await element.ys.data());
        labelShape = element.ys.shape.slice(1);
        labelDtype = element.ys.dtype;
      }
      count += element.xs.shape[0]!;
    } finally {
      // Also when the model rejects the batch (e.g. an unbatched dataset's single image).
      tf.dispose([...(output ? [output] : []), element as tf.TensorContainer]);
    }
    options.onBatch?.(count);
  }
  if (featureShape === undefined) throw new ArgumentError('computeFeatures: the dataset yielded no batches.');
  return {
    features: tf.tensor(concatenate(features, Float32Array), [count, ...featureShape], 'float32'),
    labels:
      labels.length === 0
        ? null
        : tf.tensor(concatenate(labels, labelDtype === 'int32' ? Int32Array : Float32Array), [count, ...labelShape!], labelDtype),
    classNames: dataset.classNames ?? null,
  };
}

function concatenate(parts: tf.TypedArray[], Type: Float32ArrayConstructor | Int32ArrayConstructor): Float32Array | Int32Array {
  const result = new Type(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part as ArrayLike<number>, offset);
    offset += part.length;
  }
  return result;
}

type H5wasm = typeof import('h5wasm/node').default;

/** A usable path, and Node.js to reach it. */
function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path === '') {
    throw new ArgumentError(`Invalid path: ${formatValue(path)}. Expected the path of an .h5 file.`);
  }
  if (!isNode()) throw new KerasApplicationsError('Feature files are read and written with Node.js (the file system).');
}

async function openH5(path: unknown, mode: 'r' | 'w'): Promise<InstanceType<H5wasm['File']>> {
  checkPath(path);
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  if (mode === 'r') {
    // h5wasm opens anything and fails later with an unhelpful message: check the file first.
    const problem = await readProblem(path);
    if (problem !== undefined) throw problem;
  }
  return new h5wasm.File(path, mode, { libver: ['earliest', 'v110'] });
}

/** Why `path` cannot be read as HDF5 (missing, not HDF5, truncated), or undefined. */
async function readProblem(path: string): Promise<Error | undefined> {
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return new ArgumentError(`No feature file at ${formatValue(path)}.`);
  try {
    const problem = await hdf5HandleProblem(handle);
    return problem === undefined ? undefined : new WeightsFileError(`Cannot read feature file ${formatValue(path)}: ${problem}.`);
  } finally {
    await handle.close();
  }
}

/**
 * Writes features to an `.h5` file h5py reads: float32 dataset `features` `[n, ...]`, dataset `labels` (int32
 * or float32, as computed) when there are labels, and the root attribute `class_names` (UTF-8 strings).
 */
export async function saveFeatures(path: string, features: BottleneckFeatures): Promise<void> {
  checkPath(path);
  await replaceFile(path, async (partial) => {
    const file = await openH5(partial, 'w');
    try {
      const write = (name: string, tensor: tf.Tensor) =>
        file.create_dataset({ name, data: tensor.dataSync(), shape: tensor.shape, dtype: tensor.dtype === 'int32' ? '<i' : '<f' });
      write('features', features.features);
      if (features.labels) write('labels', features.labels);
      if (features.classNames) file.create_attribute('class_names', features.classNames, null, 'S');
    } finally {
      file.close();
    }
  });
}

/** Reads a file `saveFeatures` wrote (or any `.h5` with a numeric `features` dataset and optional `labels`). */
export async function loadFeatures(path: string): Promise<BottleneckFeatures> {
  const file = await openH5(path, 'r');
  try {
    const read = (name: string): tf.Tensor | null => {
      if (!file.keys().includes(name)) return null;
      const dataset = file.get(name) as import('h5wasm').Dataset;
      const { value, shape } = dataset;
      if (!(value instanceof Float32Array || value instanceof Int32Array || value instanceof Float64Array) || shape === null) {
        throw new WeightsFileError(`${path}: dataset '${name}' is not a float32, float64 or int32 array (dtype ${formatValue(dataset.dtype)}).`);
      }
      return value instanceof Int32Array ? tf.tensor(value, shape, 'int32') : tf.tensor(Float32Array.from(value), shape, 'float32');
    };
    const features = read('features');
    if (features === null) throw new WeightsFileError(`${path} has no 'features' dataset; it was not written by saveFeatures.`);
    const names = file.attrs['class_names']?.value;
    return { features, labels: read('labels'), classNames: Array.isArray(names) ? names.map(String) : null };
  } finally {
    file.close();
  }
}
