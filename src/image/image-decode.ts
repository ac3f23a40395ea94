// Decoding image files into the pixels Pillow's `Image.open` gives. In Node, sharp (libvips): its JPEG decoder
// (mozjpeg, built on libjpeg-turbo: ISLOW IDCT, fancy upsampling) gives PIL's pixels exactly; of the formats it
// reads we accept those Pillow reads (not SVG, PDF, HEIC, JPEG XL, …); like PIL's `load_img` it applies neither
// EXIF orientation nor (with ignoreIcc) embedded ICC profiles. In a browser, the browser's own decoder through a canvas.
import { ArgumentError } from '../errors';
import { firstBytes } from '../files';
import { checkPixelCount } from './image-limits';
import type { OpenedImage } from './pil-convert';

type Sharp = typeof import('sharp');

// A computed specifier keeps browser bundlers from pulling in sharp's native binary.
const SHARP = 'sharp';
let sharpModule: Promise<Sharp> | undefined;

function loadSharp(): Promise<Sharp> {
  sharpModule ??= import(/* webpackIgnore: true */ /* @vite-ignore */ SHARP).then(
    (module: Sharp | { default: Sharp }) => ('default' in module ? module.default : module) as Sharp,
  );
  return sharpModule;
}

/** sharp's formats that Pillow reads too; AVIF is sharp's 'heif' with AV1 compression (HEIC is not read by Pillow). */
const PILLOW_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'jp2', 'ppm'];

/**
 * Decodes file bytes with sharp (Node). `name` says which file an error is about. The header is read first, so a
 * format Pillow does not read or a canvas above `maxPixels` is refused before any pixel is decoded.
 */
export async function decodeWithSharp(bytes: Uint8Array, name: string, maxPixels: number | null): Promise<OpenedImage> {
  const sharp = await loadSharp();
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const open = () => sharp(input, { ignoreIcc: true, limitInputPixels: maxPixels === null ? false : 2 * maxPixels });
  let header: Awaited<ReturnType<ReturnType<typeof open>['metadata']>>;
  try {
    // Only the header is read here; sharp's own pixel limit would refuse with a message that names no rule.
    header = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw undecodable(bytes, name, error);
  }
  const { format, compression, width = 0, height = 0, space, hasAlpha } = header;
  if (!PILLOW_FORMATS.includes(format ?? '') && !(format === 'heif' && compression === 'av1')) {
    const kind = format === 'heif' ? `HEIF (${compression ?? 'unknown'} compression)` : (format ?? 'unknown').toUpperCase();
    throw new ArgumentError(
      `Cannot decode image ${name}: it is ${kind}, which Pillow (and so Keras's load_img) cannot read. ` +
        'Accepted: JPEG, PNG, WebP, GIF, TIFF, BMP, AVIF, JPEG 2000, PPM',
    );
  }
  checkPixelCount(width, height, maxPixels, name);
  try {
    if (space === 'cmyk') {
      // Raw CMYK (Adobe-inverted files already un-inverted), converted below as Pillow converts it.
      const { data, info } = await open().pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
      return { mode: 'CMYK', ...pixels(data, info) };
    }
    if (space === 'grey16' && !hasAlpha) {
      const { data, info } = await open().toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
      const samples = new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
      return { mode: 'I;16', data: samples, height: info.height, width: info.width, channels: 1 };
    }
    // Everything else as 8-bit sRGB(A): greys are replicated, 16-bit samples keep their high byte (as PIL reads them).
    const { data, info } = await open().raw().toBuffer({ resolveWithObject: true });
    return { mode: info.channels === 4 ? 'RGBA' : 'RGB', ...pixels(data, info) };
  } catch (error) {
    throw undecodable(bytes, name, error);
  }
}

function undecodable(bytes: Uint8Array, name: string, error: unknown): ArgumentError {
  const why = error instanceof Error ? error.message : String(error);
  return new ArgumentError(`Cannot decode image ${name} (it starts with bytes ${firstBytes(bytes)}): ${why}`);
}

function pixels(data: Buffer, info: { height: number; width: number; channels: number }) {
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), height: info.height, width: info.width, channels: info.channels };
}

// ---- Browser ------------------------------------------------------------------------------

/** What `ImageData` has: RGBA bytes, unpremultiplied. */
export interface ImageDataLike {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/** Structural stand-ins for the DOM types, so that the package's types need no DOM library. */
interface Canvas2D {
  drawImage(image: unknown, x: number, y: number): void;
  getImageData(x: number, y: number, width: number, height: number): ImageDataLike;
}
interface CanvasLike {
  getContext(kind: '2d', options?: { willReadFrequently?: boolean }): Canvas2D | null;
}
type Global = Record<string, unknown> & {
  OffscreenCanvas?: new (width: number, height: number) => CanvasLike;
  document?: { createElement(tag: 'canvas'): CanvasLike & { width: number; height: number } };
  createImageBitmap?: (image: unknown, options?: Record<string, string>) => Promise<{ width: number; height: number; close(): void }>;
  Blob?: new (parts: unknown[]) => unknown;
};
const browser = globalThis as unknown as Global;

/** The browser image classes we read through a canvas, each looked up only if the global exists. */
const DRAWABLE_CLASSES = ['HTMLImageElement', 'HTMLCanvasElement', 'OffscreenCanvas', 'ImageBitmap', 'SVGImageElement', 'HTMLVideoElement'];

/** True for an `HTMLImageElement`, canvas, `ImageBitmap` or video frame of this page. */
export function isDrawable(source: unknown): source is object {
  return DRAWABLE_CLASSES.some((name) => {
    const type = browser[name];
    return typeof type === 'function' && source instanceof (type as new () => unknown);
  });
}

/** True for an `ImageData` (or any `{ data, width, height }` of RGBA bytes). */
export function isImageDataLike(source: unknown): source is ImageDataLike {
  const candidate = source as Partial<ImageDataLike> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    (candidate.data instanceof Uint8ClampedArray || candidate.data instanceof Uint8Array) &&
    Number.isInteger(candidate.width) &&
    Number.isInteger(candidate.height) &&
    candidate.data.length === candidate.width! * candidate.height! * 4
  );
}

/** `ImageData`'s bytes as an RGBA image (copied, so that later drawing cannot change them). */
export function fromImageData({ data, width, height }: ImageDataLike): OpenedImage {
  return { mode: 'RGBA', data: Uint8Array.from(data), height, width, channels: 4 };
}

/** Draws an image element, canvas or bitmap at its natural size and reads back its RGBA pixels. */
export function readDrawable(source: object): OpenedImage {
  const sized = source as { naturalWidth?: number; naturalHeight?: number; videoWidth?: number; videoHeight?: number; width: number; height: number };
  const width = sized.naturalWidth || sized.videoWidth || sized.width;
  const height = sized.naturalHeight || sized.videoHeight || sized.height;
  if (!width || !height) {
    throw new ArgumentError(`Cannot read an image of ${width}×${height} pixels: is it loaded (await image.decode())?`);
  }
  let canvas: CanvasLike;
  if (browser.OffscreenCanvas) {
    canvas = new browser.OffscreenCanvas(width, height);
  } else if (browser.document) {
    canvas = Object.assign(browser.document.createElement('canvas'), { width, height });
  } else {
    throw new ArgumentError('Reading an image element needs a canvas (OffscreenCanvas or document), which this runtime lacks.');
  }
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new ArgumentError('Could not get a 2d canvas context to read the image.');
  context.drawImage(source, 0, 0);
  return fromImageData(context.getImageData(0, 0, width, height));
}

/**
 * Decodes file bytes with the browser's decoder (whatever formats it reads). Colour profiles are not
 * applied where the browser honours `colorSpaceConversion: 'none'`, but browsers do apply EXIF orientation;
 * alpha goes through the canvas's premultiplied storage, so translucent pixels may come back a level off
 * and fully transparent ones black.
 */
export async function decodeInBrowser(bytes: Uint8Array, name: string, maxPixels: number | null): Promise<OpenedImage> {
  if (!browser.createImageBitmap || !browser.Blob) {
    throw new ArgumentError(`Cannot decode image ${name}: this runtime has neither sharp (Node) nor createImageBitmap.`);
  }
  if (looksLikeSvg(bytes)) {
    throw new ArgumentError(`Cannot decode image ${name}: it is SVG, which Pillow (and so Keras's load_img) cannot read`);
  }
  let bitmap: { width: number; height: number; close(): void };
  try {
    bitmap = await browser.createImageBitmap(new browser.Blob([bytes]), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch (error) {
    throw new ArgumentError(`Cannot decode image ${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    // The browser has decoded it by now, but the canvas copy (4 bytes a pixel) is still avoided.
    checkPixelCount(bitmap.width, bitmap.height, maxPixels, name);
    return readDrawable(bitmap);
  } finally {
    bitmap.close();
  }
}

/** An XML or `<svg` start after optional whitespace and a UTF-8 byte-order mark. */
function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).replace(/^\uFEFF?\s*/, '');
  return /^<(\?xml|svg|!DOCTYPE svg)/i.test(head);
}
