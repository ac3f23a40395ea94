// Downloads weight files like Python's keras.utils.get_file, but atomically: a file only ever
// appears at its final path once it is complete and verified, so a crash or a cut connection
// never leaves a file that later loads as garbage.
// Node-only modules are imported dynamically so that `fetchBytes` still works in a browser bundle.

import { ArgumentError, DownloadError } from '../errors';
import { hdf5HandleProblem, hdf5Problem, SUPERBLOCK_HEADER_BYTES } from './superblock';

export interface DownloadProgress {
  url: string;
  received: number;
  /** From Content-Length; null when the server does not say. */
  total: number | null;
}

export interface GetFileOptions {
  /** md5 (32 hex digits) or sha256 (64), chosen by length like Keras's hash_algorithm='auto'. */
  fileHash?: string | null;
  /** Default: $KERAS_HOME or ~/.keras, the cache Python Keras uses. */
  cacheDir?: string;
  /** Default 'models': files land in <cacheDir>/models/<fname>. */
  cacheSubdir?: string;
  /** Called at most ~10 times a second and once with the final state. Without it, a TTY stderr gets a progress bar. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Give up when no bytes arrive for this long. Default 60 000 ms. */
  timeoutMs?: number;
  /** Never touch the network; also on when KERAS_APPLICATIONS_OFFLINE=1. */
  offline?: boolean;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const PROGRESS_INTERVAL_MS = 100;
/** Where Keras writes when the cache folder is not writable. */
const FALLBACK_CACHE_DIR = '/tmp/.keras';

/** $KERAS_HOME, else ~/.keras: the folder Python Keras caches into, so both share downloads. */
export function defaultCacheDir(): string {
  const env = globalThis.process?.env ?? {};
  if (env.KERAS_HOME) return env.KERAS_HOME;
  const home = env.HOME ?? env.USERPROFILE;
  if (!home) return FALLBACK_CACHE_DIR;
  return `${home}${globalThis.process?.platform === 'win32' ? '\\' : '/'}.keras`;
}

/**
 * Returns the absolute path of `fname` in the Keras cache, downloading it from `origin` first
 * unless a valid copy is already there. Node only.
 */
export async function getFile(fname: string, origin: string, options: GetFileOptions = {}): Promise<string> {
  const path = await import('node:path');
  checkPlainFileName(fname, `getFile's fname (for ${origin})`);
  const hash = options.fileHash ?? null;
  const subdir = options.cacheSubdir ?? 'models';
  const preferredFile = path.resolve(await expandHome(options.cacheDir ?? defaultCacheDir()), subdir, fname);

  // A valid file in a read-only cache is still used; only writing needs the fallback folder.
  let problem = await fileProblem(preferredFile, fname, hash);
  if (!problem) return preferredFile;
  const folder = await writableFolder(path.dirname(preferredFile), path.resolve(FALLBACK_CACHE_DIR, subdir));
  const target = path.join(folder, path.basename(fname));
  if (target !== preferredFile) {
    problem = await fileProblem(target, fname, hash);
    if (!problem) return target;
  }

  const failure = (reason: string) =>
    new DownloadError(
      `Could not download ${fname} from ${origin} (${reason}). ` +
        `To use it offline, download it yourself and place it at ${target}`,
    );
  if (isOffline(options)) {
    throw failure(`offline mode is on, so the network was not tried, and the cache has no usable copy: ${problem}`);
  }
  try {
    await downloadTo(target, fname, origin, options);
  } catch (error) {
    // Another process may have put a good copy there meanwhile.
    if (!(await fileProblem(target, fname, hash))) return target;
    throw failure(describe(error));
  }
  return target;
}

/** Downloads `url` into memory (browser or Node) and checks it like `getFile` does. */
export async function fetchBytes(
  url: string,
  options: Pick<GetFileOptions, 'onProgress' | 'timeoutMs' | 'fileHash'> = {},
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  try {
    await download(url, options, (chunk) => {
      chunks.push(chunk);
    });
  } catch (error) {
    throw new DownloadError(`Could not download ${url} (${describe(error)})`);
  }
  const bytes = concat(chunks);
  const problem = await bytesProblem(bytes, url.split(/[?#]/)[0]!, options.fileHash ?? null);
  if (problem) throw new DownloadError(`Downloaded ${url}, but ${problem}`);
  return bytes;
}

// ---- Cache folder -------------------------------------------------------------------------

/**
 * The name a file downloaded from `url` is cached under: the last segment of the URL's path, decoded
 * (as Keras's get_file names it). A name that could leave the cache folder is refused, never written.
 */
export function cacheFileNameFromUrl(url: string): string {
  const segment = new URL(url).pathname.split('/').pop() || 'weights.h5';
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw new ArgumentError(`The weights URL ${url} has a malformed percent-escape in its file name '${segment}'`);
  }
  checkPlainFileName(name, `The file name in the weights URL ${url}`);
  return name;
}

/** Refuses anything but a plain file name: no folder separators, no '.' or '..', no control characters. */
function checkPlainFileName(name: string, what: string): void {
  // eslint-disable-next-line no-control-regex
  if (name === '' || name === '.' || name === '..' || /[/\\\x00-\x1f\x7f]/.test(name)) {
    throw new ArgumentError(
      `${what} is ${JSON.stringify(name)}, which is not a plain file name: a cache file name may not be empty, ` +
        `'.' or '..', nor contain '/', '\\' or control characters, so that nothing is written outside the cache folder`,
    );
  }
}

async function expandHome(dir: string): Promise<string> {
  if (dir !== '~' && !dir.startsWith('~/')) return dir;
  const os = await import('node:os');
  return os.homedir() + dir.slice(1);
}

function isOffline(options: GetFileOptions): boolean {
  const flag = globalThis.process?.env?.KERAS_APPLICATIONS_OFFLINE?.toLowerCase();
  return options.offline === true || flag === '1' || flag === 'true' || flag === 'yes';
}

/** `preferred`, created if needed, or `fallback` when `preferred` cannot be written (as Keras does). */
async function writableFolder(preferred: string, fallback: string): Promise<string> {
  const fs = await import('node:fs/promises');
  for (const folder of [preferred, fallback]) {
    try {
      await fs.mkdir(folder, { recursive: true });
      await fs.access(folder, fs.constants.W_OK);
      return folder;
    } catch {
      // Try the next one.
    }
  }
  throw new DownloadError(`Neither ${preferred} nor ${fallback} can be created and written to`);
}

// ---- Downloading to disk ------------------------------------------------------------------

/** Downloads into a private temp file next to `target`, verifies it, then renames it into place. */
async function downloadTo(target: string, fname: string, url: string, options: GetFileOptions): Promise<void> {
  const fs = await import('node:fs/promises');
  // Unique per call, so concurrent downloads (calls or processes) never share a temp file.
  const part = `${target}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.part`;
  try {
    await downloadToFile(part, url, options);
    const problem = await fileProblem(part, fname, options.fileHash ?? null);
    if (problem) throw new Error(problem);
    await fs.rename(part, target);
  } catch (error) {
    await fs.rm(part, { force: true });
    throw error;
  }
}

async function downloadToFile(part: string, url: string, options: GetFileOptions): Promise<void> {
  const fs = await import('node:fs/promises');
  const file = await fs.open(part, 'wx');
  try {
    await download(url, options, async (chunk) => {
      for (let offset = 0; offset < chunk.byteLength; ) {
        offset += (await file.write(chunk, offset)).bytesWritten;
      }
    });
    // On disk before the rename, so a crash cannot leave a renamed but empty file.
    await file.sync();
  } finally {
    await file.close();
  }
}

// ---- Streaming ----------------------------------------------------------------------------

/** Streams `url` into `sink`, aborting when no bytes arrive for `timeoutMs`. */
async function download(
  url: string,
  options: Pick<GetFileOptions, 'onProgress' | 'timeoutMs'>,
  sink: (chunk: Uint8Array) => void | Promise<void>,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const restartTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
  };
  const progress = progressReporter(url, options.onProgress);
  let received = 0;
  let total: number | null = null;
  try {
    restartTimer();
    const response = await fetch(url, { signal: controller.signal });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
    total = declaredLength(response);
    const reader = response.body.getReader();
    for (;;) {
      restartTimer();
      const { done, value } = await reader.read().catch((error: unknown) => {
        const of = total === null ? '' : ` of ${total}`;
        throw new Error(`the connection broke after ${received}${of} bytes: ${describe(error)}`);
      });
      if (done) break;
      await sink(value);
      received += value.byteLength;
      progress.update(received, total);
    }
  } catch (error) {
    if (timedOut) throw new Error(`timed out: no data received for ${timeoutMs / 1000} s (timeoutMs: ${timeoutMs})`);
    throw error;
  } finally {
    clearTimeout(timer);
    controller.abort(); // Frees the connection when we stop early; a no-op once the body is read.
    progress.finish();
  }
  if (total !== null && received !== total) {
    throw new Error(`received ${received} bytes, but the server announced ${total} (Content-Length)`);
  }
}

/** Content-Length, when it counts the bytes we will read (not a compressed size). */
function declaredLength(response: Response): number | null {
  const encoding = response.headers.get('content-encoding');
  const length = response.headers.get('content-length');
  if ((encoding && encoding !== 'identity') || length === null) return null;
  const value = Number(length);
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Node's fetch hides the real reason ("connect ECONNREFUSED …") in `cause`.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

function concat(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

// ---- Progress -----------------------------------------------------------------------------

interface ProgressReporter {
  update(received: number, total: number | null): void;
  /** Reports the final state if it was throttled away, and ends the progress bar's line. */
  finish(): void;
}

function progressReporter(url: string, onProgress?: (progress: DownloadProgress) => void): ProgressReporter {
  const bar = onProgress ? undefined : terminalBar(url);
  const report = onProgress ?? bar?.draw;
  if (!report) return { update() {}, finish() {} };
  let latest: DownloadProgress | undefined;
  let shown: DownloadProgress | undefined;
  let shownAt = 0;
  const show = (progress: DownloadProgress) => {
    report(progress);
    shown = progress;
    shownAt = Date.now();
  };
  return {
    update(received, total) {
      latest = { url, received, total };
      if (Date.now() - shownAt >= PROGRESS_INTERVAL_MS) show(latest);
    },
    finish() {
      if (latest && latest !== shown) show(latest);
      if (shown) bar?.end();
    },
  };
}

/** A one-line bar on stderr, or undefined when stderr is not a terminal (logs, CI, browsers). */
function terminalBar(url: string): { draw(progress: DownloadProgress): void; end(): void } | undefined {
  const stderr = globalThis.process?.stderr;
  if (!stderr?.isTTY) return undefined;
  const name = url.split(/[?#]/)[0]!.split('/').pop()!.slice(0, 40);
  const start = Date.now();
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  return {
    draw({ received, total }) {
      const speed = `${mb(received / Math.max((Date.now() - start) / 1000, 0.001))} MB/s`;
      let amount = `${mb(received)} MB`;
      if (total) {
        const fraction = Math.min(received / total, 1);
        const filled = Math.round(fraction * 20);
        const bar = '='.repeat(filled) + ' '.repeat(20 - filled);
        amount = `${(fraction * 100).toFixed(0).padStart(3)}% [${bar}] ${mb(received)}/${mb(total)} MB`;
      }
      // \x1b[K clears what a longer previous line left behind.
      stderr.write(`\r${name} ${amount}  ${speed}\x1b[K`);
    },
    end() {
      stderr.write('\n');
    },
  };
}

// ---- Verification -------------------------------------------------------------------------

type HashAlgorithm = 'md5' | 'sha256';

/** Keras's hash_algorithm='auto': 64 hex digits is sha256, anything else md5. */
function hashAlgorithm(hash: string): HashAlgorithm {
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

/** Why the file at `file` (named `name`) is not a good copy, or undefined when it is. */
async function fileProblem(file: string, name: string, hash: string | null): Promise<string | undefined> {
  const fs = await import('node:fs/promises');
  try {
    if (hash) return hashProblem(hashAlgorithm(hash), await hashFile(file, hashAlgorithm(hash)), hash);
    if (needsHdf5Check(name, hash)) return await hdf5FileProblem(file);
    await fs.access(file);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'there is no such file' : describe(error);
  }
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

async function bytesProblem(bytes: Uint8Array<ArrayBuffer>, name: string, hash: string | null): Promise<string | undefined> {
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
