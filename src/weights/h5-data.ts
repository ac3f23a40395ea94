// Reads one HDF5 dataset of a weights file into float32. Contiguous little-endian float32 data (what
// Keras and h5py write by default) becomes a zero-copy view of the file's buffer; jsfive's own decoder
// (one JS number per element) is only used for chunked data, where decompression is needed anyway.

import type { Dataset } from 'jsfive';

/** A problem found in the file, phrased without the file's name (readWeights adds it). */
export class H5Problem extends Error {}

export function problem(message: string): never {
  throw new H5Problem(message);
}

/** Text of anything jsfive throws: it throws strings as well as Errors. */
export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Runs `read` and prefixes any problem with `what`. Whatever else it throws becomes an H5Problem too:
 * on corrupt input jsfive fails with TypeErrors, RangeErrors and thrown strings, not explanations.
 */
export function within<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof H5Problem) problem(`${what}: ${err.message}`);
    problem(`${what}: corrupt, or uses an HDF5 feature this reader does not support (${describe(err)})`);
  }
}

/** The whole file and views of it. */
export interface FileBytes {
  buffer: ArrayBuffer;
  /** The file's length; `buffer` may be longer. */
  length: number;
  u8: Uint8Array;
  view: DataView;
}

export function fileBytes(buffer: ArrayBuffer, length: number): FileBytes {
  return { buffer, length, u8: new Uint8Array(buffer, 0, length), view: new DataView(buffer, 0, length) };
}

interface NumericType {
  /** jsfive's type string, e.g. `<f4`. */
  name: string;
  size: number;
  littleEndian: boolean;
  get: (view: DataView, at: number, littleEndian: boolean) => number;
}

const GETTERS: Record<string, NumericType['get']> = {
  f2: (v, at, le) => float16(v.getUint16(at, le)),
  f4: (v, at, le) => v.getFloat32(at, le),
  f8: (v, at, le) => v.getFloat64(at, le),
  i1: (v, at) => v.getInt8(at),
  i2: (v, at, le) => v.getInt16(at, le),
  i4: (v, at, le) => v.getInt32(at, le),
  i8: (v, at, le) => Number(v.getBigInt64(at, le)),
  u1: (v, at) => v.getUint8(at),
  u2: (v, at, le) => v.getUint16(at, le),
  u4: (v, at, le) => v.getUint32(at, le),
  u8: (v, at, le) => Number(v.getBigUint64(at, le)),
};

function float16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function numericType(dtype: unknown): NumericType {
  const match = typeof dtype === 'string' ? /^([<>])([fiu]\d)$/.exec(dtype) : null;
  const get = match ? GETTERS[match[2]!] : undefined;
  if (!match || !get) problem(`element type ${JSON.stringify(dtype)} is not a number type`);
  return { name: dtype as string, size: Number(match[2]!.slice(1)), littleEndian: match[1] === '<', get };
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** What readU64 returns for HDF5's "undefined address" (storage never allocated) and for sizes past 2^53. */
const UNDEFINED = Number.MAX_SAFE_INTEGER + 1;
/** HDF5 allows at most 32 dimensions. */
const MAX_RANK = 32;
/** DEFLATE compresses by at most about 1032:1, so gzip-filtered data cannot unpack to more. */
const MAX_DEFLATE_RATIO = 1032;
/** HDF5 limits a chunk to 4 GiB. */
const MAX_CHUNK_BYTES = 2 ** 32 - 1;
const FILTER_NAMES: Record<number, string> = { 1: 'gzip', 2: 'shuffle', 3: 'fletcher32' };

// Header message types (HDF5 spec IV.A.2).
const DATASPACE = 1;
const LAYOUT = 8;

function readU64(file: FileBytes, at: number): number {
  const value = file.view.getBigUint64(at, true);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? UNDEFINED : Number(value);
}

/** Where the dataset's header message of `type` starts, and its size. */
function findMessage(dataset: Dataset, type: number, what: string): { at: number; size: number } {
  const message = dataset._dataobjects.find_msg_type(type)[0];
  if (!message) problem(`has no ${what} message`);
  return { at: message.get('offset_to_message')!, size: message.get('size')! };
}

/**
 * The dimensions in the dataspace message at `at` of `size` bytes, read as 64-bit sizes (jsfive keeps
 * only 32 bits); null for a null dataspace (no elements). The size must fit the rank exactly, up to
 * alignment padding: jsfive reads whatever follows the dimensions as more dimensions.
 */
export function readDataspace(file: FileBytes, at: number, size: number): number[] | null {
  const version = file.view.getUint8(at);
  const rank = file.view.getUint8(at + 1);
  const hasMaxima = (file.view.getUint8(at + 2) & 1) === 1;
  if (version !== 1 && version !== 2) problem(`dataspace message has unknown version ${version}`);
  if (version === 2 && file.view.getUint8(at + 3) === 2) return null;
  if (rank > MAX_RANK) problem(`dataspace has ${rank} dimensions (HDF5 allows ${MAX_RANK})`);
  const dimsAt = at + (version === 1 ? 8 : 4);
  const expected = dimsAt - at + rank * 8 * (hasMaxima ? 2 : 1);
  if (size < expected || size >= expected + 8) {
    problem(`dataspace message of ${size} bytes does not fit its ${rank} dimensions (corrupt)`);
  }
  const shape = Array.from({ length: rank }, (_, i) => readU64(file, dimsAt + 8 * i));
  if (shape.some((d) => d === UNDEFINED)) problem(`dataspace has an impossible dimension`);
  if (hasMaxima && shape.some((d, i) => d > readU64(file, dimsAt + 8 * (rank + i)))) {
    problem(`dataspace dimensions [${shape.join(', ')}] exceed their maxima (corrupt)`);
  }
  return shape;
}

function readShape(file: FileBytes, dataset: Dataset): number[] {
  const { at, size } = findMessage(dataset, DATASPACE, 'dataspace');
  return readDataspace(file, at, size) ?? problem('has a null dataspace (no elements)');
}

type Layout =
  | { kind: 'stored'; address: number; byteLength: number | undefined }
  | { kind: 'chunked' };

/** Where the data lies, from the data layout message (HDF5 spec IV.A.2.i). */
function readLayout(file: FileBytes, dataset: Dataset): Layout {
  const { at } = findMessage(dataset, LAYOUT, 'data layout');
  const version = file.view.getUint8(at);
  if (version === 1 || version === 2) {
    const layoutClass = file.view.getUint8(at + 2);
    if (layoutClass === 1) return { kind: 'stored', address: readU64(file, at + 8), byteLength: undefined };
    if (layoutClass === 2) return { kind: 'chunked' };
    problem(`data layout (version ${version}, class ${layoutClass}) is not supported`);
  }
  const layoutClass = file.view.getUint8(at + 1);
  if (version === 3 || version === 4) {
    if (layoutClass === 0) return { kind: 'stored', address: at + 4, byteLength: file.view.getUint16(at + 2, true) };
    if (layoutClass === 1) return { kind: 'stored', address: readU64(file, at + 2), byteLength: readU64(file, at + 10) };
    if (layoutClass === 2 && version === 3) return { kind: 'chunked' };
  }
  // Versions 4 (HDF5 1.10+) and 5 (HDF5 2.0) come from h5py's libver='latest'; jsfive reads neither's chunks.
  if ((version === 4 && layoutClass === 2) || version === 5) {
    problem(
      `uses data layout version ${version} (HDF5 1.10+ with libver='latest'), which jsfive cannot read; ` +
        "re-save the weights with h5py's default libver",
    );
  }
  if (version === 3 || version === 4) problem(`data layout (version ${version}, class ${layoutClass}) is not supported`);
  problem(`data layout message has version ${version}, which this reader does not know`);
}

function decodeStored(file: FileBytes, address: number, count: number, type: NumericType): Float32Array {
  if (type.name === '<f4' && HOST_LITTLE_ENDIAN) {
    // A view needs 4-byte alignment; otherwise copy just this dataset.
    return address % 4 === 0
      ? new Float32Array(file.buffer, address, count)
      : new Float32Array(file.buffer.slice(address, address + count * 4));
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = type.get(file.view, address + i * type.size, type.littleEndian);
  return out;
}

/** Chunked data through jsfive, after checks that keep corrupt sizes from running it for ages. */
function decodeChunked(file: FileBytes, dataset: Dataset, shape: number[], count: number, type: NumericType): Float32Array {
  const objects = dataset._dataobjects;
  const filters = (objects.filter_pipeline ?? []).map((filter) => Number(filter.get('filter_id')));
  const unknown = filters.find((id) => !(id in FILTER_NAMES));
  if (unknown !== undefined) {
    problem(`uses HDF5 filter ${unknown}; only ${Object.values(FILTER_NAMES).join(', ')} are supported`);
  }
  const byteLength = count * type.size;
  const maxBytes = filters.includes(1) ? file.length * MAX_DEFLATE_RATIO : file.length;
  if (byteLength > maxBytes) problem(`shape needs ${byteLength} bytes, more than this file can hold`);
  const chunks = objects.chunks;
  if (!chunks || chunks.length !== shape.length || chunks.some((c) => !(c >= 1))) {
    problem(`chunk shape ${JSON.stringify(chunks)} does not fit its shape [${shape.join(', ')}]`);
  }
  if (chunks.reduce((a, b) => a * b, type.size) > MAX_CHUNK_BYTES) problem('chunks are larger than HDF5 allows');
  const values = dataset.value;
  if (!Array.isArray(values) || values.length !== count) problem('chunks do not add up to the shape');
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const value: unknown = values[i];
    if (typeof value !== 'number') problem('some chunks are missing');
    out[i] = value;
  }
  return out;
}

/** The dataset's shape and values as float32. Problems are phrased without the dataset's name. */
export function readDataset(file: FileBytes, dataset: Dataset): { shape: number[]; data: Float32Array } {
  const shape = readShape(file, dataset);
  const count = shape.reduce((a, b) => a * b, 1);
  const type = numericType(dataset._dataobjects.dtype);
  const byteLength = count * type.size;
  if (!Number.isSafeInteger(byteLength)) problem(`shape [${shape.join(', ')}] is impossibly large`);
  const layout = readLayout(file, dataset);
  if (layout.kind === 'chunked') return { shape, data: decodeChunked(file, dataset, shape, count, type) };
  const { address } = layout;
  if (address === UNDEFINED) problem('data was never written (no storage allocated)');
  if (layout.byteLength !== undefined && layout.byteLength !== byteLength) {
    problem(`stores ${layout.byteLength} bytes, but shape [${shape.join(', ')}] of ${type.name} needs ${byteLength}`);
  }
  if (address + byteLength > file.length) {
    problem(`data (bytes ${address} to ${address + byteLength}) lies beyond the end of the file (${file.length} bytes)`);
  }
  return { shape, data: decodeStored(file, address, count, type) };
}
