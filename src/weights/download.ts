// Downloads weight files like Python's keras.utils.get_file, but atomically: a file only ever
// appears at its final path once it is complete and verified, so a crash or a cut connection
// never leaves a file that later loads as garbage. Checking a file is hash.ts's job, showing
// progress progress.ts's.
// Node-only modules are imported dynamically so that `fetchBytes` still works in a browser bundle.

import { ArgumentError, DownloadError } from '../errors';
import { bytesProblem, fileProblem } from './hash';
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
  /** Never touch the network; also on when KERAS_APPLICATIONS_OFFLINE=1. */
  offline?: boolean;
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
  const hash = options.fileHash ?? null;
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
    if (!(await cachedCopyProblem(target, fname, hash))) return target;
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

/** Why the cached copy at `file` is not a good one (missing, say), or undefined when it is. */
async function cachedCopyProblem(file: string, name: string, hash: string | null): Promise<string | undefined> {
  try {
    return await fileProblem(file, name, hash);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'there is no such file' : describe(error);
  }
}

// ---- Downloading to disk ------------------------------------------------------------------

/** Downloads into a private temp file next to `target`, verifies it, then renames it into place. */
async function downloadTo(target: string, fname: string, url: string, options: GetFileOptions): Promise<void> {
  const fs = await import('node:fs/promises');
  // Unique per call, so concurrent downloads (calls or processes) never share a temp file.
  const part = `${target}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.part`;
  try {
    await downloadToFile(part, url, options);
    const problem = await cachedCopyProblem(part, fname, options.fileHash ?? null);
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
