// Limits on what an image may cost before it is decoded, as Pillow sets them: a small file can declare a huge
// canvas (a 122-byte SVG rendered at 16000², a 33 KB PNG that inflates to 888 MB).
import { formatValue } from '../arguments';
import { ArgumentError } from '../errors';
import { DEFAULT_MAX_INPUT_BYTES } from '../files';
import type { StreamOptions } from '../weights/download';

/** Pillow's `Image.MAX_IMAGE_PIXELS`: above it a DecompressionBombWarning, above twice it a DecompressionBombError. */
export const PILLOW_MAX_IMAGE_PIXELS = 89_478_485;
/** Image files above this size are refused unless the caller raises `maxBytes`. */
export const DEFAULT_MAX_IMAGE_BYTES = DEFAULT_MAX_INPUT_BYTES;

export interface ImageLimits {
  /** Largest image file read from a path or URL, in bytes; null for no limit. */
  maxBytes: number | null;
  /** Pillow's rule: a warning above this many pixels, refusal above twice as many; null for no limit. */
  maxPixels: number | null;
}

/** How an image URL is fetched: the same idle timeout, deadline and abort signal as weight downloads. */
export type ImageFetchOptions = Pick<StreamOptions, 'timeoutMs' | 'deadlineMs' | 'signal'>;

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxBytes: DEFAULT_MAX_IMAGE_BYTES, maxPixels: PILLOW_MAX_IMAGE_PIXELS };

/** `maxBytes` / `maxPixels` as given (undefined: the default), checked. */
export function resolveImageLimits(options: { maxBytes?: number | null; maxPixels?: number | null }): ImageLimits {
  const limit = (name: 'maxBytes' | 'maxPixels'): number | null => {
    const value = options[name];
    if (value === undefined) return DEFAULT_IMAGE_LIMITS[name];
    if (value === null || (Number.isSafeInteger(value) && value > 0)) return value;
    throw new ArgumentError(`\`${name}\` must be a positive integer or null (no limit). Received: ${name}=${formatValue(value)}`);
  };
  return { maxBytes: limit('maxBytes'), maxPixels: limit('maxPixels') };
}

/** Refuses, or warns about, an image of `width`×`height` pixels before it is decoded, as Pillow's `_decompression_bomb_check`. */
export function checkPixelCount(width: number, height: number, maxPixels: number | null, name: string): void {
  if (maxPixels === null) return;
  const pixels = width * height;
  if (pixels > 2 * maxPixels) {
    throw new ArgumentError(
      `Cannot decode image ${name}: ${width}×${height} = ${pixels} pixels is more than twice maxPixels (${2 * maxPixels}), ` +
        'which Pillow refuses as a possible decompression bomb; pass a larger `maxPixels` (or null) if you trust the file',
    );
  }
  if (pixels > maxPixels) {
    const message = `Image ${name} has ${pixels} pixels, more than maxPixels (${maxPixels}): it could be a decompression bomb.`;
    const proc = (globalThis as { process?: { emitWarning?: (message: string, type: string) => void } }).process;
    if (proc?.emitWarning) proc.emitWarning(message, 'DecompressionBombWarning');
    else console.warn(message);
  }
}
