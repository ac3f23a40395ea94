// Verifies downloaded weight files: md5 or sha256 by Keras's hash_algorithm='auto' rule, and, for HDF5 files
// Keras publishes without a hash, the length the superblock records. Works in browsers too (bytes), and
// on files in Node, read in chunks so that large files are never whole in memory.

import { hdf5HandleProblem, hdf5Problem, SUPERBLOCK_HEADER_BYTES } from './superblock';

type HashAlgorithm = 'md5' | 'sha256';

/** Keras's hash_algorithm='auto': 64 hex digits is sha256, anything else md5. */
export function hashAlgorithm(hash: string): HashAlgorithm {
  return hash.length === 64 ? 'sha256' : 'md5';
}

function hashProblem(algorithm: HashAlgorithm, actual: string, expected: string): string | undefined {
  if (actual === expected.toLowerCase()) return undefined;
  return `its ${algorithm} is ${actual}, but ${expected} was expected`;
}

/** Keras publishes some files (MobileNet) without a hash; for HDF5 we can still catch truncation. */
function needsHdf5Check(name: string, hash: string | null): boolean {
  return !hash && /\.(h5|hdf5)$/i.test(name);
}

/**
 * Why the file at `file` (named `name`) is not a good copy, or undefined when it is. Node only; what the
 * file system throws (a missing file, say) is left to the caller.
 */
export async function fileProblem(file: string, name: string, hash: string | null): Promise<string | undefined> {
  if (hash) return hashProblem(hashAlgorithm(hash), await hashFile(file, hashAlgorithm(hash)), hash);
  if (needsHdf5Check(name, hash)) return hdf5FileProblem(file);
  const fs = await import('node:fs/promises');
  await fs.access(file);
  return undefined;
}

async function hdf5FileProblem(file: string): Promise<string | undefined> {
  const fs = await import('node:fs/promises');
  const handle = await fs.open(file, 'r');
  try {
    return await hdf5HandleProblem(handle);
  } finally {
    await handle.close();
  }
}

async function hashFile(file: string, algorithm: HashAlgorithm): Promise<string> {
  const { createHash } = await import('node:crypto');
  const { createReadStream } = await import('node:fs');
  const hasher = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hasher.update(chunk as Uint8Array);
  return hasher.digest('hex');
}

/** Why `bytes`, downloaded as `name`, are not a good copy, or undefined when they are. */
export async function bytesProblem(bytes: Uint8Array<ArrayBuffer>, name: string, hash: string | null): Promise<string | undefined> {
  if (hash) return hashProblem(hashAlgorithm(hash), await hashBytes(bytes, hashAlgorithm(hash)), hash);
  if (needsHdf5Check(name, hash)) return hdf5Problem(bytes.subarray(0, SUPERBLOCK_HEADER_BYTES), bytes.byteLength);
  return undefined;
}

/** Works in browsers too: WebCrypto for sha256, and our own md5, which WebCrypto lacks. */
async function hashBytes(bytes: Uint8Array<ArrayBuffer>, algorithm: HashAlgorithm): Promise<string> {
  if (algorithm === 'md5') return md5Hex(bytes);
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---- MD5 (RFC 1321) -----------------------------------------------------------------------

const MD5_SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const MD5_CONSTANTS = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);

function md5Hex(bytes: Uint8Array): string {
  const state = new Int32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
  const fullBlocks = bytes.byteLength - (bytes.byteLength % 64);
  md5Blocks(state, new DataView(bytes.buffer, bytes.byteOffset, fullBlocks));
  // Only the tail is copied for padding, so large files are not duplicated in memory.
  const tail = new Uint8Array(bytes.byteLength % 64 < 56 ? 64 : 128);
  tail.set(bytes.subarray(fullBlocks));
  tail[bytes.byteLength % 64] = 0x80;
  const tailView = new DataView(tail.buffer);
  const bits = bytes.byteLength * 8;
  tailView.setUint32(tail.length - 8, bits >>> 0, true);
  tailView.setUint32(tail.length - 4, Math.floor(bits / 2 ** 32), true);
  md5Blocks(state, tailView);
  const digest = new DataView(new ArrayBuffer(16));
  state.forEach((word, i) => digest.setInt32(4 * i, word, true));
  return toHex(new Uint8Array(digest.buffer));
}

function md5Blocks(state: Int32Array, view: DataView): void {
  for (let block = 0; block < view.byteLength; block += 64) {
    let a = state[0]!;
    let b = state[1]!;
    let c = state[2]!;
    let d = state[3]!;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let word: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        word = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        word = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b ^ c ^ d;
        word = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d);
        word = (7 * i) % 16;
      }
      const sum = (a + f + MD5_CONSTANTS[i]! + view.getInt32(block + 4 * word, true)) | 0;
      const shift = MD5_SHIFTS[(i >> 4) * 4 + (i & 3)]!;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
    }
    // Int32Array stores wrap modulo 2^32, as MD5 wants.
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
  }
}
