// Windows BMP files, which Keras's image_dataset_from_directory lists and Pillow reads, but sharp (libvips)
// cannot decode. Uncompressed files only: 1/4/8-bit palettes, 24-bit BGR, 32-bit BGRX, and 16/32-bit
// bit fields; the pixels are those of Pillow's BmpImagePlugin (a 32-bit file is RGB unless its bit
// fields have an alpha mask). RLE-compressed and embedded JPEG/PNG files are refused with a clear error.
import { checkPixelCount } from './image-limits';
import { ArgumentError } from '../errors';
import type { OpenedImage } from './pil-convert';

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

/** True for bytes that start like a BMP file ('BM' and a plausible info-header size). */
export function isBmp(bytes: Uint8Array): boolean {
  if (bytes.length < 26 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) return false;
  const headerSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(14, true);
  return [12, 40, 52, 56, 64, 108, 124].includes(headerSize);
}

/** Decodes an uncompressed BMP; `name` says which file an error is about. */
export function decodeBmp(bytes: Uint8Array, name: string, maxPixels: number | null): OpenedImage {
  const fail = (why: string): never => {
    throw new ArgumentError(`Cannot decode BMP image ${name}: ${why}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  // OS/2 1.x headers (12 bytes) have 16-bit sizes and 3-byte palette entries.
  const core = headerSize === 12;
  const width = core ? view.getUint16(18, true) : view.getInt32(18, true);
  const rawHeight = core ? view.getInt16(20, true) : view.getInt32(22, true);
  const bits = view.getUint16(core ? 24 : 28, true);
  const compression = core ? BI_RGB : view.getUint32(30, true);
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0) fail(`its size is ${width}×${rawHeight}`);
  checkPixelCount(width, height, maxPixels, name);
  if (![BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS].includes(compression)) {
    fail(`compression ${compression} (RLE, JPEG or PNG inside a BMP) is not supported; convert it to PNG`);
  }
  const stride = Math.ceil((width * bits) / 32) * 4;
  if (pixelOffset + stride * height > bytes.length) fail('the file is truncated');

  const palette = bits <= 8 ? readPalette(view, 14 + headerSize, core ? 3 : 4, bits, core ? 0 : view.getUint32(46, true)) : undefined;
  // A 16-bit BI_RGB file is 5-5-5 (Pillow's BGR;15).
  const masks = compression !== BI_RGB ? readMasks(view, headerSize, compression, fail) : bits === 16 ? [0x7c00, 0x3e0, 0x1f, 0] : undefined;
  if (!palette && ![16, 24, 32].includes(bits)) fail(`${bits} bits per pixel is not supported`);
  if (masks && bits !== 16 && bits !== 32) fail(`bit fields with ${bits} bits per pixel`);
  const hasAlpha = masks !== undefined && masks[3] !== 0;
  const channels = hasAlpha ? 4 : 3;
  const data = new Uint8Array(width * height * channels);

  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const out = (y * width + x) * channels;
      if (palette) {
        const index = paletteIndex(bytes, row, x, bits);
        if (index * 3 + 2 >= palette.length) fail(`palette index ${index} is outside its ${palette.length / 3} colours`);
        data.set(palette.subarray(index * 3, index * 3 + 3), out);
      } else if (masks) {
        const value = bits === 32 ? view.getUint32(row + x * 4, true) : view.getUint16(row + x * 2, true);
        for (let c = 0; c < channels; c++) data[out + c] = maskedChannel(value, masks[c]!);
      } else {
        // BGR, or BGRX: Pillow reads a 32-bit BI_RGB pixel's fourth byte as padding.
        const at = row + x * (bits / 8);
        data[out] = bytes[at + 2]!;
        data[out + 1] = bytes[at + 1]!;
        data[out + 2] = bytes[at]!;
      }
    }
  }
  return { mode: hasAlpha ? 'RGBA' : 'RGB', data, height, width, channels };
}

/** The palette as RGB triples (the file stores BGR or BGRX). */
function readPalette(view: DataView, offset: number, entrySize: number, bits: number, declared: number): Uint8Array {
  const count = declared > 0 ? Math.min(declared, 1 << bits) : 1 << bits;
  const rgb = new Uint8Array(count * 3);
  for (let i = 0; i < count && offset + i * entrySize + 2 < view.byteLength; i++) {
    const at = offset + i * entrySize;
    rgb[i * 3] = view.getUint8(at + 2);
    rgb[i * 3 + 1] = view.getUint8(at + 1);
    rgb[i * 3 + 2] = view.getUint8(at);
  }
  return rgb;
}

function paletteIndex(bytes: Uint8Array, row: number, x: number, bits: number): number {
  const bit = x * bits;
  const byte = bytes[row + (bit >> 3)]!;
  return (byte >> (8 - bits - (bit & 7))) & ((1 << bits) - 1);
}

/** Red, green, blue and alpha masks: in the info header (V3+) or right after a 40-byte header. */
function readMasks(view: DataView, headerSize: number, compression: number, fail: (why: string) => never): number[] {
  const count = compression === BI_ALPHABITFIELDS || headerSize >= 56 ? 4 : 3;
  const masks = Array.from({ length: count }, (_, i) => view.getUint32(54 + i * 4, true));
  if (masks.slice(0, 3).some((mask) => mask === 0)) fail('a colour bit field is empty');
  return count === 4 ? masks : [...masks, 0];
}

/** One channel from a bit field, scaled to 8 bits with Pillow's integer arithmetic (5 bits: v * 255 / 31). */
function maskedChannel(value: number, mask: number): number {
  const shift = 31 - Math.clz32(mask & -mask);
  const width = 32 - Math.clz32(mask >>> shift);
  const field = (value & mask) >>> shift;
  return width >= 8 ? field >>> (width - 8) : Math.floor((field * 255) / ((1 << width) - 1));
}
