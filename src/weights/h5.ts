// Reads Keras weights files (HDF5) into the layout-independent WeightsFile of ./types.ts.
// jsfive parses the HDF5 structure; ./h5-data.ts reads the datasets' values; ./hdf5-checksums.ts first
// verifies the checksums the file carries, which jsfive ignores.

import { Dataset, File, Group } from 'jsfive';
import { WeightsFileError } from '../errors.js';
import { readRegularFileAndStats } from '../files.js';
import { type Attribute, STRING_CLASSES, listAttributes } from './h5-attributes.js';
import { FileBytes, H5Problem, describe, fileBytes, problem, readDataset, within } from './h5-data.js';
import { verifyChecksums } from './hdf5-checksums.js';
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
function stringList(file: FileBytes, group: Group, name: string): string[] | undefined {
  const found = new Map(within(`attributes of ${group.name}`, () => listAttributes(file, group)).map((a) => [a.name, a]));
  const parts: Attribute[] = [];
  if (found.has(name)) parts.push(found.get(name)!);
  else for (let i = 0; found.has(`${name}${i}`); i++) parts.push(found.get(`${name}${i}`)!);
  if (parts.length === 0) return undefined;
  return parts.flatMap((part) => {
    const value = within(`attribute ${part.name} of ${group.name}`, () => part.read());
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      problem(`attribute ${part.name} of ${group.name} is not a list of strings`);
    }
    return value.map(cutAtNul);
  });
}

// Header messages that make an object a group (HDF5 spec IV.A.2): link info, link, symbol table.
const GROUP_MESSAGES = new Set([2, 6, 17]);
const SYMBOL_TABLE_MESSAGE = 17;

function tagAt(file: FileBytes, address: bigint): string {
  const at = Number(address);
  return at + 4 <= file.length ? String.fromCharCode(...file.u8.subarray(at, at + 4)) : '';
}

/**
 * Checks what jsfive takes on trust: it reads any object without a dataspace as a group, and follows a
 * symbol table's B-tree address without checking the node's signature, so a corrupt header or address
 * would read as an empty group.
 */
function checkGroup(file: FileBytes, group: Group): void {
  const objects = group._dataobjects;
  if (!objects.msgs.some((m) => GROUP_MESSAGES.has(m.get('type')!))) {
    problem(`${group.name} is neither a dataset nor a group (its object header is corrupt)`);
  }
  for (const message of objects.find_msg_type(SYMBOL_TABLE_MESSAGE)) {
    const at = message.get('offset_to_message')!;
    const [tree, heap] = [file.view.getBigUint64(at, true), file.view.getBigUint64(at + 8, true)];
    if (tagAt(file, tree) !== 'TREE' || tagAt(file, heap) !== 'HEAP') {
      problem(`the symbol table of group ${group.name} points to no B-tree or heap (its object header is corrupt)`);
    }
  }
}

/** The object at `path` below `group`, or a problem naming what is missing. */
function lookUp(file: FileBytes, group: Group, path: string): Group | Dataset {
  let object: Group | Dataset = group;
  for (const part of path.split('/').filter((p) => p !== '')) {
    const here: string = object.name;
    if (!(object instanceof Group)) problem(`${here} is a dataset, not a group`);
    const parent: Group = object;
    const next = within(here, () => (parent.keys.includes(part) ? parent.get(part) : undefined));
    if (next === undefined) problem(`${here} has no member ${JSON.stringify(part)}`);
    if (next === null) problem(`${here}/${part} is a soft link to nothing`);
    if (next instanceof Group) checkGroup(file, next);
    object = next;
  }
  return object;
}

/** Members of `group` with their objects, in the file's order. */
function members(file: FileBytes, group: Group): [string, Group | Dataset][] {
  return within(group.name, () => group.keys).map((key) => [key, lookUp(file, group, key)]);
}

/** The datasets below `group` by path relative to it, each object once (hard links can form cycles). */
function datasetsBelow(
  file: FileBytes,
  group: Group,
  prefix = '',
  visited = new Set([group._dataobjects.offset]),
  found = new Map<string, Dataset>(),
): Map<string, Dataset> {
  for (const [key, child] of members(file, group)) {
    if (visited.has(child._dataobjects.offset)) continue;
    visited.add(child._dataobjects.offset);
    if (child instanceof Group) datasetsBelow(file, child, `${prefix}${key}/`, visited, found);
    else found.set(`${prefix}${key}`, child);
  }
  return found;
}

function tensor(file: FileBytes, dataset: Dataset, name: string): WeightTensor {
  return { name, ...within(`dataset ${dataset.name}`, () => readDataset(file, dataset)) };
}

/**
 * Legacy layout: `layer_names` on `base`, `weight_names` on each layer's group, datasets below it.
 * Keras writes exactly the listed datasets into a layer's group, so an unlisted one means a corrupt
 * attribute (one that lost names).
 */
function readLegacyLayers(file: FileBytes, base: Group, layerNames: string[]): LayerWeights[] {
  if (layerNames.length === 0) problem(`the layer_names attribute of ${base.name} lists no layers`);
  const twice = layerNames.find((name, i) => layerNames.indexOf(name) !== i);
  // Keras keeps layer names unique; a repeat means a corrupt reference (e.g. into the global heap).
  if (twice !== undefined) problem(`the layer_names attribute of ${base.name} lists ${twice} twice`);
  return layerNames.map((name) => {
    if (name === '') problem(`${base.name} lists an empty layer name`);
    const layer = lookUp(file, base, name);
    if (!(layer instanceof Group)) problem(`${layer.name} should be a layer's group but is a dataset`);
    const weightNames =
      stringList(file, layer, 'weight_names') ?? problem(`group ${layer.name} has no weight_names attribute`);
    const stored = datasetsBelow(file, layer);
    const weights = weightNames.map((weightName) => {
      const dataset =
        stored.get(weightName) ?? problem(`group ${layer.name} has no dataset ${weightName}, which its weight_names lists`);
      return tensor(file, dataset, weightName);
    });
    if (stored.size !== new Set(weightNames).size) {
      const unlisted = [...stored.keys()].filter((path) => !weightNames.includes(path));
      problem(`group ${layer.name} holds datasets its weight_names attribute does not list: ${unlisted.join(', ')}`);
    }
    return { name, weights };
  });
}

/**
 * Keras 3 layout: every group below `layers/` holding a `vars` group with datasets `0`, `1`, … is one
 * layer, named by its path below `layers/`. Keras gives every layer a `vars` group (empty when it has
 * no weights) and nests sub-layers in groups, so any other member means a corrupt file. Groups are
 * visited once, so cyclic hard links cannot loop.
 */
function readKeras3Layers(file: FileBytes, layers: Group): LayerWeights[] {
  const result: LayerWeights[] = [];
  const visited = new Map<number, string>();
  const visit = (group: Group, path: string): void => {
    const address = group._dataobjects.offset;
    const seen = visited.get(address);
    if (seen !== undefined) problem(`${group.name} links back to ${seen}, which was already read`);
    visited.set(address, group.name);
    const children = members(file, group);
    if (children.length === 0) problem(`group ${group.name} is empty: a layer's group holds at least a vars group`);
    for (const [key, child] of children) {
      if (!(child instanceof Group)) problem(`${child.name} is a dataset; Keras keeps weights in vars groups`);
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
  const byKey = new Map(members(file, vars));
  const keys = Array.from(byKey.keys(), (_, i) => String(i));
  if (!keys.every((key) => byKey.has(key))) {
    const found = Array.from(byKey.keys(), (k) => JSON.stringify(k)).join(', ');
    problem(`${vars.name} should hold datasets 0, 1, 2, …, but holds ${found}`);
  }
  return keys.map((key) => {
    const dataset = byKey.get(key)!;
    if (!(dataset instanceof Dataset)) problem(`${dataset.name} should be a dataset but is a group`);
    return tensor(file, dataset, `vars/${key}`);
  });
}

/** Scalar string attributes of the root, such as keras_version and backend. */
function rootAttributes(file: FileBytes, root: Group): Record<string, string> {
  const strings = listAttributes(file, root).filter((a) => STRING_CLASSES.has(a.typeClass));
  return Object.fromEntries(
    strings.flatMap((a) => {
      const value = within(`attribute ${a.name} of /`, () => a.read());
      return typeof value === 'string' ? [[a.name, cutAtNul(value)]] : [];
    }),
  );
}

function readStructure(file: FileBytes, root: File): WeightsFile {
  const attributes = rootAttributes(file, root);
  const keys = within('the root group', () => root.keys);
  const layerNames = stringList(file, root, 'layer_names');
  if (layerNames) return { format: 'legacy', attributes, layers: readLegacyLayers(file, root, layerNames) };
  if (keys.includes('model_weights')) {
    const base = lookUp(file, root, 'model_weights');
    if (!(base instanceof Group)) problem('/model_weights is a dataset, not a group');
    const names = stringList(file, base, 'layer_names') ?? problem('group /model_weights has no layer_names attribute');
    return { format: 'full-model', attributes, layers: readLegacyLayers(file, base, names) };
  }
  if (keys.includes('layers')) {
    const layers = lookUp(file, root, 'layers');
    if (!(layers instanceof Group)) problem('/layers is a dataset, not a group');
    return { format: 'keras3', attributes, layers: readKeras3Layers(file, layers) };
  }
  const list = (items: string[]): string => (items.length ? items.join(', ') : 'none');
  problem(
    'it is not a Keras weights file: expected a root attribute layer_names (Keras 2 weights), a group ' +
      'model_weights (a whole model saved to .h5) or a group layers (Keras 3 .weights.h5); the root has ' +
      `members: ${list(keys)}; attributes: ${list(listAttributes(file, root).map((a) => a.name))}`,
  );
}

/**
 * The bytes from the superblock on, as one ArrayBuffer jsfive can read (no copy when that is possible); an H5Problem
 * for data that are not HDF5 or are shorter than the superblock says. Shared with loadFeatures.
 */
export function hdf5Bytes(bytes: Uint8Array): FileBytes {
  const reason = hdf5Problem(bytes.subarray(0, SUPERBLOCK_HEADER_BYTES), bytes.byteLength);
  if (reason) problem(reason);
  // jsfive expects the superblock at offset 0 of an ArrayBuffer; HDF5 addresses count from the superblock.
  const start = parseSuperblock(bytes.subarray(0, SUPERBLOCK_HEADER_BYTES))!.offset;
  if (start === 0 && bytes.byteOffset === 0 && bytes.buffer instanceof ArrayBuffer) {
    return fileBytes(bytes.buffer, bytes.byteLength);
  }
  // Not bytes.slice(): on a Node Buffer that is a view, not a copy.
  const copy = new Uint8Array(bytes.subarray(start));
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
    verifyChecksums(file);
    const root = within('the HDF5 superblock or root group', () => new File(file.buffer, source));
    checkGroup(file, root);
    return readStructure(file, root);
  } catch (err) {
    const detail = err instanceof H5Problem ? err.message : `the HDF5 parser failed (${describe(err)})`;
    throw new WeightsFileError(`Cannot read ${source === undefined ? 'weights data' : `weights file ${source}`}: ${detail}`);
  }
}

/** The whole file at `path` (only a regular file: a FIFO or device would hang), or a WeightsFileError saying why not. */
function readFileBytes(path: string): ReturnType<typeof readRegularFileAndStats> {
  return readRegularFileAndStats(path, { maxBytes: null, fail: (why) => new WeightsFileError(`Cannot read weights file ${path}: ${why}`) });
}

/** `readWeights` on a file on disk (Node only). */
export async function readWeightsFile(path: string): Promise<WeightsFile> {
  return readWeights((await readFileBytes(path)).bytes, path);
}

/** What identifies the file a deferred weight must be read from again: a replaced or rewritten file differs. */
type FileIdentity = Pick<import('node:fs').Stats, 'ino' | 'size' | 'mtimeMs'>;

/** Fills `target` with the bytes of the file at `path` from `position` on, if it is still the file that was parsed. */
function readRange(fs: typeof import('node:fs'), path: string, parsed: FileIdentity, position: number, target: Uint8Array): void {
  const fd = fs.openSync(path, 'r');
  try {
    const now = fs.fstatSync(fd);
    if (now.ino !== parsed.ino || now.size !== parsed.size || now.mtimeMs !== parsed.mtimeMs) {
      throw new WeightsFileError(`Cannot read weights file ${path}: it was replaced or changed while it was being loaded`);
    }
    for (let at = 0; at < target.byteLength; ) {
      const length = Math.min(READ_CHUNK_BYTES, target.byteLength - at);
      const bytesRead = fs.readSync(fd, target, at, length, position + at);
      if (bytesRead === 0) throw new WeightsFileError(`Cannot read weights file ${path}: it became shorter after it was read`);
      at += bytesRead;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A weight that reads its values from where `view` lies in the file. A function of its own: closures
 * made beside the file's buffer would keep that buffer alive.
 */
function deferredTensor(fs: typeof import('node:fs'), path: string, parsed: FileIdentity, { name, shape, data: view }: WeightTensor): WeightTensor {
  const { byteOffset, byteLength } = view;
  const readInto = (target: Uint8Array): void => readRange(fs, path, parsed, byteOffset, target);
  return {
    name,
    shape,
    readInto,
    get data() {
      const values = new Float32Array(byteLength / Float32Array.BYTES_PER_ELEMENT);
      readInto(new Uint8Array(values.buffer));
      return values;
    },
  };
}

/** Parses the file and defers the weights that are views of its buffer, so that nothing refers to it after. */
async function readDeferred(fs: typeof import('node:fs'), path: string): Promise<WeightsFile> {
  const { bytes, stats } = await readFileBytes(path);
  const { ino, size, mtimeMs } = stats;
  const parsed = readWeights(bytes, path);
  // Copies (chunked, unaligned or converted data, a file with a user block) hold no part of the buffer.
  const defer = (weight: WeightTensor): WeightTensor =>
    weight.data.buffer === bytes.buffer ? deferredTensor(fs, path, { ino, size, mtimeMs }, weight) : weight;
  return { ...parsed, layers: parsed.layers.map((layer) => ({ ...layer, weights: layer.weights.map(defer) })) };
}

/** A full garbage collection; Node offers none without --expose-gc, so it is exposed for the call (as jest does). */
async function collectGarbage(): Promise<void> {
  const [v8, vm] = await Promise.all([import('node:v8'), import('node:vm')]);
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  v8.setFlagsFromString('--no-expose-gc');
  gc();
}

/**
 * `readWeightsFile` for a backend that copies weights into memory of its own (wasm): the weights that are
 * views of the file's buffer keep only where they lie in the file, so that buffer is freed once parsed,
 * before the backend's copies exist. Their `data` and `readInto` read them from the file again.
 */
export async function readWeightsFileDeferred(path: string): Promise<WeightsFile> {
  const file = await readDeferred(await import('node:fs'), path);
  // V8 would free the unreachable buffer only at its next full collection, usually after the backend has
  // filled its memory: both would be resident at once.
  await collectGarbage();
  return file;
}
