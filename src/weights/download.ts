// Downloads weight files like Python's keras.utils.get_file, but atomically: a file only ever
// appears at its final path once it is complete and verified, so a crash or a cut connection
// never leaves a file that later loads as garbage. Checking a file is hash.ts's job, showing
// progress progress.ts's.
// Node-only modules are imported dynamically so that `fetchBytes` still works in a browser bundle.

import { formatValue } from '../arguments';
import { ArgumentError, DownloadError } from '../errors';
import { bytesProblem, fileProblem, hashAlgorithm } from './hash';
import { Md5 } from './md5';
import { progressReporter, type DownloadProgress } from './progress';

export type { DownloadProgress } from './progress';

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
  /** Give up when the whole download takes longer than this. Default: no limit. */
  deadlineMs?: number;
  /** Abandons the download when aborted; the call then rejects with a DownloadError. */
  signal?: AbortSignal;
  /** Never touch the network; also on when KERAS_APPLICATIONS_OFFLINE=1. */
  offline?: boolean;
}

/** How a download streams: the options every function that fetches takes. */
export type StreamOptions = Pick<GetFileOptions, 'onProgress' | 'timeoutMs' | 'deadlineMs' | 'signal'> & {
  /** Refuse a response larger than this many bytes; null (the default) for no limit. */
  maxBytes?: number | null;
};

export interface FetchBytesOptions extends StreamOptions {
  /** md5 or sha256 the bytes must have, as for `getFile`. */
  fileHash?: string | null;
}

const DEFAULT_TIMEOUT_MS = 60_000;
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
  validateStreamOptions(options);
  const hash = validateFileHash(options.fileHash);
  const subdir = options.cacheSubdir ?? 'models';
  const preferredFile = path.resolve(await expandHome(options.cacheDir ?? defaultCacheDir()), subdir, fname);

  // A valid file in a read-only cache is still used; only writing needs the fallback folder.
  let problem = await cachedCopyProblem(preferredFile, fname, hash);
  if (!problem) return preferredFile;
  const folder = await writableFolder(path.dirname(preferredFile), path.resolve(FALLBACK_CACHE_DIR, subdir));
  const target = path.join(folder, path.basename(fname));
  if (target !== preferredFile) {
    problem = await cachedCopyProblem(target, fname, hash);
    if (!problem) return target;
  }

  // A bad copy in the cache is named, so that the user knows what to delete or replace.
  const badCopy = problem === NO_SUCH_FILE ? '' : ` The copy at ${target} is not usable: ${problem}.`;
  const failure = (reason: string) =>
    new DownloadError(
      `Could not download ${fname} from ${origin} (${reason}).${badCopy} ` +
        `To use it offline, download it yourself and place it at ${target}`,
    );
  if (isOffline(options)) {
    throw failure('offline mode is on, so the network was not tried, and the cache has no usable copy');
  }
  try {
    await downloadTo(target, fname, origin, options);
  } catch (error) {
    // Another process may have put a good copy there meanwhile.
    if (!(await cachedCopyProblem(target, fname, hash))) return target;
    throw failure(describe(error));
  }
  return target;
}

/** Downloads `url` into memory (browser or Node) and checks it like `getFile` does. */
export async function fetchBytes(url: string, options: FetchBytesOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const hash = validateFileHash(options.fileHash);
  // An md5 is computed as the bytes arrive; WebCrypto's sha256 takes the whole file at the end.
  const md5 = hash !== null && hashAlgorithm(hash) === 'md5' ? new Md5() : undefined;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await downloadBytes(url, options, (chunk) => md5?.update(chunk));
  } catch (error) {
    if (error instanceof ArgumentError) throw error;
    throw new DownloadError(`Could not download ${url} (${describe(error)})`);
  }
  const problem = await bytesProblem(bytes, url.split(/[?#]/)[0]!, hash, md5?.digest());
  if (problem) throw new DownloadError(`Downloaded ${url}, but ${problem}`);
  return bytes;
}

/** `url`'s body in memory. Fails with a plain Error whose message says why (HTTP status, timeout, size); an ArgumentError for bad options. */
async function downloadBytes(url: string, options: StreamOptions = {}, onChunk?: (chunk: Uint8Array) => void): Promise<Uint8Array<ArrayBuffer>> {
  validateStreamOptions(options);
  const chunks: Uint8Array[] = [];
  await download(url, options, (chunk) => {
    chunks.push(chunk);
    onChunk?.(chunk);
  });
  return concat(chunks);
}

/**
 * An input file (an image, an audio clip) at `url`, streamed like a download but never cached and without a progress
 * bar (they are small); a failure is a DownloadError naming it as `what` and the URL.
 */
export async function fetchInputFile(url: string, what: string, options: StreamOptions): Promise<Uint8Array> {
  try {
    return await downloadBytes(url, { ...options, onProgress: () => {} });
  } catch (error) {
    if (error instanceof ArgumentError) throw error;
    throw new DownloadError(`Could not fetch ${what} ${url}: ${describe(error)}`);
  }
}

/** Keras's rule: 32 hex digits are md5, 64 sha256; anything else is refused rather than guessed. */
function validateFileHash(hash: string | null | undefined): string | null {
  if (hash === undefined || hash === null) return null;
  if (typeof hash !== 'string' || !/^([0-9a-f]{32}|[0-9a-f]{64})$/i.test(hash)) {
    throw new ArgumentError(
      `\`fileHash\` must be an md5 (32 hex digits) or sha256 (64 hex digits) hash, or null. Received: fileHash=${formatValue(hash)}`,
    );
  }
  return hash;
}

/** Checks the streaming options (an ArgumentError names the bad one); for callers that take them before fetching. */
export function validateStreamOptions(options: StreamOptions): void {
  for (const name of ['timeoutMs', 'deadlineMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
      throw new ArgumentError(`\`${name}\` must be a positive number of milliseconds. Received: ${name}=${formatValue(value)}`);
    }
  }
  const { maxBytes, signal } = options;
  if (maxBytes !== undefined && maxBytes !== null && !(Number.isSafeInteger(maxBytes) && maxBytes > 0)) {
    throw new ArgumentError(`\`maxBytes\` must be a positive integer or null (no limit). Received: maxBytes=${formatValue(maxBytes)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ArgumentError(`\`signal\` must be an AbortSignal. Received: signal=${formatValue(signal)}`);
  }
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

let fallbackAnnounced = false;

/**
 * `preferred`, created if needed, or `fallback` when `preferred` cannot be written (as Keras does, and, like
 * Keras, said once on stderr: the fallback folder is shared by every user of the machine).
 */
async function writableFolder(preferred: string, fallback: string): Promise<string> {
  const fs = await import('node:fs/promises');
  for (const folder of [preferred, fallback]) {
    try {
      await makeFolders(folder);
      await fs.access(folder, fs.constants.W_OK);
      if (folder === fallback && !fallbackAnnounced) {
        fallbackAnnounced = true;
        process.emitWarning(`The cache folder ${preferred} cannot be written to; downloads go to ${fallback}, shared by every user of this machine.`);
      }
      return folder;
    } catch {
      // Try the next one.
    }
  }
  throw new DownloadError(`Neither ${preferred} nor ${fallback} can be created and written to`);
}

/**
 * `mkdir -p` one level at a time from the nearest existing folder. Node's recursive mkdir retries forever
 * where a parent reports ENOENT after being created (as under /proc); this makes at most one try per level.
 */
async function makeFolders(folder: string): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const missing: string[] = [];
  for (let current = folder; ; current = path.dirname(current)) {
    const exists = await fs.stat(current).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        return false;
      },
    );
    if (exists || path.dirname(current) === current) break;
    missing.unshift(current);
  }
  for (const level of missing) {
    await fs.mkdir(level).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

const NO_SUCH_FILE = 'there is no such file';

/** Why the cached copy at `file` is not a good one (missing, say), or undefined when it is. */
async function cachedCopyProblem(file: string, name: string, hash: string | null): Promise<string | undefined> {
  const fs = await import('node:fs/promises');
  try {
    // Hashing a FIFO or a device would wait or read forever.
    if (!(await fs.stat(file)).isFile()) return 'it is not a regular file';
    return await fileProblem(file, name, hash);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? NO_SUCH_FILE : describe(error);
  }
}

// ---- Downloading to disk ------------------------------------------------------------------

/** The part files this process is writing now, so that the CLI can remove them when it is interrupted. */
const partsInProgress = new Set<string>();

/** Removes the part files of the downloads this process has under way (the CLI calls it on SIGINT/SIGTERM). */
export async function removePartsInProgress(): Promise<void> {
  const fs = await import('node:fs/promises');
  await Promise.all([...partsInProgress].map((part) => fs.rm(part, { force: true })));
  partsInProgress.clear();
}

/** Downloads into a private temp file next to `target`, verifies it, then renames it into place. */
async function downloadTo(target: string, fname: string, url: string, options: GetFileOptions): Promise<void> {
  const fs = await import('node:fs/promises');
  await removeStaleParts(target);
  // Unique per call, so concurrent downloads (calls or processes) never share a temp file; the pid says whose it is.
  const part = `${target}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.part`;
  partsInProgress.add(part);
  try {
    await downloadToFile(part, url, options);
    const problem = await cachedCopyProblem(part, fname, options.fileHash ?? null);
    if (problem) throw new Error(problem);
    await fs.rename(part, target);
  } catch (error) {
    await fs.rm(part, { force: true });
    throw error;
  } finally {
    partsInProgress.delete(part);
  }
}

/**
 * Removes `<target>.<pid>.<id>.part` files left by a process that is gone (killed mid-download); parts of
 * live processes, which may be downloading the same file right now, are left alone.
 */
async function removeStaleParts(target: string): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const prefix = `${path.basename(target)}.`;
  const names = await fs.readdir(path.dirname(target)).catch(() => [] as string[]);
  for (const name of names) {
    const pid = name.startsWith(prefix) ? /^(\d+)\.[a-z0-9]+\.part$/.exec(name.slice(prefix.length))?.[1] : undefined;
    const part = path.join(path.dirname(target), name);
    if (pid === undefined || partsInProgress.has(part) || isRunning(Number(pid))) continue;
    await fs.rm(part, { force: true });
  }
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // Signal 0 only asks whether the process exists.
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
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

/**
 * Streams `url` into `sink`. Stops when no bytes arrive for `timeoutMs`, when the whole takes longer than
 * `deadlineMs`, when the caller's `signal` aborts, or when the body grows past `maxBytes`; the error says which.
 */
async function download(url: string, options: StreamOptions, sink: (chunk: Uint8Array) => void | Promise<void>): Promise<void> {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, deadlineMs, signal, maxBytes = null } = options;
  const controller = new AbortController();
  // Why the controller was aborted, once it was: the message the download fails with.
  let stopReason: string | undefined;
  const stop = (reason: string) => {
    stopReason ??= reason;
    controller.abort();
  };
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const restartIdleTimer = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => stop(`timed out: no data received for ${timeoutMs / 1000} s (timeoutMs: ${timeoutMs})`), timeoutMs);
  };
  const deadline =
    deadlineMs === undefined ? undefined : setTimeout(() => stop(`it took longer than ${deadlineMs / 1000} s (deadlineMs: ${deadlineMs})`), deadlineMs);
  const onAbort = () => stop(`aborted by the caller's signal${signal?.reason === undefined ? '' : ` (${describe(signal.reason)})`}`);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort);
  const progress = progressReporter(url, options.onProgress);
  let received = 0;
  let total: number | null = null;
  try {
    if (stopReason) throw new Error(stopReason);
    restartIdleTimer();
    const response = await fetch(url, { signal: controller.signal });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
    total = declaredLength(response);
    if (maxBytes !== null && total !== null && total > maxBytes) {
      throw new Error(`the server announced ${total} bytes, more than maxBytes (${maxBytes})`);
    }
    const reader = response.body.getReader();
    for (;;) {
      restartIdleTimer();
      const { done, value } = await reader.read().catch((error: unknown) => {
        const of = total === null ? '' : ` of ${total}`;
        throw new Error(`the connection broke after ${received}${of} bytes: ${describe(error)}`);
      });
      if (done) break;
      received += value.byteLength;
      if (maxBytes !== null && received > maxBytes) throw new Error(`the response is larger than maxBytes (${maxBytes} bytes)`);
      await sink(value);
      progress.update(received, total);
    }
  } catch (error) {
    if (stopReason) throw new Error(stopReason);
    throw error;
  } finally {
    clearTimeout(idleTimer);
    clearTimeout(deadline);
    signal?.removeEventListener('abort', onAbort);
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

/** An error's message with its cause, which Node's fetch uses for the real reason. */
export function describe(error: unknown): string {
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
