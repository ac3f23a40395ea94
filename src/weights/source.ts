// Turns wherever a weights file is into something readable: a local path in Node (downloads land in the
// Keras cache) or the file's bytes in a browser. No tfjs here: reading and applying the file is apply.ts's job.
import { isNode, isUrl } from '../env';
import { ArgumentError } from '../errors';
import { cacheFileNameFromUrl, fetchBytes, getFile, type GetFileOptions } from './download';
import type { WeightsFileRef } from './types';

/** A weights file not yet read: a path or http(s)/file: URL, its bytes, or an official file. */
export type WeightsFileSource = string | Uint8Array | ArrayBuffer | WeightsFileRef;

/** The download options passed on to `getFile` (Node) or `fetchBytes` (browser). */
export type WeightsDownloadOptions = Pick<GetFileOptions, 'cacheDir' | 'onProgress' | 'timeoutMs' | 'deadlineMs' | 'signal' | 'offline'>;

/** Their names, for the functions that check their options' names. */
export const WEIGHTS_DOWNLOAD_OPTION_NAMES: readonly (keyof WeightsDownloadOptions)[] = [
  'cacheDir', 'onProgress', 'timeoutMs', 'deadlineMs', 'signal', 'offline',
];

/** Where Keras publishes its weights; `KERAS_APPLICATIONS_MIRROR` may replace it (a local or company mirror). */
const OFFICIAL_HOST = 'https://storage.googleapis.com/';
export const MIRROR_ENV_VAR = 'KERAS_APPLICATIONS_MIRROR';

/**
 * The local path (Node) or the bytes (browser) of `source`. Node downloads URLs and official files once
 * into the Keras cache, official files checked against their hash; a browser fetches every string,
 * paths relative to the page. Bytes are returned as they are.
 */
export async function resolveWeightsFile(
  source: WeightsFileSource,
  options: WeightsDownloadOptions = {},
): Promise<string | Uint8Array | ArrayBuffer> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return source;
  if (typeof source !== 'string') return downloaded({ ...source, url: mirrored(source.url) }, options);
  if (isNode() && source.toLowerCase().startsWith('file:')) return localPathOfFileUrl(source);
  if (isNode() && !isUrl(source)) return source;
  return downloaded({ url: source, hash: null }, options);
}

/**
 * Node: the file in the Keras cache (under `fileName`, else the URL's), downloaded first unless a good copy
 * is there. Browser: the file's bytes.
 */
async function downloaded(
  file: { url: string; hash: string | null; fileName?: string },
  { cacheDir, onProgress, timeoutMs, deadlineMs, signal, offline }: WeightsDownloadOptions,
): Promise<string | Uint8Array> {
  if (!isNode()) return fetchBytes(file.url, { fileHash: file.hash, onProgress, timeoutMs, deadlineMs, signal });
  const fileName = file.fileName ?? cacheFileNameFromUrl(file.url);
  return getFile(fileName, file.url, { fileHash: file.hash, cacheDir, onProgress, timeoutMs, deadlineMs, signal, offline });
}

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
