// Weights in a browser: downloaded once and kept between page loads in the Cache API (as transformers.js keeps its
// models), checked against Keras's hash, or the HDF5 length where Keras publishes none, before they are stored and
// again before a stored copy is used. Node keeps its downloads in the Keras cache folder instead (download.ts).
import { ArgumentError } from '../errors';
import { fetchBytes, type FetchBytesOptions } from './download';
import { bytesProblem } from './hash';

/** The Cache API cache the weights are kept in (see it under Application → Cache storage in the browser's tools). */
export const BROWSER_CACHE_NAME = 'keras-applications-weights';

export interface BrowserWeightsOptions extends FetchBytesOptions {
  /** Keep the file in the browser's Cache API between page loads, and use a copy kept there. Default true. */
  browserCache?: boolean;
}

/**
 * The bytes of the weights file at `url` (relative to the page): the copy in the browser's cache when it still checks,
 * else a download, checked, then stored. A stored copy is reported to `onProgress` once, with `fromCache: true`.
 * Without the Cache API (an insecure origin, a worker without it), every call downloads.
 */
export async function fetchWeightsInBrowser(url: string, options: BrowserWeightsOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const key = absoluteUrl(url);
  const hash = options.fileHash ?? null;
  const name = key.split(/[?#]/)[0]!;
  // The Cache API keeps http(s) responses only (not blob: or data: URLs).
  const cache = options.browserCache === false || !/^https?:/i.test(key) ? undefined : await openCache();
  // Storage that cannot be read counts as no copy.
  const stored = await cache?.match(key).then((response) => response?.arrayBuffer()).catch(() => undefined);
  if (stored) {
    const bytes = new Uint8Array(stored);
    if ((await bytesProblem(bytes, name, hash)) === undefined) {
      options.onProgress?.({ url: key, received: bytes.byteLength, total: bytes.byteLength, fromCache: true });
      return bytes;
    }
    // A copy that no longer checks (the hash asked for changed, storage went bad) is dropped and downloaded again.
    await cache!.delete(key).catch(() => false);
  }
  const bytes = await fetchBytes(key, options);
  if (cache) {
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) };
    // The Cache API stores an entry whole or not at all; a full quota only costs the next page load a download.
    await cache.put(key, new Response(bytes, { headers })).catch((error: unknown) => {
      console.warn(`keras-applications: ${key} was not kept in the browser's cache: ${String(error)}`);
    });
  }
  return bytes;
}

/** The weights kept in the browser's cache, by URL: to show what is stored, and to remove it. */
export const browserWeightsCache = {
  /** Whether a copy of the file at `url` is kept (not checked here: it is checked when used). */
  async has(url: string): Promise<boolean> {
    return (await (await openCache())?.match(absoluteUrl(url))) !== undefined;
  },
  /** The URLs of the kept files. */
  async urls(): Promise<string[]> {
    return ((await (await openCache())?.keys()) ?? []).map((request) => request.url);
  },
  /** Removes the copy of the file at `url`; true when there was one. */
  async delete(url: string): Promise<boolean> {
    return (await (await openCache())?.delete(absoluteUrl(url))) ?? false;
  },
  /** Removes every kept file. */
  async clear(): Promise<boolean> {
    return (await globalThis.caches?.delete(BROWSER_CACHE_NAME)) ?? false;
  },
};

/** The cache, or undefined where the Cache API is missing or refused (insecure origins, some private modes). */
async function openCache(): Promise<Cache | undefined> {
  return globalThis.caches?.open(BROWSER_CACHE_NAME).catch(() => undefined);
}

/** `url` resolved against the page, so that `/models/x.h5` and `models/x.h5` share one entry. */
function absoluteUrl(url: string): string {
  try {
    return new URL(url, globalThis.location?.href).href;
  } catch {
    throw new ArgumentError(`The weights URL ${JSON.stringify(url)} is not a URL (a relative one needs a page to resolve it against)`);
  }
}
