// Bottleneck features, the classic transfer-learning recipe for large image sets: run the frozen base once
// over the data, keep its outputs (with the labels and class names) in an `.h5` file, and train the new head
// on those many times, without running the base again.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Dataset } from '@tensorflow/tfjs-data';
import * as jsfive from 'jsfive';
import { formatValue } from '../arguments';
import { isNode } from '../env';
import { ArgumentError, KerasApplicationsError, WeightsFileError } from '../errors';
import type { ImageBatch } from '../data/dataset';
import { readRegularFile } from '../files';
import { listAttributes } from '../weights/h5-attributes';
import { hdf5Bytes } from '../weights/h5';
import { type FileBytes, H5Problem, describe, problem, readDataset, within } from '../weights/h5-data';
import { type H5File, writeHdf5File } from '../weights/save';

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

/** A usable path, and Node.js to reach it. */
function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path === '') {
    throw new ArgumentError(`Invalid path: ${formatValue(path)}. Expected the path of an .h5 file.`);
  }
  if (!isNode()) throw new KerasApplicationsError('Feature files are read and written with Node.js (the file system).');
}

/** A dataset's values as read from a file, before they become tensors. */
interface Values {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** The contents of a features file, read without tfjs. */
interface FeatureValues {
  features: Values;
  labels: Values | null;
  classNames: string[] | null;
}

/**
 * Writes features to an `.h5` file h5py reads: float32 dataset `features` `[n, ...]`, dataset `labels` (int32
 * or float32, as computed) when there are labels, and the root attribute `class_names` (UTF-8 strings).
 * @throws FileWriteError when the file cannot be written (a file already at `path` is then left as it was).
 */
export async function saveFeatures(path: string, features: BottleneckFeatures): Promise<void> {
  checkPath(path);
  const values = (tensor: tf.Tensor): Values => {
    const data = tensor.dataSync();
    // int32 stays int32; anything else (bool too) is written as float32.
    return { shape: tensor.shape, data: data instanceof Int32Array || data instanceof Float32Array ? data : Float32Array.from(data as Uint8Array) };
  };
  const meant: FeatureValues = {
    features: values(features.features),
    labels: features.labels && values(features.labels),
    classNames: features.classNames,
  };
  const build = async (file: H5File): Promise<void> => {
    const write = (name: string, { shape, data }: Values) =>
      file.create_dataset({ name, data, shape, dtype: data instanceof Int32Array ? '<i' : '<f' });
    write('features', meant.features);
    if (meant.labels) write('labels', meant.labels);
    if (meant.classNames) file.create_attribute('class_names', meant.classNames, null, 'S');
  };
  const check = async (partial: string): Promise<string | undefined> => {
    let found: FeatureValues;
    try {
      found = readFeatureValues(await readFeatureFile(partial), partial);
    } catch (error) {
      if (error instanceof WeightsFileError) return error.message;
      throw error;
    }
    return differences(meant, found);
  };
  await writeHdf5File(path, build, check);
}

/** How `found` differs from `meant` (types, shapes, bytes of the values, class names), or undefined. */
function differences(meant: FeatureValues, found: FeatureValues): string | undefined {
  const describe = (values: Values | null): string => (values ? `${values.data.constructor.name} [${values.shape.join(', ')}]` : 'none');
  const bytes = ({ data }: Values): Uint8Array => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (const name of ['features', 'labels'] as const) {
    const [a, b] = [meant[name], found[name]];
    if (describe(a) !== describe(b)) return `${name}: expected ${describe(a)}, found ${describe(b)}`;
    if (a && b && !Buffer.from(bytes(a)).equals(bytes(b))) return `${name}: the values differ`;
  }
  if (JSON.stringify(meant.classNames) !== JSON.stringify(found.classNames)) return 'class_names differ';
  return undefined;
}

/** The bytes of a feature file, or a WeightsFileError naming it. */
function readFeatureFile(path: string): Promise<Uint8Array> {
  return readRegularFile(path, { maxBytes: null, fail: (why) => new WeightsFileError(`Cannot read feature file ${formatValue(path)}: ${why}.`) });
}

/**
 * Reads a file `saveFeatures` wrote (or any `.h5` with a numeric `features` dataset and optional `labels`).
 * @throws WeightsFileError naming the file when it is missing, not HDF5, truncated or corrupt.
 */
export async function loadFeatures(path: string): Promise<BottleneckFeatures> {
  checkPath(path);
  const { features, labels, classNames } = readFeatureValues(await readFeatureFile(path), path);
  const tensor = ({ data, shape }: Values): tf.Tensor => tf.tensor(data, shape, data instanceof Int32Array ? 'int32' : 'float32');
  // tidy: the features are freed should the labels fail.
  const [featureTensor, labelTensor = null] = tf.tidy(() => [features, ...(labels ? [labels] : [])].map(tensor));
  return { features: featureTensor!, labels: labelTensor, classNames };
}

/** Element types a features file may hold; jsfive's names, any byte order. */
const FLOAT_TYPES = /^[<>]f[48]$/;
const INT32_TYPE = /^[<>]i4$/;

/**
 * The datasets and class names of a features file, parsed with jsfive and the weights reader's checks (never
 * h5wasm: on some corrupt files its libhdf5 aborts, or never returns). Float data become float32.
 */
function readFeatureValues(bytes: Uint8Array, path: string): FeatureValues {
  try {
    const file = hdf5Bytes(bytes);
    const root = within('the HDF5 superblock or root group', () => new jsfive.File(file.buffer, path));
    const keys = within('the root group', () => root.keys);
    const read = (name: string): Values | null => {
      if (!keys.includes(name)) return null;
      const dataset = within(`/${name}`, () => root.get(name));
      if (!(dataset instanceof jsfive.Dataset)) problem(`/${name} is not a dataset`);
      return within(`dataset /${name}`, () => readValues(file, dataset));
    };
    const features = read('features') ?? problem("it has no 'features' dataset; it was not written by saveFeatures");
    return { features, labels: read('labels'), classNames: readClassNames(file, root) };
  } catch (err) {
    const detail = err instanceof H5Problem ? err.message : `the HDF5 parser failed (${describe(err)})`;
    throw new WeightsFileError(`Cannot read feature file ${formatValue(path)}: ${detail}.`);
  }
}

function readValues(file: FileBytes, dataset: jsfive.Dataset): Values {
  const type = dataset._dataobjects.dtype;
  const isInt32 = typeof type === 'string' && INT32_TYPE.test(type);
  if (!isInt32 && !(typeof type === 'string' && FLOAT_TYPES.test(type))) {
    problem(`is not a float32, float64 or int32 array (element type ${formatValue(type)})`);
  }
  // readDataset checks the dataset against the file (shape, layout, bounds) and gives float32.
  const { shape, data } = readDataset(file, dataset);
  if (!isInt32) return { shape, data };
  // Only below 2^24 are all int32 values exact in float32: take jsfive's numbers, now that the sizes are checked.
  const exact: unknown = dataset.value;
  if (!Array.isArray(exact) || exact.length !== data.length || !exact.every(Number.isInteger)) problem('its values cannot be read');
  return { shape, data: Int32Array.from(exact as number[]) };
}

/** The root attribute `class_names` (strings; fixed-length ones lose their NUL padding), or null without. */
function readClassNames(file: FileBytes, root: jsfive.Group): string[] | null {
  const attribute = within('the attributes of /', () => listAttributes(file, root)).find((a) => a.name === 'class_names');
  if (attribute === undefined) return null;
  const names = within('attribute class_names', () => attribute.read());
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) problem('attribute class_names is not a list of strings');
  return names.map((name: string) => name.replace(/\0[^]*$/, ''));
}
