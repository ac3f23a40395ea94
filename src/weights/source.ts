// Turns wherever a weights file is into something readable: a local path in Node (downloads land in the
// Keras cache) or the file's bytes in a browser. No tfjs here: reading and applying the file is apply.ts's job.
import { formatValue } from '../arguments';
import { isNode, isUrl } from '../env';
import { ArgumentError, DownloadError } from '../errors';
import { fetchWeightsInBrowser } from './browser-cache';
import { cacheFileNameFromUrl, getFile, type GetFileOptions } from './download';
import { fileProblem } from './hash';
import type { WeightsFileRef } from './types';

/** A weights file not yet read: a path or http(s)/file: URL, its bytes, or an official file. */
export type WeightsFileSource = string | Uint8Array | ArrayBuffer | WeightsFileRef;

/** The download options passed on to `getFile` (Node) or `fetchWeightsInBrowser` (browser). */
export type WeightsDownloadOptions = Pick<GetFileOptions, 'cacheDir' | 'onProgress' | 'timeoutMs' | 'deadlineMs' | 'signal' | 'offline'> & {
  /** Browser: keep downloaded weights in the Cache API between page loads and use them from there. Default true. */
  browserCache?: boolean;
  /**
   * A folder URL that serves the official files under Keras's file names (`mobilenet_2_5_128_tf.h5`), fetched
   * instead of Keras's host: your own site, say `'/models/'` (relative to the page in a browser).
   */
  weightsBaseUrl?: string;
};

/** Their names, for the functions that check their options' names. */
export const WEIGHTS_DOWNLOAD_OPTION_NAMES: readonly (keyof WeightsDownloadOptions)[] = [
  'cacheDir', 'onProgress', 'timeoutMs', 'deadlineMs', 'signal', 'offline', 'browserCache', 'weightsBaseUrl',
];

/** Where Keras publishes its weights; `KERAS_APPLICATIONS_MIRROR` may replace it (a local or company mirror). */
const OFFICIAL_HOST = 'https://storage.googleapis.com/';
export const MIRROR_ENV_VAR = 'KERAS_APPLICATIONS_MIRROR';

/**
 * The local path (Node) or the bytes (browser) of `source`. Node downloads URLs and official files once
 * into the Keras cache, official files checked against their hash; a browser fetches every string,
 * paths relative to the page, once into its Cache API cache (`browserCache: false` turns that off).
 * Bytes are returned as they are.
 */
export async function resolveWeightsFile(
  source: WeightsFileSource,
  options: WeightsDownloadOptions = {},
): Promise<string | Uint8Array | ArrayBuffer> {
  validateSourceOptions(options);
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return source;
  if (typeof source !== 'string') return (await bundledCopy(source)) ?? officialFile(source, options);
  if (isNode() && source.toLowerCase().startsWith('file:')) return localPathOfFileUrl(source);
  if (isNode() && !isUrl(source)) return source;
  try {
    return await downloaded({ url: source, hash: null }, options);
  } catch (error) {
    if (isNode() || !(error instanceof DownloadError)) throw error;
    // In a browser the URL is usually the page's own server: say what the page needs.
    const name = new URL(source, globalThis.location?.href).pathname.split('/').pop();
    throw new DownloadError(
      `${error.message}. Serve ${name} at that URL (put it in the folder your web server serves there), or pass ` +
        "another URL, or the file's bytes (`new Uint8Array(await file.arrayBuffer())` for a chosen File), as the weights",
    );
  }
}

function validateSourceOptions({ browserCache, weightsBaseUrl }: WeightsDownloadOptions): void {
  if (browserCache !== undefined && typeof browserCache !== 'boolean') {
    throw new ArgumentError(`\`browserCache\` must be true or false. Received: browserCache=${formatValue(browserCache)}`);
  }
  if (weightsBaseUrl !== undefined && baseUrl(weightsBaseUrl) === undefined) {
    throw new ArgumentError(
      '`weightsBaseUrl` must be the http(s) URL of a folder (in a browser it may be relative to the page, e.g. \'/models/\'). ' +
        `Received: weightsBaseUrl=${formatValue(weightsBaseUrl)}`,
    );
  }
}

/** `value` as an absolute http(s) folder URL (ending in '/'), or undefined when it is not one. */
function baseUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value.replace(/\/*$/, '/'), globalThis.location?.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An official file from the cache or its host (or `weightsBaseUrl`, or the mirror); a failure also names the other ways
 * to get it.
 */
async function officialFile(file: WeightsFileRef, options: WeightsDownloadOptions): Promise<string | Uint8Array> {
  const url = options.weightsBaseUrl === undefined ? mirrored(file.url) : new URL(file.fileName, baseUrl(options.weightsBaseUrl)).href;
  try {
    return await downloaded({ ...file, url }, options);
  } catch (error) {
    if (!(error instanceof DownloadError)) throw error;
    const size = file.sizeMB === undefined ? '' : ` (${file.sizeMB} MB)`;
    if (!isNode()) {
      const where = url === file.url ? 'put it on your own site and pass that folder as `weightsBaseUrl`' : `put it at ${url}`;
      throw new DownloadError(
        `${error.message}${size}. Keras publishes it at ${file.url}: download it once and ${where}, or pass the file's ` +
          'URL or bytes as the weights',
      );
    }
    throw new DownloadError(
      `${error.message}${size}. Other ways to get it: set ${MIRROR_ENV_VAR} to a mirror of ${OFFICIAL_HOST}; run ` +
        '`keras-applications download <model>` on a machine with network access and copy the Keras cache folder; or pass ' +
        "the file's path as the weights (`--weights <path>` on the command line)",
    );
  }
}

/**
 * Node: the file in the Keras cache (under `fileName`, else the URL's), downloaded first unless a good copy
 * is there. Browser: the file's bytes.
 */
async function downloaded(
  file: { url: string; hash: string | null; fileName?: string },
  { cacheDir, onProgress, timeoutMs, deadlineMs, signal, offline, browserCache }: WeightsDownloadOptions,
): Promise<string | Uint8Array> {
  if (!isNode()) return fetchWeightsInBrowser(file.url, { fileHash: file.hash, onProgress, timeoutMs, deadlineMs, signal, browserCache });
  const fileName = file.fileName ?? cacheFileNameFromUrl(file.url);
  return getFile(fileName, file.url, { fileHash: file.hash, cacheDir, onProgress, timeoutMs, deadlineMs, signal, offline });
}

/**
 * The package's own copy of an official file (models/, shipped so that a classifier works offline), used instead of the
 * cache and the network. Node only; the copy must have the official hash where Keras publishes one.
 */
async function bundledCopy(file: WeightsFileRef): Promise<string | undefined> {
  if (!isNode()) return undefined;
  const [{ access }, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
  const packageRoot = await (packageRootOnce ??= findPackageRoot());
  const copy = packageRoot && path.join(packageRoot, 'models', file.fileName);
  if (!copy || !(await access(copy).then(() => true, () => false))) return undefined;
  return (await fileProblem(copy, file.fileName, file.hash)) === undefined ? copy : undefined;
}

/** findPackageRoot's answer, looked up once per process: every official file asks for it. */
let packageRootOnce: Promise<string | undefined> | undefined;

/** The folder of this package's package.json, searched upwards from this module (dist/ when built, src/weights/ in tests). */
async function findPackageRoot(): Promise<string | undefined> {
  const [{ readFile }, path, { fileURLToPath }] = await Promise.all([import('node:fs/promises'), import('node:path'), import('node:url')]);
  for (let folder = path.dirname(fileURLToPath(import.meta.url)); ; folder = path.dirname(folder)) {
    const name = await readFile(path.join(folder, 'package.json'), 'utf8').then((text) => (JSON.parse(text) as { name?: string }).name, () => undefined);
    if (name === PACKAGE_NAME) return folder;
    if (path.dirname(folder) === folder) return undefined;
  }
}

const PACKAGE_NAME = 'keras-applications';

function mirrored(url: string): string {
  const mirror = globalThis.process?.env?.[MIRROR_ENV_VAR];
  if (!mirror || !url.startsWith(OFFICIAL_HOST)) return url;
  return mirror.replace(/\/*$/, '/') + url.slice(OFFICIAL_HOST.length);
}

async function localPathOfFileUrl(url: string): Promise<string> {
  const { fileURLToPath } = await import('node:url');
  try {
    return fileURLToPath(url);
  } catch (error) {
    throw new ArgumentError(`The weights URL ${url} does not name a local file: ${(error as Error).message}`);
  }
}
