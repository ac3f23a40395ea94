// Loading images as Keras's `keras.utils.load_img` + `img_to_array` do with PIL: decode, convert to RGB
// (or L), resize with PIL's nearest or bilinear filter, bit for bit. JPEGs follow libjpeg-turbo (PIL's
// decoder) in chroma upsampling and YCbCr → RGB rounding; only jpeg-js's IDCT remains, a level or so off.
// Decoders and node:fs are imported on first use, so the module loads in a browser (pass bytes there).
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from '../backend';
import { isNode } from '../env';
import { ArgumentError } from '../errors';

export type Interpolation = 'nearest' | 'bilinear';
export type ColorMode = 'rgb' | 'grayscale';

export interface LoadImageOptions {
  /** `[height, width]` to resize to, as Keras's `target_size`; default: keep the image's size. */
  targetSize?: [number, number];
  /** How to resize; default `'nearest'`, as Keras's `load_img`. */
  interpolation?: Interpolation;
  /** `'rgb'` (3 channels, the default) or `'grayscale'` (1 channel, PIL's ITU-R 601-2 luma). */
  colorMode?: ColorMode;
}

/** Decoded pixels: `height × width × channels` uint8 values, row-major, channels last. */
export interface DecodedImage {
  data: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

/** A path (Node only) or the bytes of a JPEG or PNG file. */
export type ImageSource = string | Uint8Array | ArrayBuffer;

const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear'];
const COLOR_MODES: readonly ColorMode[] = ['rgb', 'grayscale'];

/**
 * Reads a JPEG or PNG (told apart by their first bytes) as Keras's `load_img` does: transparency is
 * dropped (not composited), greyscale and palette images become RGB, and the image is resized to
 * `targetSize` with PIL's filter. 16-bit PNG samples become 8-bit as PIL makes them (greyscale
 * clipped at 255, colour by the high byte).
 */
export async function loadImage(source: ImageSource, options: LoadImageOptions = {}): Promise<DecodedImage> {
  const { targetSize, interpolation = 'nearest', colorMode = 'rgb' } = options;
  if (!INTERPOLATIONS.includes(interpolation)) {
    throw new ArgumentError(`\`interpolation\` must be 'nearest' or 'bilinear'. Received: interpolation=${String(interpolation)}`);
  }
  if (!COLOR_MODES.includes(colorMode)) {
    throw new ArgumentError(`\`colorMode\` must be 'rgb' or 'grayscale'. Received: colorMode=${String(colorMode)}`);
  }
  if (targetSize !== undefined && !isSize(targetSize)) {
    throw new ArgumentError(
      `\`targetSize\` must be [height, width], two positive integers. Received: targetSize=${JSON.stringify(targetSize)}`,
    );
  }
  const { bytes, name } = await readSource(source);
  const rgb = await decode(bytes, name);
  // Keras converts the colours before resizing.
  const image = colorMode === 'grayscale' ? toGrayscale(rgb) : rgb;
  if (!targetSize || (targetSize[0] === image.height && targetSize[1] === image.width)) return image;
  const [height, width] = targetSize;
  return interpolation === 'nearest' ? resizeNearest(image, height, width) : resizeBilinear(image, height, width);
}

/** `loadImage` followed by Keras's `img_to_array`: a float32 `[height, width, channels]` tensor. */
export async function loadImageTensor(source: ImageSource, options: LoadImageOptions = {}): Promise<tf.Tensor3D> {
  const { data, height, width, channels } = await loadImage(source, options);
  await ensureBackend();
  return tf.tensor3d(Float32Array.from(data), [height, width, channels], 'float32');
}

/** Stacks same-sized images into a `[batch, height, width, channels]` tensor. */
export function imageBatch(images: tf.Tensor3D[]): tf.Tensor4D {
  if (images.length === 0) throw new ArgumentError('`imageBatch` needs at least one image. Received: []');
  const shape = images[0].shape;
  const other = images.find((image) => image.shape.some((dim, i) => dim !== shape[i]));
  if (other) {
    throw new ArgumentError(
      `\`imageBatch\` needs images of one shape; resize them with \`targetSize\`. Received: [${shape.join(', ')}] and [${other.shape.join(', ')}]`,
    );
  }
  return tf.stack(images) as tf.Tensor4D;
}

function isSize(size: unknown): size is [number, number] {
  return Array.isArray(size) && size.length === 2 && size.every((n) => Number.isInteger(n) && n > 0);
}

// ---- Reading ------------------------------------------------------------------------------

async function readSource(source: ImageSource): Promise<{ bytes: Uint8Array; name: string }> {
  if (source instanceof Uint8Array) return { bytes: source, name: `<${source.byteLength} bytes>` };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: `<${source.byteLength} bytes>` };
  if (typeof source !== 'string') {
    throw new ArgumentError(`Expected an image path, Uint8Array or ArrayBuffer. Received: ${typeof source}`);
  }
  if (!isNode()) {
    throw new ArgumentError(`Cannot read '${source}': outside Node.js, pass the image's bytes (e.g. from fetch()).`);
  }
  const { readFile } = await import('node:fs/promises');
  try {
    return { bytes: await readFile(source), name: `'${source}'` };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error);
    throw new ArgumentError(`Cannot read image '${source}': ${why}`);
  }
}

async function decode(bytes: Uint8Array, name: string): Promise<DecodedImage> {
  const isPng = PNG_SIGNATURE.every((byte, i) => bytes[i] === byte);
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!isPng && !isJpeg) {
    const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new ArgumentError(`Cannot load image ${name}: not a JPEG or PNG file (it starts with bytes ${head || '(empty)'})`);
  }
  try {
    return isPng ? await decodePng(bytes) : await decodeJpeg(bytes);
  } catch (error) {
    throw new ArgumentError(`Cannot decode ${isPng ? 'PNG' : 'JPEG'} image ${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

// ---- PNG ----------------------------------------------------------------------------------

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_PALETTE = 3;
const PNG_GREY = 0;

// pngjs needs Node's zlib and streams: a computed specifier keeps browser bundlers from pulling them in.
const PNGJS = 'pngjs';

/** PIL's `Image.open(png).convert('RGB')`. */
async function decodePng(bytes: Uint8Array): Promise<DecodedImage> {
  const { PNG } = (await import(/* webpackIgnore: true */ /* @vite-ignore */ PNGJS)) as typeof import('pngjs');
  // Raw samples (no rescaling) so that 16-bit data is reduced as PIL reduces it.
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  const { width, height, depth } = png;
  const colorType: number = png.colorType; // pngjs reports 3 for palette images; its types omit it
  const raw = png.data as unknown as Uint8Array | Uint16Array; // RGBA, one sample per entry
  const transColor = (png as unknown as { transColor?: number[] }).transColor;
  const toByte =
    colorType === PNG_PALETTE || depth === 8
      ? (v: number) => v
      : depth === 16
        ? colorType === PNG_GREY
          ? (v: number) => Math.min(v, 255)
          : (v: number) => v >> 8
        : (v: number) => (v * 255) / (2 ** depth - 1);
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    // pngjs blacks out tRNS-keyed pixels (alpha 0 in an image without alpha); PIL keeps their colour.
    const keyed = transColor !== undefined && colorType !== PNG_PALETTE && raw[p * 4 + 3] === 0;
    for (let c = 0; c < 3; c++) {
      data[p * 3 + c] = toByte(keyed ? transColor[transColor.length === 1 ? 0 : c] : raw[p * 4 + c]);
    }
  }
  return { data, width, height, channels: 3 };
}

// ---- JPEG ---------------------------------------------------------------------------------

interface JpegLayout {
  /** Component ids and sampling factors from the frame header. */
  components: { id: number; h: number; v: number }[];
  jfif: boolean;
  /** Where the Adobe APP14 colour-transform flag is, and its value. */
  adobeTransform?: { offset: number; value: number };
}

/** PIL's `Image.open(jpeg).convert('RGB')` with libjpeg-turbo's default (ISLOW, fancy upsampling) decoding. */
async function decodeJpeg(bytes: Uint8Array): Promise<DecodedImage> {
  const { decode: decodeJpegJs } = await import('jpeg-js');
  const layout = jpegLayout(bytes);
  // Greyscale needs nothing more; CMYK is left to jpeg-js.
  if (layout.components.length !== 3) {
    const jpeg = decodeJpegJs(bytes, { useTArray: true, formatAsRGBA: false });
    return { data: jpeg.data, width: jpeg.width, height: jpeg.height, channels: 3 };
  }
  let input = bytes;
  if (layout.adobeTransform?.value) {
    // jpeg-js converts colours itself whenever this flag is set; clear it on a copy to get the raw components.
    input = bytes.slice();
    input[layout.adobeTransform.offset] = 0;
  }
  const jpeg = decodeJpegJs(input, { useTArray: true, formatAsRGBA: false, colorTransform: false });
  const image = { data: jpeg.data, width: jpeg.width, height: jpeg.height, channels: 3 };
  upsampleComponents(image, layout);
  if (isYcc(layout)) yccToRgb(image.data);
  return image;
}

/** The markers that decide how libjpeg decodes: frame components, JFIF and Adobe APP segments. */
function jpegLayout(bytes: Uint8Array): JpegLayout {
  const layout: JpegLayout = { components: [], jfif: false };
  const ascii = (at: number, text: string) => [...text].every((ch, i) => bytes[at + i] === ch.charCodeAt(0));
  let pos = 2;
  while (pos + 4 <= bytes.length && bytes[pos] === 0xff) {
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    const start = pos + 4;
    if (marker === 0xe0 && ascii(start, 'JFIF\0')) layout.jfif = true;
    if (marker === 0xee && ascii(start, 'Adobe')) layout.adobeTransform = { offset: start + 11, value: bytes[start + 11] };
    // SOF0–SOF15, except DHT (c4), JPG (c8) and DAC (cc).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const count = bytes[start + 5];
      for (let i = 0; i < count; i++) {
        const at = start + 6 + i * 3;
        layout.components.push({ id: bytes[at], h: bytes[at + 1] >> 4, v: bytes[at + 1] & 15 });
      }
      return layout;
    }
    pos = start + ((bytes[pos + 2] << 8) | bytes[pos + 3]) - 2;
  }
  return layout;
}

/** libjpeg's rule for a 3-component file: YCbCr unless an Adobe marker or 'R','G','B' ids say RGB. */
function isYcc({ components, jfif, adobeTransform }: JpegLayout): boolean {
  if (jfif) return true;
  if (adobeTransform) return adobeTransform.value !== 0;
  return components.map((c) => String.fromCharCode(c.id)).join('') !== 'RGB';
}

/**
 * Replaces jpeg-js's pixel-replicated subsampled components (usually the chroma) by libjpeg-turbo's
 * "fancy" triangle-filter upsampling (jdsample.c) for 2:1 factors; other factors both replicate.
 */
function upsampleComponents(image: DecodedImage, layout: JpegLayout): void {
  const { data, width, height } = image;
  const maxH = Math.max(...layout.components.map((c) => c.h));
  const maxV = Math.max(...layout.components.map((c) => c.v));
  layout.components.forEach(({ h, v }, channel) => {
    const [hr, vr] = [maxH / h, maxV / v];
    const planeWidth = Math.ceil(width / hr);
    const planeHeight = Math.ceil(height / vr);
    // libjpeg-turbo filters 2:1 horizontally only for planes wider than 2 samples, 1:2 vertically always.
    const horizontal = hr === 2 && planeWidth > 2 && (vr === 1 || vr === 2);
    const vertical = vr === 2 && (hr === 1 || horizontal);
    if (!horizontal && !vertical) return;
    // jpeg-js replicated each sample hr × vr times: every hr-th column of every vr-th row is the plane.
    const plane = new Uint8Array(planeWidth * planeHeight);
    for (let y = 0; y < planeHeight; y++) {
      for (let x = 0; x < planeWidth; x++) plane[y * planeWidth + x] = data[((y * vr) * width + x * hr) * 3 + channel];
    }
    const sums = new Int32Array(planeWidth);
    for (let y = 0; y < height; y++) {
      // Vertical pass: 3/4 nearer row + 1/4 the row above (even rows) or below (odd rows), edges repeated.
      // Without it near = far, so the sums are 4 × the sample in both cases.
      const near = vertical ? y >> 1 : y;
      const far = vertical ? Math.min(Math.max(near + (y & 1 ? 1 : -1), 0), planeHeight - 1) : near;
      for (let x = 0; x < planeWidth; x++) sums[x] = 3 * plane[near * planeWidth + x] + plane[far * planeWidth + x];
      for (let x = 0; x < width; x++) {
        let value: number;
        if (!horizontal) {
          value = (sums[x] + (y & 1 ? 2 : 1)) >> 2;
        } else {
          // Horizontal pass, same weights; libjpeg's rounding biases alternate by column (an ordered dither).
          const i = x >> 1;
          const neighbour = x & 1 ? Math.min(i + 1, planeWidth - 1) : Math.max(i - 1, 0);
          const bias = vertical ? (x & 1 ? 7 : 8) : x & 1 ? 8 : 4;
          value = (3 * sums[i] + sums[neighbour] + bias) >> 4;
        }
        data[(y * width + x) * 3 + channel] = value;
      }
    }
  });
}

// libjpeg's YCbCr → RGB (jdcolor.c): 16-bit fixed point, rounded, clamped.
const fix = (x: number) => Math.floor(x * 2 ** 16 + 0.5);
const [CR_R, CB_G, CR_G, CB_B, HALF] = [fix(1.402), fix(0.34414), fix(0.71414), fix(1.772), 2 ** 15];

function yccToRgb(data: Uint8Array): void {
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  for (let i = 0; i < data.length; i += 3) {
    const y = data[i];
    const cb = data[i + 1] - 128;
    const cr = data[i + 2] - 128;
    data[i] = clamp(y + ((CR_R * cr + HALF) >> 16));
    data[i + 1] = clamp(y + ((HALF - CB_G * cb - CR_G * cr) >> 16));
    data[i + 2] = clamp(y + ((CB_B * cb + HALF) >> 16));
  }
}

// ---- Colour and resizing --------------------------------------------------------------------

/** PIL's `convert('L')`: ITU-R 601-2 luma in 16-bit fixed point (Convert.c `L24`); greys stay exact. */
function toGrayscale({ data, width, height }: DecodedImage): DecodedImage {
  const grey = new Uint8Array(width * height);
  for (let p = 0; p < grey.length; p++) {
    grey[p] = (data[p * 3] * 19595 + data[p * 3 + 1] * 38470 + data[p * 3 + 2] * 7471 + 0x8000) >> 16;
  }
  return { data: grey, width, height, channels: 1 };
}

/**
 * PIL's `resize(size, NEAREST)` (Geometry.c ImagingScaleAffine): source index = floor((i + 0.5) × src / dst),
 * accumulated step by step as Pillow does so that the float rounding matches too.
 */
export function nearestIndices(sourceSize: number, targetSize: number): Int32Array {
  const scale = sourceSize / targetSize;
  const indices = new Int32Array(targetSize);
  let position = scale * 0.5;
  for (let i = 0; i < targetSize; i++) {
    indices[i] = Math.min(Math.trunc(position), sourceSize - 1);
    position += scale;
  }
  return indices;
}

function resizeNearest(image: DecodedImage, height: number, width: number): DecodedImage {
  const { data, channels } = image;
  const rows = nearestIndices(image.height, height);
  const cols = nearestIndices(image.width, width);
  const out = new Uint8Array(height * width * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (rows[y] * image.width + cols[x]) * channels;
      const to = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = data[from + c];
    }
  }
  return { data: out, height, width, channels };
}

// Pillow's 8-bit resampling (Resample.c): weights in 22-bit fixed point, a horizontal pass then a
// vertical one, each rounded to uint8, and each skipped when that side keeps its size.
const PRECISION_BITS = 22;

interface Coefficients {
  /** First source index and number of source samples of each output sample. */
  start: Int32Array;
  count: Int32Array;
  /** Weights, `taps` slots per output sample, of which the first `count` are used. */
  weights: Int32Array;
  taps: number;
}

/** Pillow's `precompute_coeffs` for the triangle (BILINEAR) filter, widened by the downscale factor. */
function bilinearCoefficients(sourceSize: number, targetSize: number): Coefficients {
  const scale = sourceSize / targetSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle's support is 1
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(targetSize);
  const counts = new Int32Array(targetSize);
  const weights = new Int32Array(targetSize * taps);
  const row = new Float64Array(taps);
  for (let i = 0; i < targetSize; i++) {
    const center = (i + 0.5) * scale;
    const first = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), sourceSize) - first;
    let total = 0;
    for (let k = 0; k < count; k++) {
      row[k] = Math.max(1 - Math.abs((k + first - center + 0.5) / filterScale), 0);
      total += row[k];
    }
    for (let k = 0; k < count; k++) {
      const w = total === 0 ? row[k] : row[k] / total;
      weights[i * taps + k] = Math.trunc(w * 2 ** PRECISION_BITS + (w < 0 ? -0.5 : 0.5));
    }
    start[i] = first;
    counts[i] = count;
  }
  return { start, count: counts, weights, taps };
}

/** One resampling pass along an axis whose neighbours are `srcStep` / `dstStep` apart, for `lines` lines. */
function resamplePass(
  src: Uint8Array,
  { start, count, weights, taps }: Coefficients,
  shape: { lines: number; srcLineStride: number; dstLineStride: number; srcStep: number; dstStep: number; channels: number },
): Uint8Array {
  const { lines, srcLineStride, dstLineStride, srcStep, dstStep, channels } = shape;
  const out = new Uint8Array(lines * start.length * channels);
  const half = 1 << (PRECISION_BITS - 1);
  for (let line = 0; line < lines; line++) {
    for (let i = 0; i < start.length; i++) {
      for (let c = 0; c < channels; c++) {
        let sum = half;
        const base = line * srcLineStride + start[i] * srcStep + c;
        for (let k = 0; k < count[i]; k++) sum += src[base + k * srcStep] * weights[i * taps + k];
        const value = sum >> PRECISION_BITS;
        out[line * dstLineStride + i * dstStep + c] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
    }
  }
  return out;
}

function resizeBilinear(image: DecodedImage, height: number, width: number): DecodedImage {
  const { channels } = image;
  let data = image.data;
  if (width !== image.width) {
    data = resamplePass(data, bilinearCoefficients(image.width, width), {
      lines: image.height,
      srcLineStride: image.width * channels,
      dstLineStride: width * channels,
      srcStep: channels,
      dstStep: channels,
      channels,
    });
  }
  if (height !== image.height) {
    data = resamplePass(data, bilinearCoefficients(image.height, height), {
      lines: width,
      srcLineStride: channels,
      dstLineStride: channels,
      srcStep: width * channels,
      dstStep: width * channels,
      channels,
    });
  }
  return { data, height, width, channels };
}
