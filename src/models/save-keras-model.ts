// saveKerasModel: a tfjs model as a Keras 3 `.keras` archive (what `model.save('m.keras')` writes), which Python's
// `keras.models.load_model` and loadKerasModel open: metadata.json, config.json (keras-serialize.ts) and
// model.weights.h5 in Keras 3's layout, zipped uncompressed in Keras's order.
import type * as tfl from '@tensorflow/tfjs-layers';
import { unzipSync, zipSync } from 'fflate';
import { isNode } from '../env';
import { ArgumentError, KerasApplicationsError } from '../errors';
import { readWeights } from '../weights/h5';
import { replaceFile, writeError } from '../weights/replace-file';
import { hdf5Bytes, KERAS_VERSION, type H5File } from '../weights/save';
import { snakeCase } from './keras-model-weights';
import { isKerasOperation, isModel, isSequential, kerasClassOf, kerasModelConfig } from './keras-serialize';

/** One layer's group in model.weights.h5 (`layers/conv2d`, `layers/functional/layers/conv2d`) and its values. */
interface SavedLayer {
  path: string;
  name: string;
  values: { shape: number[]; data: Float32Array }[];
}

/**
 * The layers of a model as Keras 3's saving walks them: `layers/<key>` per layer of `model.layers` (InputLayers
 * too in a Functional model), the key the Keras class in snake case numbered per model (`dense`, `dense_1`), a
 * nested model's layers under its own key. Each layer's variables in Keras's order (trainable, then the others).
 */
async function savedLayers(model: tfl.LayersModel, prefix: string): Promise<SavedLayer[]> {
  const layers = model.layers.filter((layer) => !isKerasOperation(layer) && !(isSequential(model) && layer.getClassName() === 'InputLayer'));
  const counts = new Map<string, number>();
  const saved: SavedLayer[] = [];
  for (const layer of layers) {
    const base = snakeCase(kerasClassOf(layer));
    const count = counts.get(base) ?? 0;
    counts.set(base, count + 1);
    const path = `${prefix}layers/${count === 0 ? base : `${base}_${count}`}`;
    if (isModel(layer)) {
      saved.push({ path, name: layer.name, values: [] }, ...(await savedLayers(layer, `${path}/`)));
      continue;
    }
    const values = [];
    for (const weight of layer.weights) {
      const data = await weight.read().data();
      values.push({ shape: [...weight.shape] as number[], data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>) });
    }
    saved.push({ path, name: layer.name, values });
  }
  return saved;
}

/** model.weights.h5: `<path>/vars` groups named by a `name` attribute, each variable a dataset `vars/<i>`. */
function writeKerasWeights(h5: H5File, modelName: string, layers: SavedLayer[]): void {
  const group = (path: string): import('h5wasm').Group => {
    let parent: import('h5wasm').Group = h5;
    for (const part of path.split('/')) parent = parent.keys().includes(part) ? (parent.get(part) as import('h5wasm').Group) : parent.create_group(part);
    return parent;
  };
  for (const layer of layers) {
    const vars = group(`${layer.path}/vars`);
    vars.create_attribute('name', layer.name);
    layer.values.forEach(({ shape, data }, i) => vars.create_dataset({ name: String(i), data, shape, dtype: '<f' }));
  }
  group('vars').create_attribute('name', modelName);
}

/** How the file read back differs from what was written, or undefined. */
function weightsDifference(bytes: Uint8Array, layers: SavedLayer[]): string | undefined {
  const file = readWeights(bytes, 'model.weights.h5');
  const found = new Map(file.layers.map((layer) => [layer.name, layer.weights]));
  for (const layer of layers) {
    const key = layer.path.slice('layers/'.length);
    const weights = found.get(key) ?? [];
    if (layer.values.length === 0) continue;
    if (weights.length !== layer.values.length) return `${layer.path} has ${weights.length} variables, not ${layer.values.length}`;
    const differs = layer.values.findIndex(({ shape, data }, i) => {
      const read = weights[i]!;
      return read.shape.join() !== shape.join() || read.data.length !== data.length || read.data.some((value, j) => !Object.is(value, data[j]));
    });
    if (differs >= 0) return `${layer.path}/vars/${differs} does not hold the values written`;
    found.delete(key);
  }
  const extra = [...found.entries()].find(([, weights]) => weights.length > 0);
  return extra ? `it has variables nobody wrote at layers/${extra[0]}` : undefined;
}

/** Keras's `date_saved`: local time, `%Y-%m-%d@%H:%M:%S`. */
function dateSaved(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}@${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/**
 * The `.keras` archive of `model` as bytes (Node and browsers), what {@link saveKerasModel} writes.
 * @throws UnsupportedModelError naming the layer and its class when a layer has no Keras 3 equivalent.
 * @throws KerasApplicationsError when the weights do not read back as written.
 */
export async function kerasModelBytes(model: tfl.LayersModel): Promise<Uint8Array> {
  if (!isModel(model)) throw new ArgumentError(`kerasModelBytes: expected a tfjs LayersModel. Received: ${typeof model}`);
  const config = JSON.stringify(kerasModelConfig(model));
  const layers = await savedLayers(model, '');
  const weights = await hdf5Bytes((h5) => writeKerasWeights(h5, model.name, layers));
  const difference = weightsDifference(weights, layers);
  if (difference !== undefined) throw new KerasApplicationsError(`model.weights.h5 does not read back as written: ${difference}.`);
  const now = new Date();
  const encoder = new TextEncoder();
  const metadata = JSON.stringify({ keras_version: KERAS_VERSION, date_saved: dateSaved(now) });
  // Keras writes the two JSON files with zipfile's default date (1980-01-01), the weights with the save time.
  const jsonDate = new Date(1980, 0, 1);
  return zipSync(
    {
      'metadata.json': [encoder.encode(metadata), { mtime: jsonDate }],
      'config.json': [encoder.encode(config), { mtime: jsonDate }],
      'model.weights.h5': [weights, { mtime: now }],
    },
    { level: 0 },
  );
}

/**
 * Saves `model` as a Keras 3 `.keras` file that Python opens with `keras.models.load_model(path)` (and
 * loadKerasModel here): architecture, layer names, trainable flags and weights; no optimizer state. The file is
 * written beside `path`, read back and compared, and only then renamed into place. Node.js only.
 * @throws UnsupportedModelError naming the layer and its class when a layer has no Keras 3 equivalent.
 * @throws FileWriteError when the file cannot be written; a file already at `path` is then left as it was.
 */
export async function saveKerasModel(model: tfl.LayersModel, path: string): Promise<void> {
  if (typeof path !== 'string' || path === '') {
    throw new ArgumentError(`Invalid path: ${JSON.stringify(path) ?? String(path)}. Expected the path of the .keras file to write.`);
  }
  if (!isNode()) throw new KerasApplicationsError('saveKerasModel needs Node.js (it writes to the file system); in a browser use kerasModelBytes.');
  const bytes = await kerasModelBytes(model);
  const fs = await import('node:fs/promises');
  await replaceFile(path, async (partial) => {
    await fs.writeFile(partial, bytes);
    const back = await fs.readFile(partial);
    let readable = back.length === bytes.length && back.every((byte, i) => byte === bytes[i]);
    if (readable) {
      try {
        unzipSync(back);
      } catch {
        readable = false;
      }
    }
    if (!readable) throw writeError(path, 'the file does not read back as written; the disk may be full or failing', 'free some space or save elsewhere');
  });
}
