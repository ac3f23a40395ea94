// Writes Keras legacy weights files (`model.save_weights('x.h5')`), the layout of the official
// keras.applications files, so a model trained here loads in Python with `model.load_weights`.
// h5wasm (a WebAssembly HDF5) is imported only when a file is written.
import type * as tfl from '@tensorflow/tfjs-layers';
import { isNode } from '../env';
import { ArgumentError, KerasApplicationsError, WeightsFileError } from '../errors';
import { readWeightsFile } from './h5';
import { replaceFile, writeError } from './replace-file';
import type { WeightTensor, WeightsFile } from './types';

/** Keras splits a string-list attribute larger than this into `name0`, `name1`, … (HDF5's object header limit). */
const HDF5_OBJECT_HEADER_LIMIT = 64512;

/** The Keras whose layouts saveWeights and saveKerasModel reproduce (test/fixtures/keras-ref/h5, keras-ref/models). */
export const KERAS_VERSION = '3.16.0';

/** h5py's default bounds: superblock 0 and symbol-table groups, which every HDF5 reader reads. */
const LIBVER: import('h5wasm').FileOptions = { libver: ['earliest', 'v110'] };

/** Weights whose tfjs name differs from Keras 3's, by layer class. */
const KERAS_WEIGHT_NAMES: Record<string, Record<string, string>> = {
  DepthwiseConv2D: { depthwise_kernel: 'kernel' },
};

export interface WriteLegacyWeightsOptions {
  /**
   * Write Keras 3's `top_level_model_weights` group (a model's own variables; tfjs models have none).
   * Keras 2 files do not have it; Keras 2 and 3 both load files with or without it.
   */
  topLevelGroup?: boolean;
}

type H5Group = import('h5wasm').Group;
/** An h5wasm file open for writing. */
export type H5File = import('h5wasm').File;

/**
 * Writes `file` as a Keras legacy weights file: root attributes `layer_names` and `file.attributes`
 * (`backend`, `keras_version`), one group per layer with its `weight_names`, and each weight as a float32
 * dataset at `<layer>/<weight name>` (so `conv1/conv1/kernel`). Strings are ASCII as h5py writes Keras's
 * byte strings. Node.js only.
 * @throws FileWriteError when the file cannot be written (a file already at `path` is then left as it was).
 */
export async function writeLegacyWeights(path: string, file: WeightsFile, options: WriteLegacyWeightsOptions = {}): Promise<void> {
  checkPath(path);
  // Keras's readers (and ours) refuse a file that lists no layers.
  if (file.layers.length === 0) throw new ArgumentError(`writeLegacyWeights: ${path} would list no layers; a weights file has at least one.`);
  await writeLayers(path, file.attributes, file.layers.map((layer) => layer.name), async (i) => file.layers[i]!.weights, options);
}

/**
 * Writes the HDF5 file at `path` with h5wasm, through replaceFile: `build` fills it, then `check` reads the
 * closed file back and says how it differs from what `build` meant to write (undefined when it does not).
 * h5wasm reports no write errors (on a full disk HDF5 prints diagnostics and every call returns as if it had
 * written), so reading back is what catches them. Node.js only.
 */
export async function writeHdf5File(
  path: string,
  build: (file: H5File) => Promise<void>,
  check: (partialPath: string) => Promise<string | undefined>,
): Promise<void> {
  if (!isNode()) throw new KerasApplicationsError('Writing .h5 files needs Node.js (it writes to the file system).');
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  await replaceFile(path, async (partial) => {
    const h5 = new h5wasm.File(partial, 'w', LIBVER);
    if (h5.file_id < 0n) throw writeError(path, 'HDF5 could not create the file', 'check that the disk has free space');
    try {
      await build(h5);
    } finally {
      h5.close();
    }
    const difference = await check(partial);
    if (difference !== undefined) {
      throw writeError(path, `the file does not read back as written (${difference}); the disk may be full or failing`, 'free some space or save elsewhere');
    }
  });
}

/** Numbers the in-memory files of hdf5Bytes, so that two writes at once do not share one. */
let memoryFiles = 0;

/**
 * An HDF5 file built by `build` in h5wasm's in-memory file system, as bytes (Node and browsers). The caller reads
 * the bytes back to check them: h5wasm reports no write errors.
 */
export async function hdf5Bytes(build: (file: H5File) => void): Promise<Uint8Array> {
  const h5wasm = await import('h5wasm');
  await h5wasm.ready;
  const path = `/keras-applications-${++memoryFiles}.h5`;
  const h5 = new h5wasm.File(path, 'w', LIBVER);
  try {
    build(h5);
  } finally {
    h5.close();
  }
  try {
    return h5wasm.FS!.readFile(path);
  } finally {
    h5wasm.FS!.unlink(path);
  }
}

/**
 * The writer: `readLayer(i)` gives the weights of `layerNames[i]` when its turn comes, so only one layer is
 * held. What is written is kept as one line per layer, weights by digest, to compare the file against.
 */
async function writeLayers(
  path: string,
  attributes: Record<string, string>,
  layerNames: string[],
  readLayer: (index: number) => Promise<WeightTensor[]>,
  options: WriteLegacyWeightsOptions,
): Promise<void> {
  const { createHash } = await import('node:crypto');
  const describeLayer = (name: string, weights: WeightTensor[]): string =>
    `${name}: ${weights.map(({ name, shape, data }) => `${name}[${shape.join(',')}] ${createHash('sha1').update(data).digest('hex')}`).join(' ')}`;
  const describeAttributes = (values: Record<string, string>): string => JSON.stringify(Object.entries(values).sort());
  const written = [describeAttributes(attributes)];
  const build = async (h5: H5File): Promise<void> => {
    writeStringList(h5, 'layer_names', layerNames);
    for (const [name, value] of Object.entries(attributes)) h5.create_attribute(name, value, null, 'A');
    // Keras creates the groups sorted by name; HDF5 lists them by name whatever the order.
    for (const [i, name] of layerNames.entries()) {
      const weights = await readLayer(i);
      writeLayer(h5.create_group(name), weights);
      written.push(describeLayer(name, weights));
    }
    if (options.topLevelGroup) writeLayer(h5.create_group('top_level_model_weights'), []);
  };
  const check = async (partial: string): Promise<string | undefined> => {
    let found: string[];
    try {
      const file = await readWeightsFile(partial);
      found = [describeAttributes(file.attributes), ...file.layers.map((layer) => describeLayer(layer.name, layer.weights))];
    } catch (error) {
      if (error instanceof WeightsFileError) return error.message;
      throw error;
    }
    const at = written.findIndex((line, i) => found[i] !== line);
    if (at >= 0) return `expected ${truncate(written[at]!)}, found ${truncate(found[at] ?? 'nothing')}`;
    return found.length > written.length ? `found an unexpected ${truncate(found[written.length]!)}` : undefined;
  };
  await writeHdf5File(path, build, check);
}

/** A line of the comparison, short enough for an error message. */
function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** One layer's `weight_names` and datasets; a name's `/` parts become nested groups, as h5py makes them. */
function writeLayer(group: H5Group, weights: WeightTensor[]): void {
  writeStringList(group, 'weight_names', weights.map((weight) => weight.name));
  for (const weight of weights) {
    const parts = weight.name.split('/');
    let parent = group;
    for (const part of parts.slice(0, -1)) {
      parent = parent.keys().includes(part) ? (parent.get(part) as H5Group) : parent.create_group(part);
    }
    parent.create_dataset({ name: parts.at(-1)!, data: weight.data, shape: weight.shape, dtype: '<f' });
  }
}

/**
 * A list of strings as Keras's save_attributes_to_hdf5_group writes it: variable-length ASCII strings, or,
 * when NumPy's fixed-width array of the list would exceed HDF5_OBJECT_HEADER_LIMIT, fixed-width chunks split
 * as np.array_split does. An empty list is an empty float64 array (what h5py makes of `[]`).
 */
function writeStringList(group: H5Group, name: string, values: string[]): void {
  if (values.length === 0) {
    group.create_attribute(name, new Float64Array(0));
    return;
  }
  const encoder = new TextEncoder();
  const width = Math.max(...values.map((value) => encoder.encode(value).length));
  let chunks = 1;
  while (Math.ceil(values.length / chunks) * width > HDF5_OBJECT_HEADER_LIMIT) chunks++;
  if (chunks === 1) {
    group.create_attribute(name, values, null, 'A');
    return;
  }
  arraySplit(values, chunks).forEach((chunk, i) => group.create_attribute(`${name}${i}`, chunk, null, `A${width}`));
}

/** np.array_split: `parts` pieces, the first `length % parts` one element longer. */
function arraySplit<T>(values: T[], parts: number): T[][] {
  const base = Math.floor(values.length / parts);
  const longer = values.length % parts;
  const result: T[][] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const end = start + base + (i < longer ? 1 : 0);
    result.push(values.slice(start, end));
    start = end;
  }
  return result;
}

/**
 * Saves the model's weights as Keras's `model.save_weights('x.h5')` does (the legacy `.h5` layout), so
 * `model.load_weights('x.h5')` in Python Keras and `loadWeights` here load them into the same architecture.
 * As Keras 3 writes them: every layer of `model.layers` (weightless ones too), each layer's weights in Keras's
 * legacy order (trainable, then non-trainable), named by Keras 3's variable paths: `conv1/kernel`, and for
 * the layers of a nested model `head_block/fc1/kernel`. Node.js only.
 */
export async function saveWeights(model: tfl.LayersModel, path: string): Promise<void> {
  checkPath(path);
  const names = kerasWeightNames(model);
  const readLayer = async (index: number): Promise<WeightTensor[]> => {
    const weights: WeightTensor[] = [];
    // tfjs's `weights` is trainable + non-trainable, Keras's `_legacy_weights` order.
    for (const weight of model.layers[index]!.weights) {
      const values = await weight.read().data();
      const data = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
      weights.push({ name: names.get(weight)!, shape: [...weight.shape] as number[], data });
    }
    return weights;
  };
  const attributes = { backend: 'tensorflow', keras_version: KERAS_VERSION };
  await writeLayers(path, attributes, model.layers.map((layer) => layer.name), readLayer, { topLevelGroup: true });
}

/** Keras 3's path of every weight: `<layer>/<weight>`, preceded by the names of the nested models it sits in. */
function kerasWeightNames(model: tfl.LayersModel): Map<tfl.LayerVariable, string> {
  const names = new Map<tfl.LayerVariable, string>();
  const visit = (layers: tfl.layers.Layer[], prefix: string): void => {
    for (const layer of layers) {
      if (isContainer(layer)) visit(layer.layers, `${prefix}${layer.name}/`);
      else for (const weight of layer.weights) names.set(weight, `${prefix}${layer.name}/${kerasWeightName(layer, weight)}`);
    }
  };
  visit(model.layers, '');
  return names;
}

function checkPath(path: unknown): void {
  if (typeof path !== 'string' || path === '') {
    throw new ArgumentError(`Invalid path: ${JSON.stringify(path) ?? String(path)}. Expected the path of the .h5 file to write.`);
  }
}

function isContainer(layer: tfl.layers.Layer): layer is tfl.LayersModel {
  return Array.isArray((layer as Partial<tfl.LayersModel>).layers);
}

/** `kernel` for tfjs's `dw/depthwise_kernel` of a DepthwiseConv2D; otherwise tfjs's own short name. */
function kerasWeightName(layer: tfl.layers.Layer, weight: tfl.LayerVariable): string {
  const short = weight.originalName.slice(weight.originalName.lastIndexOf('/') + 1);
  return KERAS_WEIGHT_NAMES[layer.getClassName()]?.[short] ?? short;
}
