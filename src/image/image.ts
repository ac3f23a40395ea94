// Keras's `keras.utils.load_img` and `img_to_array`, pixel for pixel: decode (sharp in Node, the browser's
// decoder in a browser), convert the colours as Pillow does, centre-crop to the target's aspect ratio when
// asked, and resize with Pillow's filters (src/image/pil-resize.ts). See docs/images.md.
import { validateStreamOptions } from '../weights/download';
import { resolveImageLimits } from './image-limits';
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from '../backend';
import { ArgumentError } from '../errors';
import { openImage, type ImageSource } from './image-source';
import { convertAsPil, type ColorMode } from './pil-convert';
import { resizeAsPil, type Interpolation, type Pixels, type ResizeBox } from './pil-resize';

export type { ImageSource, BrowserImage } from './image-source';
export type { ImageDataLike } from './image-decode';
export type { ColorMode } from './pil-convert';
export type { Interpolation } from './pil-resize';

export interface LoadImageOptions {
  /** `[height, width]` to resize to, as Keras's `target_size`; default: keep the image's size. */
  targetSize?: [number, number] | null;
  /** Pillow's filter: `'nearest'` (the default, as in Keras), `'bilinear'`, `'bicubic'`, `'hamming'`, `'box'`, `'lanczos'`. */
  interpolation?: Interpolation;
  /** Centre-crop to the aspect ratio of `targetSize` before resizing, as Keras's `keep_aspect_ratio`. Default false. */
  keepAspectRatio?: boolean;
  /**
   * `'rgb'` (3 channels, the default), `'rgba'` (4) or `'grayscale'` (1 channel, Pillow's ITU-R 601-2 luma;
   * 16-bit greyscale files keep their 16-bit values, as in Keras).
   */
  colorMode?: ColorMode;
  /** Largest image file read from a path or URL, in bytes (default 256 MiB); null for no limit. */
  maxBytes?: number | null;
  /**
   * Pillow's decompression-bomb rule, applied before decoding: a warning above this many pixels, refusal above
   * twice as many. Default Pillow's `Image.MAX_IMAGE_PIXELS`, 89,478,485; null for no limit.
   */
  maxPixels?: number | null;
  /** For an image URL: give up when no bytes arrive for this long. Default 60 000 ms. */
  timeoutMs?: number;
  /** For an image URL: give up when fetching it takes longer than this. Default: no limit. */
  deadlineMs?: number;
  /** For an image URL: abandons the fetch when aborted (a DownloadError). */
  signal?: AbortSignal;
}

export type ImageDtype = 'float32' | 'int32';
export type DataFormat = 'channels_last' | 'channels_first';

export interface ImgToArrayOptions {
  /** Default `'float32'` (Keras's floatx). */
  dtype?: ImageDtype;
  /** `'channels_last'` (`[h, w, c]`, the default) or `'channels_first'` (`[c, h, w]`). */
  dataFormat?: DataFormat;
}

/** Decoded pixels: `height × width × channels` values, row-major, channels last (uint16 only for 16-bit greyscale). */
export type DecodedImage<Data extends Uint8Array | Uint16Array = Uint8Array | Uint16Array> = Pixels<Data>;

const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear', 'bicubic', 'hamming', 'box', 'lanczos'];
const COLOR_MODES: readonly ColorMode[] = ['rgb', 'grayscale', 'rgba'];
const LOAD_OPTIONS = ['targetSize', 'interpolation', 'keepAspectRatio', 'colorMode', 'maxBytes', 'maxPixels', 'timeoutMs', 'deadlineMs', 'signal'];
const DTYPES: readonly ImageDtype[] = ['float32', 'int32'];
const DATA_FORMATS: readonly DataFormat[] = ['channels_last', 'channels_first'];

/**
 * Loads an image as Keras's `load_img` does: Pillow's colour conversion (alpha dropped, not composited, for
 * `'rgb'`), then, if `targetSize` differs from the image's size, Pillow's resize, on the centred crop of the
 * target's aspect ratio when `keepAspectRatio`.
 */
export async function loadImage(source: ImageSource, options?: LoadImageOptions & { colorMode?: 'rgb' | 'rgba' }): Promise<DecodedImage<Uint8Array>>;
export async function loadImage(source: ImageSource, options?: LoadImageOptions): Promise<DecodedImage>;
export async function loadImage(source: ImageSource, options: LoadImageOptions = {}): Promise<DecodedImage> {
  const { targetSize, interpolation, keepAspectRatio, colorMode, limits, fetching } = validateLoadOptions(options);
  const image = convertAsPil(await openImage(source, limits, fetching), colorMode);
  if (!targetSize || (targetSize[0] === image.height && targetSize[1] === image.width)) return image;
  const [height, width] = targetSize;
  const box = keepAspectRatio ? centreCrop(image, height, width) : undefined;
  return resizeAsPil(image, height, width, interpolation, box);
}

/** Keras's `img_to_array`: the pixels as a `[height, width, channels]` tensor (or `[channels, height, width]`). */
export function imgToArray(image: DecodedImage, options: ImgToArrayOptions = {}): tf.Tensor3D {
  const { dtype, dataFormat } = validateArrayOptions(options, 'imgToArray');
  const { data, height, width, channels } = image;
  const values = dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data);
  const array = tf.tensor3d(values, [height, width, channels], dtype);
  if (dataFormat === 'channels_last') return array;
  const transposed = tf.transpose(array, [2, 0, 1]);
  array.dispose();
  return transposed;
}

/** `loadImage` then `imgToArray`. */
export async function loadImageTensor(source: ImageSource, options: LoadImageOptions & ImgToArrayOptions = {}): Promise<tf.Tensor3D> {
  const { dtype, dataFormat, ...loadOptions } = options;
  const arrayOptions = validateArrayOptions({ dtype, dataFormat }, 'loadImageTensor');
  const image = await loadImage(source, loadOptions);
  await ensureBackend();
  return imgToArray(image, arrayOptions);
}

/**
 * Loads several images into one `[n, height, width, channels]` tensor (`[n, channels, height, width]` with
 * `'channels_first'`); they must come out the same size, so pass `targetSize` unless they already are.
 */
export async function loadImageBatch(sources: ImageSource[], options: LoadImageOptions & ImgToArrayOptions = {}): Promise<tf.Tensor4D> {
  if (!Array.isArray(sources) || sources.length === 0) {
    throw new ArgumentError(`\`sources\` must be a non-empty array of images. Received: ${Array.isArray(sources) ? '[]' : typeof sources}`);
  }
  const { dtype, dataFormat, ...loadOptions } = options;
  const arrayOptions = validateArrayOptions({ dtype, dataFormat }, 'loadImageBatch');
  validateLoadOptions(loadOptions);
  const images = await Promise.all(sources.map((source) => loadImage(source, loadOptions)));
  const { height, width, channels } = images[0]!;
  const other = images.findIndex((image) => image.height !== height || image.width !== width || image.channels !== channels);
  if (other >= 0) {
    const shape = (image: DecodedImage) => `[${image.height}, ${image.width}, ${image.channels}]`;
    throw new ArgumentError(
      `\`loadImageBatch\` needs images of one shape; pass \`targetSize\`. Received: image 0 is ${shape(images[0]!)}, image ${other} is ${shape(images[other]!)}`,
    );
  }
  await ensureBackend();
  return stackImages(images, arrayOptions);
}

/** Images of one shape as one `[n, height, width, channels]` tensor (`[n, channels, height, width]` with `'channels_first'`). */
export function stackImages(images: DecodedImage[], { dtype, dataFormat }: Required<ImgToArrayOptions>): tf.Tensor4D {
  const { height, width, channels } = images[0]!;
  const size = height * width * channels;
  const values = dtype === 'int32' ? new Int32Array(size * images.length) : new Float32Array(size * images.length);
  images.forEach((image, i) => values.set(image.data, i * size));
  const batch = tf.tensor4d(values, [images.length, height, width, channels], dtype);
  if (dataFormat === 'channels_last') return batch;
  const transposed = tf.transpose(batch, [0, 3, 1, 2]);
  batch.dispose();
  return transposed;
}

/** Stacks same-shaped image tensors into a `[batch, ...shape]` tensor. */
export function imageBatch(images: tf.Tensor3D[]): tf.Tensor4D {
  if (images.length === 0) throw new ArgumentError('`imageBatch` needs at least one image. Received: []');
  const shape = images[0]!.shape;
  const other = images.find((image) => image.shape.some((dim, i) => dim !== shape[i]));
  if (other) {
    throw new ArgumentError(
      `\`imageBatch\` needs images of one shape; resize them with \`targetSize\`. Received: [${shape.join(', ')}] and [${other.shape.join(', ')}]`,
    );
  }
  return tf.stack(images) as tf.Tensor4D;
}

/**
 * Keras's `keep_aspect_ratio` box: the largest centred crop with the target's aspect ratio, in integer
 * arithmetic as Keras computes it.
 */
function centreCrop({ height, width }: { height: number; width: number }, targetHeight: number, targetWidth: number): ResizeBox {
  const cropHeight = Math.min(height, Math.floor((width * targetHeight) / targetWidth));
  const cropWidth = Math.min(width, Math.floor((height * targetWidth) / targetHeight));
  if (cropHeight === 0 || cropWidth === 0) {
    throw new ArgumentError(
      `keepAspectRatio: a ${width}×${height} image has no centred crop of aspect ratio ${targetWidth}:${targetHeight} (width:height) at least one pixel wide and high.`,
    );
  }
  const top = Math.floor((height - cropHeight) / 2);
  const left = Math.floor((width - cropWidth) / 2);
  return { left, top, right: left + cropWidth, bottom: top + cropHeight };
}

// ---- Arguments ------------------------------------------------------------------------------

function validateLoadOptions(options: LoadImageOptions) {
  if (typeof options !== 'object' || options === null) {
    throw new ArgumentError(`\`options\` must be an object. Received: ${String(options)}`);
  }
  const unknown = Object.keys(options).filter((key) => !LOAD_OPTIONS.includes(key));
  if (unknown.length > 0) {
    throw new ArgumentError(`Unknown image option(s) ${unknown.map((k) => `\`${k}\``).join(', ')}. Allowed: ${LOAD_OPTIONS.join(', ')}`);
  }
  const { targetSize = null, interpolation = 'nearest', keepAspectRatio = false, colorMode = 'rgb' } = options;
  if (!INTERPOLATIONS.includes(interpolation)) {
    throw new ArgumentError(
      `\`interpolation\` must be one of ${INTERPOLATIONS.map((i) => `'${i}'`).join(', ')}. Received: interpolation=${JSON.stringify(interpolation)}`,
    );
  }
  if (!COLOR_MODES.includes(colorMode)) {
    throw new ArgumentError(`\`colorMode\` must be 'rgb', 'grayscale' or 'rgba'. Received: colorMode=${JSON.stringify(colorMode)}`);
  }
  if (typeof keepAspectRatio !== 'boolean') {
    throw new ArgumentError(`\`keepAspectRatio\` must be a boolean. Received: keepAspectRatio=${JSON.stringify(keepAspectRatio)}`);
  }
  const isSize = Array.isArray(targetSize) && targetSize.length === 2 && targetSize.every((n) => Number.isInteger(n) && n > 0);
  if (targetSize !== null && !isSize) {
    throw new ArgumentError(
      `\`targetSize\` must be [height, width], two positive integers, or null. Received: targetSize=${JSON.stringify(targetSize)}`,
    );
  }
  const { timeoutMs, deadlineMs, signal } = options;
  validateStreamOptions({ timeoutMs, deadlineMs, signal });
  return { targetSize, interpolation, keepAspectRatio, colorMode, limits: resolveImageLimits(options), fetching: { timeoutMs, deadlineMs, signal } };
}

function validateArrayOptions({ dtype = 'float32', dataFormat = 'channels_last' }: ImgToArrayOptions, caller: string): Required<ImgToArrayOptions> {
  if (!DTYPES.includes(dtype)) {
    throw new ArgumentError(`\`${caller}\`: \`dtype\` must be 'float32' or 'int32'. Received: dtype=${JSON.stringify(dtype)}`);
  }
  if (!DATA_FORMATS.includes(dataFormat)) {
    throw new ArgumentError(
      `\`${caller}\`: \`dataFormat\` must be 'channels_last' or 'channels_first'. Received: dataFormat=${JSON.stringify(dataFormat)}`,
    );
  }
  return { dtype, dataFormat };
}
