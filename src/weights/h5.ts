// Reads Keras weights files (HDF5) into the layout-independent WeightsFile of ./types.ts.
// jsfive parses the HDF5 structure; ./h5-data.ts reads the datasets' values.

import { Dataset, File, Group } from 'jsfive';
import { WeightsFileError } from '../errors.js';
import { FileBytes, H5Problem, describe, fileBytes, problem, readDataset, within } from './h5-data.js';
import { SUPERBLOCK_HEADER_BYTES, hdf5Problem, parseSuperblock } from './superblock.js';
import type { LayerWeights, WeightTensor, WeightsFile } from './types.js';

/** fs.FileHandle.read takes at most 2 GiB at a time. */
const READ_CHUNK_BYTES = 256 * 2 ** 20;

/** Strings may be fixed-length and NUL-padded (h5py 2 wrote them so): keep what precedes the first NUL. */
function cutAtNul(text: string): string {
  const end = text.indexOf('\0');
  return end < 0 ? text : text.slice(0, end);
}

/**
 * A list attribute; Keras splits one over 64 KB into `name0`, `name1`, … (HDF5's limit on an object
 * header). Undefined when there is none.
 */
function stringList(group: Group, name: string): string[] | undefined {
  const attrs = within(`attributes of ${group.name}`, () => group.attrs);
  const parts: unknown[] = [];
  if (name in attrs) parts.push(attrs[name]);
  else for (let i = 0; `${name}${i}` in attrs; i++) parts.push(attrs[`${name}${i}`]);
  if (parts.length === 0) return undefined;
  return parts.flatMap((part) => {
    if (!Array.isArray(part) || !part.every((item) => typeof item === 'string')) {
      problem(`attribute ${name} of ${group.name} is not a list of strings`);
    }
    return part.map(cutAtNul);
  });
}

/** The object at `path` below `group`, or a problem naming what is missing. */
function lookUp(group: Group, path: string): Group | Dataset {
  let object: Group | Dataset = group;
  for (const part of path.split('/').filter((p) => p !== '')) {
    const here: string = object.name;
    if (!(object instanceof Group)) problem(`${here} is a dataset, not a group`);
    const parent: Group = object;
    const next = within(here, () => (parent.keys.includes(part) ? parent.get(part) : undefined));
    if (next === undefined) problem(`${here} has no member ${JSON.stringify(part)}`);
    if (next === null) problem(`${here}/${part} is a soft link to nothing`);
    object = next;
  }
  return object;
}

function tensor(file: FileBytes, dataset: Dataset, name: string): WeightTensor {
  return { name, ...within(`dataset ${dataset.name}`, () => readDataset(file, dataset)) };
}

/** Legacy layout: `layer_names` on `base`, `weight_names` on each layer's group, datasets below it. */
function readLegacyLayers(file: FileBytes, base: Group, layerNames: string[]): LayerWeights[] {
  return layerNames.map((name) => {
    if (name === '') problem(`${base.name} lists an empty layer name`);
    const layer = lookUp(base, name);
    if (!(layer instanceof Group)) problem(`${layer.name} should be a layer's group but is a dataset`);
    const weightNames = stringList(layer, 'weight_names') ?? problem(`group ${layer.name} has no weight_names attribute`);
    const weights = weightNames.map((weightName) => {
      const dataset = lookUp(layer, weightName);
      if (!(dataset instanceof Dataset)) problem(`${dataset.name} should be a dataset but is a group`);
      return tensor(file, dataset, weightName);
    });
    return { name, weights };
  });
}

/**
 * Keras 3 layout: every group below `layers/` holding a `vars` group with datasets `0`, `1`, … is one
 * layer, named by its path below `layers/`. Groups are visited once, so cyclic hard links cannot loop.
 */
function readKeras3Layers(file: FileBytes, layers: Group): LayerWeights[] {
  const result: LayerWeights[] = [];
  const visited = new Map<number, string>();
  const visit = (group: Group, path: string): void => {
    const address = group._dataobjects.offset;
    const seen = visited.get(address);
    if (seen !== undefined) problem(`${group.name} links back to ${seen}, which was already read`);
    visited.set(address, group.name);
    for (const key of within(group.name, () => group.keys)) {
      const child = lookUp(group, key);
      if (!(child instanceof Group)) continue;
      if (key === 'vars' && path !== '') {
        const weights = readVars(file, child);
        if (weights.length > 0) result.push({ name: path, weights });
      } else {
        visit(child, path === '' ? key : `${path}/${key}`);
      }
    }
  };
  visit(layers, '');
  return result;
}

function readVars(file: FileBytes, vars: Group): WeightTensor[] {
  const keys = within(vars.name, () => vars.keys);
  const indices = keys.map((key) => (/^(0|[1-9]\d*)$/.test(key) ? Number(key) : Number.NaN)).sort((a, b) => a - b);
  if (indices.some((index, i) => index !== i)) {
    problem(`${vars.name} should hold datasets 0, 1, 2, …, but holds ${keys.map((k) => JSON.stringify(k)).join(', ')}`);
  }
  return indices.map((index) => {
    const dataset = lookUp(vars, String(index));
    if (!(dataset instanceof Dataset)) problem(`${dataset.name} should be a dataset but is a group`);
    return tensor(file, dataset, `vars/${index}`);
  });
}

/** Scalar string attributes of the root, such as keras_version and backend. */
function rootAttributes(root: Group): Record<string, string> {
  const attrs = within('the root attributes', () => root.attrs);
  return Object.fromEntries(
    Object.entries(attrs).flatMap(([name, value]) => (typeof value === 'string' ? [[name, cutAtNul(value)]] : [])),
  );
}

function readStructure(file: FileBytes, root: File): WeightsFile {
  const attributes = rootAttributes(root);
  const keys = within('the root group', () => root.keys);
  const layerNames = stringList(root, 'layer_names');
  if (layerNames) return { format: 'legacy', attributes, layers: readLegacyLayers(file, root, layerNames) };
  if (keys.includes('model_weights')) {
    const base = lookUp(root, 'model_weights');
    if (!(base instanceof Group)) problem('/model_weights is a dataset, not a group');
    const names = stringList(base, 'layer_names') ?? problem('group /model_weights has no layer_names attribute');
    return { format: 'full-model', attributes, layers: readLegacyLayers(file, base, names) };
  }
  if (keys.includes('layers')) {
    const layers = lookUp(root, 'layers');
    if (!(layers instanceof Group)) problem('/layers is a dataset, not a group');
    return { format: 'keras3', attributes, layers: readKeras3Layers(file, layers) };
  }
  const list = (items: string[]): string => (items.length ? items.join(', ') : 'none');
  problem(
    'it is not a Keras weights file: expected a root attribute layer_names (Keras 2 weights), a group ' +
      'model_weights (a whole model saved to .h5) or a group layers (Keras 3 .weights.h5); the root has ' +
      `members: ${list(keys)}; attributes: ${list(Object.keys(within('the root attributes', () => root.attrs)))}`,
  );
}

/** The bytes from the superblock on, as one ArrayBuffer jsfive can read (no copy when that is possible). */
function hdf5Bytes(bytes: Uint8Array): FileBytes {
  const reason = hdf5Problem(bytes.subarray(0, SUPERBLOCK_HEADER_BYTES), bytes.byteLength);
  if (reason) problem(reason);
  // jsfive expects the superblock at offset 0 of an ArrayBuffer; HDF5 addresses count from the superblock.
  const start = parseSuperblock(bytes.subarray(0, SUPERBLOCK_HEADER_BYTES))!.offset;
  if (start === 0 && bytes.byteOffset === 0 && bytes.buffer instanceof ArrayBuffer) {
    return fileBytes(bytes.buffer, bytes.byteLength);
  }
  const copy = bytes.slice(start);
  return fileBytes(copy.buffer, copy.byteLength);
}

/**
 * Parses a Keras weights file: the legacy weights-only layout (Keras 2, the official
 * keras.applications files), a whole model saved to .h5, or a Keras 3 `.weights.h5`.
 * Contiguous float32 weights are views of the file's buffer, not copies.
 * `source` (a path or URL) only appears in error messages.
 * @throws WeightsFileError when the data are not HDF5, truncated, corrupt or in no known layout.
 */
export function readWeights(bytes: Uint8Array | ArrayBuffer, source?: string): WeightsFile {
  try {
    const file = hdf5Bytes(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    const root = within('the HDF5 superblock or root group', () => new File(file.buffer, source));
    return readStructure(file, root);
  } catch (err) {
    const detail = err instanceof H5Problem ? err.message : `the HDF5 parser failed (${describe(err)})`;
    throw new WeightsFileError(`Cannot read ${source === undefined ? 'weights data' : `weights file ${source}`}: ${detail}`);
  }
}

/** Reads the whole file into one ArrayBuffer; fs.readFile refuses files over 2 GiB. */
async function readWhole(path: string): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  const handle = await fs.open(path, 'r');
  try {
    const { size } = await handle.stat();
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await handle.read(bytes, at, Math.min(READ_CHUNK_BYTES, size - at), at);
      if (bytesRead === 0) throw new Error(`the file ended after ${at} of ${size} bytes while reading it`);
      at += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/** `readWeights` on a file on disk (Node only). */
export async function readWeightsFile(path: string): Promise<WeightsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readWhole(path);
  } catch (err) {
    throw new WeightsFileError(`Cannot read weights file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return readWeights(bytes, path);
}
