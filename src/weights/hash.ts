// Verifies downloaded weight files: md5 or sha256 by Keras's hash_algorithm='auto' rule, and, for HDF5 files
// Keras publishes without a hash, the length the superblock records. Works in browsers too (bytes), and
// on files in Node, read in chunks so that large files are never whole in memory.

import { md5Hex, toHex } from './md5';
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

/**
 * Why `bytes`, downloaded as `name`, are not a good copy, or undefined when they are. `md5`: their md5 when the caller
 * computed it already, as the bytes arrived.
 */
export async function bytesProblem(bytes: Uint8Array<ArrayBuffer>, name: string, hash: string | null, md5?: string): Promise<string | undefined> {
  if (hash) {
    const algorithm = hashAlgorithm(hash);
    return hashProblem(algorithm, algorithm === 'md5' && md5 !== undefined ? md5 : await hashBytes(bytes, algorithm), hash);
  }
  if (needsHdf5Check(name, hash)) return hdf5Problem(bytes.subarray(0, SUPERBLOCK_HEADER_BYTES), bytes.byteLength);
  return undefined;
}

/** Works in browsers too: WebCrypto for sha256, and our own md5, which WebCrypto lacks. */
async function hashBytes(bytes: Uint8Array<ArrayBuffer>, algorithm: HashAlgorithm): Promise<string> {
  if (algorithm === 'md5') return md5Hex(bytes);
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}
