// The official Keras weight files (names, URLs, hashes) as data, and fetching them.
import manifest from './weights-manifest.json';
import { isNode } from '../env';
import { ArgumentError } from '../errors';
import { fetchBytes, getFile, type GetFileOptions } from '../weights/download';

/** One official weight file. `hash` is md5 or sha256 (by length); null where Keras publishes none. */
export interface WeightsFileRef {
  /** The name it is cached under in `~/.keras/models` (the same name Python Keras uses). */
  fileName: string;
  url: string;
  hash: string | null;
}

/** The official files of one builder configuration: with and without the classifier top. */
export interface OfficialWeights {
  top: WeightsFileRef | null;
  notop: WeightsFileRef | null;
}

/** Download options a builder passes through to `getFile`. */
export type WeightsDownloadOptions = Pick<GetFileOptions, 'cacheDir' | 'onProgress' | 'timeoutMs' | 'offline'>;

/** A builder configuration's files with and without the top, as the manifest lists them. */
interface ManifestFiles {
  top_file: string | null;
  top_hash: string | null;
  notop_file: string | null;
  notop_hash: string | null;
}

interface ManifestEntry extends ManifestFiles {
  builder: string;
  base_url: string;
  /** ResNetRS: the files of each training resolution, by the `weights` value that picks them. */
  variants?: (ManifestFiles & { weights_arg: string })[];
}

/** Where Keras publishes its weights; `KERAS_APPLICATIONS_MIRROR` may replace it (a local or company mirror). */
const OFFICIAL_HOST = 'https://storage.googleapis.com/';
export const MIRROR_ENV_VAR = 'KERAS_APPLICATIONS_MIRROR';

function mirrored(url: string): string {
  const mirror = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[MIRROR_ENV_VAR];
  if (!mirror || !url.startsWith(OFFICIAL_HOST)) return url;
  return mirror.replace(/\/*$/, '/') + url.slice(OFFICIAL_HOST.length);
}

/** The official file `file` published under `baseUrl`. */
export function fileRef(baseUrl: string, file: string, hash: string | null): WeightsFileRef {
  return { fileName: file, url: baseUrl + file, hash };
}

function manifestEntry(key: string): ManifestEntry {
  const entry = (manifest.weights as ManifestEntry[]).find((w) => w.builder === key);
  if (!entry) throw new Error(`no official weights listed for ${key}`);
  return entry;
}

function officialFiles(baseUrl: string, files: ManifestFiles): OfficialWeights {
  return {
    top: files.top_file === null ? null : fileRef(baseUrl, files.top_file, files.top_hash),
    notop: files.notop_file === null ? null : fileRef(baseUrl, files.notop_file, files.notop_hash),
  };
}

/**
 * The official files for a manifest key: the Keras class name, e.g. `'ResNet50'` (for ResNetRS: the files of
 * its largest training resolution).
 */
export function officialWeights(key: string): OfficialWeights {
  const entry = manifestEntry(key);
  return officialFiles(entry.base_url, entry);
}

/** ResNetRS's files per training resolution, keyed by the `weights` value that picks them (`'imagenet-i160'`). */
export function officialWeightVariants(key: string): Record<string, OfficialWeights> {
  const { base_url: baseUrl, variants = [] } = manifestEntry(key);
  return Object.fromEntries(variants.map((variant) => [variant.weights_arg, officialFiles(baseUrl, variant)]));
}

/**
 * The official file for `includeTop`: a local path in Node (downloaded once into the Keras cache),
 * the file's bytes in a browser.
 */
export async function resolveOfficialWeights(
  official: OfficialWeights,
  includeTop: boolean,
  options: WeightsDownloadOptions,
): Promise<string | Uint8Array> {
  const ref = includeTop ? official.top : official.notop;
  if (!ref) {
    throw new ArgumentError(
      `No official 'imagenet' weights exist with includeTop=${includeTop}. Received: weights='imagenet', includeTop=${includeTop}`,
    );
  }
  const { cacheDir, onProgress, timeoutMs, offline } = options;
  const url = mirrored(ref.url);
  if (!isNode()) return fetchBytes(url, { fileHash: ref.hash, onProgress, timeoutMs });
  return getFile(ref.fileName, url, { fileHash: ref.hash, cacheSubdir: 'models', cacheDir, onProgress, timeoutMs, offline });
}
