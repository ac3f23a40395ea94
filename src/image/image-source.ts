// Where an image comes from: a path, a URL (fetched), file bytes, or in a browser an image element, canvas,
// bitmap or ImageData. Node modules are imported on first use, so this module loads in a browser.
import { audioFormat } from '../audio/audio-format';
import { isNode } from '../env';
import { ArgumentError } from '../errors';
import { decodeBmp, isBmp } from './bmp';
import { decodeInBrowser, decodeWithSharp, fromImageData, isDrawable, isImageDataLike, readDrawable, type ImageDataLike } from './image-decode';
import { DEFAULT_IMAGE_LIMITS, type ImageFetchOptions, type ImageLimits } from './image-limits';
import { fetchInputFile } from '../weights/download';
import { readRegularFile } from '../files';
import type { OpenedImage } from './pil-convert';

/**
 * A path or `file:` URL (Node), an http(s) or `data:` URL (string or `URL`, fetched), the bytes of an image file
 * (`Uint8Array`, `Buffer`, `ArrayBuffer`), or in a browser an `HTMLImageElement`, canvas, `ImageBitmap`
 * or `ImageData`.
 */
export type ImageSource = string | URL | Uint8Array | ArrayBuffer | ImageDataLike | BrowserImage;

/**
 * An `HTMLImageElement`, `HTMLCanvasElement`, `OffscreenCanvas`, `ImageBitmap`, `SVGImageElement` or
 * `HTMLVideoElement` (its current frame); typed structurally so that no DOM library is needed.
 */
export interface BrowserImage {
  readonly width: number;
  readonly height: number;
}

/** Reads and decodes `source` into the pixels Pillow's `Image.open` would give, within `limits`. */
export async function openImage(source: ImageSource, limits: ImageLimits = DEFAULT_IMAGE_LIMITS, fetching: ImageFetchOptions = {}): Promise<OpenedImage> {
  if (isImageDataLike(source)) return fromImageData(source);
  if (isDrawable(source)) return readDrawable(source);
  const { bytes, name } = await readBytes(source, limits, fetching);
  const audio = audioFormat(bytes);
  if (audio) {
    throw new ArgumentError(
      `Cannot decode image ${name}: it is ${audio} audio. Image models take images (JPEG, PNG, WebP, GIF, TIFF, BMP, AVIF, ` +
        'JPEG 2000, PPM); mp3 and wav clips are for MusicTaggerCRNN',
    );
  }
  // BMP first: sharp cannot read it, and browsers would not give Pillow's pixels for every variant.
  if (isBmp(bytes)) return decodeBmp(bytes, name, limits.maxPixels);
  return isNode() ? decodeWithSharp(bytes, name, limits.maxPixels) : decodeInBrowser(bytes, name, limits.maxPixels);
}

/** Signatures of the common image formats, to name an image given where audio is expected. */
const IMAGE_SIGNATURES: [format: string, matches: (bytes: Uint8Array) => boolean][] = [
  ['JPEG', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['PNG', (b) => startsWith(b, 0, '\x89PNG\r\n\x1a\n')],
  ['GIF', (b) => startsWith(b, 0, 'GIF87a') || startsWith(b, 0, 'GIF89a')],
  ['WebP', (b) => startsWith(b, 0, 'RIFF') && startsWith(b, 8, 'WEBP')],
  ['TIFF', (b) => startsWith(b, 0, 'II*\0') || startsWith(b, 0, 'MM\0*')],
  ['BMP', isBmp],
];

const startsWith = (bytes: Uint8Array, at: number, signature: string): boolean =>
  [...signature].every((char, i) => bytes[at + i] === char.charCodeAt(0));

/** 'JPEG', 'PNG', 'GIF', 'WebP', 'TIFF' or 'BMP' when `bytes` start like such an image file, else undefined. */
export function imageFormat(bytes: Uint8Array): string | undefined {
  return IMAGE_SIGNATURES.find(([, matches]) => matches(bytes))?.[0];
}

async function readBytes(source: ImageSource, limits: ImageLimits, fetching: ImageFetchOptions): Promise<{ bytes: Uint8Array; name: string }> {
  if (source instanceof Uint8Array) return { bytes: source, name: `<${source.byteLength} bytes>` };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: `<${source.byteLength} bytes>` };
  // Any scheme followed by '//', and data: URLs; 'C:\\…' stays a path.
  const url = source instanceof URL ? source : typeof source === 'string' && /^([a-z][a-z\d+.-]*:\/\/|data:)/i.test(source) ? new URL(source) : null;
  if (url && url.protocol !== 'file:') return { bytes: await fetchInputFile(url.href, 'image', { ...fetching, maxBytes: limits.maxBytes }), name: `'${url.href}'` };
  if (typeof source !== 'string' && !url) {
    throw new ArgumentError(
      `Expected an image path, URL, Uint8Array, ArrayBuffer, ImageData or browser image. Received: ${describe(source)}`,
    );
  }
  if (!isNode()) return { bytes: await fetchInputFile(String(url ?? source), 'image', { ...fetching, maxBytes: limits.maxBytes }), name: `'${String(source)}'` };
  const path = url ? (await import('node:url')).fileURLToPath(url) : (source as string);
  const fail = (why: string) => new ArgumentError(`Cannot read image '${path}': ${why}`);
  return { bytes: await readRegularFile(path, { maxBytes: limits.maxBytes, fail, maxBytesOption: 'maxBytes' }), name: `'${path}'` };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return `${typeof value} ${String(value)}`;
  return (value as object).constructor?.name ?? 'object';
}
