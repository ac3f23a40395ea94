// Small image files for tests that read folders of images (imageDatasetFromDirectory, bottleneck features).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';

/**
 * Writes an RGB image file (PNG, or lossless-quality JPEG for .jpg/.jpeg): `pixels` row-major, or one grey
 * value for every pixel. Creates the folder.
 */
export async function writeImage(path: string, pixels: Uint8Array | number, width = 6, height = 6): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const data = typeof pixels === 'number' ? Buffer.alloc(width * height * 3, pixels) : Buffer.from(pixels);
  const image = sharp(data, { raw: { width, height, channels: 3 } });
  await (/\.jpe?g$/i.test(path) ? image.jpeg({ quality: 100 }) : image.png()).toFile(path);
}
