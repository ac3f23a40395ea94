// Pillow's `Image.resize(size, filter, box)`, the resize behind Keras's `load_img`, bit for bit: NEAREST
// picks pixels (Geometry.c ImagingScaleAffine); the other filters are Resample.c's separable convolution, a
// horizontal pass then a vertical one, each rounded, 8-bit images in 22-bit fixed point and 16-bit greyscale
// ("I;16") in double precision.

export type Interpolation = 'nearest' | 'bilinear' | 'bicubic' | 'hamming' | 'box' | 'lanczos';

/** `height × width × channels` samples, row-major, channels last. */
export interface Pixels<Data extends Uint8Array | Uint16Array = Uint8Array | Uint16Array> {
  data: Data;
  height: number;
  width: number;
  channels: number;
}

/** The source rectangle to resize, in pixels: Pillow's `box` (left, top, right, bottom). */
export interface ResizeBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

interface Filter {
  weight: (x: number) => number;
  /** Half-width at scale 1. */
  support: number;
}

// C's (float)0.54 and (float)0.46, as Resample.c writes them.
const HAMMING_A = Math.fround(0.54);
const HAMMING_B = Math.fround(0.46);
const sinc = (x: number) => (x === 0 ? 1 : Math.sin(x * Math.PI) / (x * Math.PI));

const FILTERS: Record<Exclude<Interpolation, 'nearest'>, Filter> = {
  box: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: { support: 1, weight: (x) => Math.max(1 - Math.abs(x), 0) },
  hamming: {
    support: 1,
    weight: (x) => {
      const ax = Math.abs(x);
      if (ax === 0) return 1;
      if (ax >= 1) return 0;
      return (Math.sin(ax * Math.PI) / (ax * Math.PI)) * (HAMMING_A + HAMMING_B * Math.cos(ax * Math.PI));
    },
  },
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      const ax = Math.abs(x);
      if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
      if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/**
 * Resizes as Pillow does. RGBA images (4 channels) are resampled with premultiplied alpha, as
 * `Image.resize` does for every filter but NEAREST.
 */
export function resizeAsPil<Data extends Uint8Array | Uint16Array>(
  image: Pixels<Data>,
  height: number,
  width: number,
  interpolation: Interpolation,
  box: ResizeBox = { left: 0, top: 0, right: image.width, bottom: image.height },
): Pixels<Data> {
  if (interpolation === 'nearest') return resizeNearest(image, height, width, box);
  const filter = FILTERS[interpolation];
  if (image.channels === 4) {
    const premultiplied = premultiplyAlpha(image as Pixels<Uint8Array>);
    return unpremultiplyAlpha(resample(premultiplied, height, width, filter, box)) as Pixels<Data>;
  }
  return resample(image, height, width, filter, box);
}

// ---- NEAREST ------------------------------------------------------------------------------

/**
 * Source indices of Pillow's NEAREST: floor(start + (i + 0.5) × step), accumulated step by step as Pillow
 * does so that the float rounding matches too.
 */
export function nearestIndices(sourceStart: number, sourceEnd: number, targetSize: number): Int32Array {
  const step = (sourceEnd - sourceStart) / targetSize;
  const indices = new Int32Array(targetSize);
  let position = sourceStart + step * 0.5;
  for (let i = 0; i < targetSize; i++) {
    indices[i] = Math.trunc(position);
    position += step;
  }
  return indices;
}

function resizeNearest<Data extends Uint8Array | Uint16Array>(image: Pixels<Data>, height: number, width: number, box: ResizeBox): Pixels<Data> {
  const { data, channels } = image;
  const rows = nearestIndices(box.top, box.bottom, height);
  const cols = nearestIndices(box.left, box.right, width);
  const out = new (data.constructor as new (length: number) => Data)(height * width * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (rows[y]! * image.width + cols[x]!) * channels;
      const to = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = data[from + c]!;
    }
  }
  return { data: out, height, width, channels };
}

// ---- Convolution filters --------------------------------------------------------------------

const PRECISION_BITS = 22;

interface Coefficients {
  /** First source index and number of source samples of each output sample. */
  first: Int32Array;
  count: Int32Array;
  /** Normalised weights, `taps` slots per output sample, of which the first `count` are used. */
  weights: Float64Array;
  taps: number;
}

/** Resample.c `precompute_coeffs`: the filter, widened by the downscale factor, over `[start, end)`. */
function coefficients(sourceSize: number, start: number, end: number, targetSize: number, filter: Filter): Coefficients {
  const scale = (end - start) / targetSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(targetSize);
  const count = new Int32Array(targetSize);
  const weights = new Float64Array(targetSize * taps);
  for (let i = 0; i < targetSize; i++) {
    const center = start + (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), sourceSize) - lo;
    let total = 0;
    for (let k = 0; k < n; k++) {
      const w = filter.weight((k + lo - center + 0.5) / filterScale);
      weights[i * taps + k] = w;
      total += w;
    }
    if (total !== 0) for (let k = 0; k < n; k++) weights[i * taps + k]! /= total;
    first[i] = lo;
    count[i] = n;
  }
  return { first, count, weights, taps };
}

/** How one pass walks the image: `lines` lines, `step` apart between neighbouring samples of a line. */
interface PassLayout {
  lines: number;
  srcLineStride: number;
  dstLineStride: number;
  srcStep: number;
  dstStep: number;
  channels: number;
}

/** Resample.c's 8-bit pass: weights rounded to 22-bit integers, sums rounded and clipped to 0…255. */
function pass8(src: Uint8Array, { first, count, weights, taps }: Coefficients, layout: PassLayout, outLength: number): Uint8Array {
  const { lines, srcLineStride, dstLineStride, srcStep, dstStep, channels } = layout;
  const fixed = Int32Array.from(weights, (w) => Math.trunc(w * 2 ** PRECISION_BITS + (w < 0 ? -0.5 : 0.5)));
  const out = new Uint8Array(outLength);
  const half = 1 << (PRECISION_BITS - 1);
  for (let line = 0; line < lines; line++) {
    for (let i = 0; i < first.length; i++) {
      const base = line * srcLineStride + first[i]! * srcStep;
      const at = line * dstLineStride + i * dstStep;
      for (let c = 0; c < channels; c++) {
        let sum = half;
        for (let k = 0; k < count[i]!; k++) sum += src[base + k * srcStep + c]! * fixed[i * taps + k]!;
        const value = sum >> PRECISION_BITS;
        out[at + c] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
    }
  }
  return out;
}

/**
 * Resample.c's 16-bit ("I;16") pass: double sums rounded half away from zero; a value outside 0…65535
 * (overshoot of bicubic or lanczos) is clipped byte by byte as Pillow does.
 */
function pass16(src: Uint16Array, { first, count, weights, taps }: Coefficients, layout: PassLayout, outLength: number): Uint16Array {
  const { lines, srcLineStride, dstLineStride, srcStep, dstStep } = layout;
  const clip8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  const out = new Uint16Array(outLength);
  for (let line = 0; line < lines; line++) {
    for (let i = 0; i < first.length; i++) {
      const base = line * srcLineStride + first[i]! * srcStep;
      let sum = 0;
      for (let k = 0; k < count[i]!; k++) sum += src[base + k * srcStep]! * weights[i * taps + k]!;
      const rounded = Math.trunc(sum >= 0 ? sum + 0.5 : sum - 0.5);
      out[line * dstLineStride + i * dstStep] = (clip8(rounded >> 8) << 8) | clip8(rounded % 256);
    }
  }
  return out;
}

function resample<Data extends Uint8Array | Uint16Array>(
  image: Pixels<Data>,
  height: number,
  width: number,
  filter: Filter,
  box: ResizeBox,
): Pixels<Data> {
  const { channels } = image;
  const pass = (src: Data, coeffs: Coefficients, layout: PassLayout, length: number) =>
    (src instanceof Uint16Array ? pass16(src, coeffs, layout, length) : pass8(src as Uint8Array, coeffs, layout, length)) as Data;
  // Pillow's conditions, which also crop (a pass at scale 1 copies) when the box is not the whole image.
  const horizontal = width !== image.width || box.left !== 0 || box.right !== width;
  const vertical = height !== image.height || box.top !== 0 || box.bottom !== height;
  let data = image.data;
  let rowLength = image.width;
  if (horizontal) {
    data = pass(data, coefficients(image.width, box.left, box.right, width, filter), {
      lines: image.height,
      srcLineStride: image.width * channels,
      dstLineStride: width * channels,
      srcStep: channels,
      dstStep: channels,
      channels,
    }, image.height * width * channels);
    rowLength = width;
  }
  if (vertical) {
    data = pass(data, coefficients(image.height, box.top, box.bottom, height, filter), {
      lines: rowLength * channels,
      srcLineStride: 1,
      dstLineStride: 1,
      srcStep: rowLength * channels,
      dstStep: rowLength * channels,
      channels: 1,
    }, height * rowLength * channels);
  }
  return { data, height, width: rowLength, channels };
}

// ---- Premultiplied alpha (Convert.c) ----------------------------------------------------------

/** a × b / 255 for bytes, rounded as Pillow's MULDIV255 macro. */
export function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** RGBA → RGBa: colour × alpha / 255 (MULDIV255). */
function premultiplyAlpha({ data, height, width, channels }: Pixels<Uint8Array>): Pixels<Uint8Array> {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const alpha = data[i + 3]!;
    for (let c = 0; c < 3; c++) out[i + c] = mulDiv255(data[i + c]!, alpha);
    out[i + 3] = alpha;
  }
  return { data: out, height, width, channels };
}

/** RGBa → RGBA: colour × 255 / alpha, truncated and clipped; alpha 0 and 255 keep the colour. */
function unpremultiplyAlpha({ data, height, width, channels }: Pixels): Pixels<Uint8Array> {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const alpha = data[i + 3]!;
    for (let c = 0; c < 3; c++) {
      out[i + c] = alpha === 0 || alpha === 255 ? data[i + c]! : Math.min(Math.trunc((255 * data[i + c]!) / alpha), 255);
    }
    out[i + 3] = alpha;
  }
  return { data: out, height, width, channels };
}
