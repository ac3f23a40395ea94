// Pillow's `Image.convert` (Convert.c) from the modes a decoded file comes in to the three modes Keras's
// `load_img` asks for, with Pillow's integer rounding.
import { mulDiv255, type Pixels } from './pil-resize';

/**
 * A decoded file in the Pillow mode `Image.open` would give it. Greyscale, palette and greyscale+alpha
 * files arrive as RGB / RGBA with equal channels, which every conversion below maps as Pillow maps L, P and LA.
 */
export type OpenedImage =
  | ({ mode: 'RGB' | 'RGBA' | 'CMYK' } & Pixels<Uint8Array>)
  /** 16-bit greyscale without alpha, which Pillow keeps at 16 bits. */
  | ({ mode: 'I;16' } & Pixels<Uint16Array>);

export type ColorMode = 'rgb' | 'grayscale' | 'rgba';

/**
 * `load_img`'s colour step: `convert('RGB' | 'L' | 'RGBA')`, except that `'grayscale'` keeps 16-bit
 * greyscale as it is (Keras leaves modes I;16 and I unconverted).
 */
export function convertAsPil(image: OpenedImage, colorMode: ColorMode): Pixels {
  if (image.mode === 'I;16') return colorMode === 'grayscale' ? image : expandGrey16(image, colorMode === 'rgba' ? 4 : 3);
  const rgb = image.mode === 'CMYK' ? cmykToRgb(image) : image;
  if (colorMode === 'grayscale') return luma(rgb);
  return withChannels(rgb, colorMode === 'rgba' ? 4 : 3);
}

function mapPixels(image: Pixels<Uint8Array>, channels: number, pixel: (from: number, out: Uint8Array, to: number) => void): Pixels<Uint8Array> {
  const { height, width } = image;
  const out = new Uint8Array(height * width * channels);
  for (let p = 0; p < height * width; p++) pixel(p * image.channels, out, p * channels);
  return { data: out, height, width, channels };
}

/** RGB ↔ RGBA: alpha dropped (not composited) or set to 255. */
function withChannels(image: Pixels<Uint8Array>, channels: 3 | 4): Pixels<Uint8Array> {
  if (image.channels === channels) return image;
  const { data } = image;
  return mapPixels(image, channels, (from, out, to) => {
    out.set(data.subarray(from, from + 3), to);
    if (channels === 4) out[to + 3] = 255;
  });
}

/** ITU-R 601-2 luma in 16-bit fixed point (Convert.c `L24`); alpha is ignored. Greys stay exact. */
function luma(image: Pixels<Uint8Array>): Pixels<Uint8Array> {
  const { data } = image;
  return mapPixels(image, 1, (from, out, to) => {
    out[to] = (data[from]! * 19595 + data[from + 1]! * 38470 + data[from + 2]! * 7471 + 0x8000) >> 16;
  });
}

/** Convert.c `cmyk2rgb`: each channel (255 − K) − C·(255 − K)/255 (MULDIV255), no colour management. */
function cmykToRgb(image: Pixels<Uint8Array>): Pixels<Uint8Array> {
  const { data } = image;
  return mapPixels(image, 3, (from, out, to) => {
    const notBlack = 255 - data[from + 3]!;
    for (let c = 0; c < 3; c++) out[to + c] = Math.max(notBlack - mulDiv255(data[from + c]!, notBlack), 0);
  });
}

/** 16-bit greyscale to RGB(A): values above 255 clip to 255 (Pillow's `I;16` → `RGB`). */
function expandGrey16({ data, height, width }: Pixels<Uint16Array>, channels: 3 | 4): Pixels<Uint8Array> {
  const out = new Uint8Array(height * width * channels).fill(255);
  for (let p = 0; p < height * width; p++) out.fill(Math.min(data[p]!, 255), p * channels, p * channels + 3);
  return { data: out, height, width, channels };
}
