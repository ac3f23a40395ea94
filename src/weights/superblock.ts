// Reads just enough of an HDF5 superblock to know the file's signature and its recorded length.
// No tfjs and no jsfive here: the downloader uses it to reject truncated files cheaply.

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** HDF5 looks for the superblock at 0, 512, 1024, 2048, … (a user block may precede it). */
const SEARCH_OFFSETS = [0, 512, 1024, 2048, 4096, 8192];

export interface Superblock {
  /** Where the superblock starts in the file. */
  offset: number;
  version: number;
  /** The file length the superblock records (base address + end-of-file address). */
  recordedLength: number;
}

function readUint(view: DataView, at: number, size: number): number {
  if (size === 8) {
    const value = view.getBigUint64(at, true);
    // The "undefined address" (all ones) and anything beyond 2^53 cannot be a real length.
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(value);
  }
  if (size === 4) return view.getUint32(at, true);
  if (size === 2) return view.getUint16(at, true);
  return Number.NaN;
}

/** Returns the superblock found in `header` (the first bytes of a file), or undefined when it is not HDF5. */
export function parseSuperblock(header: Uint8Array): Superblock | undefined {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  for (const offset of SEARCH_OFFSETS) {
    if (offset + 64 > header.byteLength) break;
    if (!SIGNATURE.every((byte, i) => header[offset + i] === byte)) continue;
    const version = header[offset + 8]!;
    let sizeOfOffsets: number;
    let addressesAt: number;
    if (version === 0 || version === 1) {
      sizeOfOffsets = header[offset + 13]!;
      addressesAt = offset + (version === 0 ? 24 : 28);
    } else if (version === 2 || version === 3) {
      sizeOfOffsets = header[offset + 9]!;
      addressesAt = offset + 12;
    } else {
      return undefined;
    }
    // Addresses: base, (free-space | superblock extension), end-of-file, …
    const base = readUint(view, addressesAt, sizeOfOffsets);
    const endOfFile = readUint(view, addressesAt + 2 * sizeOfOffsets, sizeOfOffsets);
    const recordedLength = base + endOfFile;
    if (!Number.isFinite(recordedLength)) return undefined;
    return { offset, version, recordedLength };
  }
  return undefined;
}

/** Bytes to read from the start of a file so that `parseSuperblock` can find the superblock. */
export const SUPERBLOCK_HEADER_BYTES = SEARCH_OFFSETS[SEARCH_OFFSETS.length - 1]! + 64;

/**
 * Why `header` (the first bytes) of a file of `fileLength` bytes is not a complete HDF5 file,
 * or undefined when it looks whole.
 */
export function hdf5Problem(header: Uint8Array, fileLength: number): string | undefined {
  const superblock = parseSuperblock(header);
  if (!superblock) {
    const start = Array.from(header.subarray(0, 8), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    return `it is not an HDF5 file (it starts with "${start}", not the HDF5 signature)`;
  }
  if (fileLength < superblock.recordedLength) {
    return `it is truncated: ${fileLength} bytes, but its HDF5 superblock records ${superblock.recordedLength}`;
  }
  return undefined;
}

/** `hdf5Problem` for an open file: reads its first bytes and its size (Node). */
export async function hdf5HandleProblem(handle: import('node:fs/promises').FileHandle): Promise<string | undefined> {
  const { size } = await handle.stat();
  const header = new Uint8Array(SUPERBLOCK_HEADER_BYTES);
  const { bytesRead } = await handle.read(header, 0, header.byteLength, 0);
  return hdf5Problem(header.subarray(0, bytesRead), size);
}
