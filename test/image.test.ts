import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../src/errors';
import { imageBatch, loadImage, loadImageTensor, nearestIndices } from '../src/preprocess/image';
import { sampleIndices } from './helpers/generator';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL = path.join(ROOT, 'test/fixtures/keras-ref/real');
const IMAGES = path.join(ROOT, 'test/data/images');

interface LoadedPixels {
  png: string;
  shape: number[];
  sum: number;
  sample_idx: number[];
  samples: number[];
}
const reference = JSON.parse(await readFile(path.join(REAL, 'mobilenet_025_features.json'), 'utf8')) as {
  images: Record<string, { loaded_pixels: LoadedPixels }>;
};

/** A PNG written by pngjs from RGBA pixels; `colorType` 0 grey, 2 RGB, 6 RGBA. */
function writePng(width: number, height: number, rgba: number[], colorType: 0 | 2 | 6): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba);
  return PNG.sync.write(png, { colorType });
}

/** An RGB image whose pixel (y, x) is [10y + x, 100 + y, 200 + x], as RGBA. */
function gradient(width: number, height: number): number[] {
  return Array.from({ length: width * height }, (_, p) => {
    const [y, x] = [Math.floor(p / width), p % width];
    return [10 * y + x, 100 + y, 200 + x, 255];
  }).flat();
}

function pixel(image: { data: Uint8Array; width: number; channels: number }, y: number, x: number): number[] {
  const at = (y * image.width + x) * image.channels;
  return Array.from(image.data.subarray(at, at + image.channels));
}

describe('loadImage: the pixels Keras (PIL) loads', () => {
  it.each(['elephant', 'cat', 'dog'])('decodes the recorded Keras pixels of %s exactly (PNG decoder)', async (name) => {
    const expected = reference.images[`${name}.jpg`].loaded_pixels;
    const image = await loadImage(path.join(REAL, expected.png));
    expect([image.height, image.width, image.channels]).toEqual(expected.shape);
    expect(image.data.reduce((sum, v) => sum + v, 0)).toBe(expected.sum);
    expect(expected.sample_idx).toEqual(sampleIndices(image.data.length, 256));
    expect(expected.sample_idx.map((i) => image.data[i])).toEqual(expected.samples);
  });

  // libjpeg-turbo's integer IDCT and jpeg-js's differ by a level or so; upsampling and colour conversion
  // follow libjpeg-turbo. Measured: elephant (4:4:4) mean 0.156 max 3, cat (4:2:0, progressive)
  // mean 0.056 max 3, dog (4:2:0) mean 0.146 max 3. Plain jpeg-js gives means 0.53 / 0.53 / 1.13, max 39.
  it.each([
    ['elephant', 0.17],
    ['cat', 0.07],
    ['dog', 0.16],
  ])('loads %s.jpg at 224×224 (nearest) within a level of Keras', async (name, meanBound) => {
    const keras = await loadImage(path.join(REAL, `${name}_224_keras.png`));
    const image = await loadImage(path.join(IMAGES, `${name}.jpg`), { targetSize: [224, 224] });
    expect([image.height, image.width, image.channels]).toEqual([224, 224, 3]);
    let total = 0;
    let max = 0;
    image.data.forEach((v, i) => {
      const diff = Math.abs(v - keras.data[i]);
      total += diff;
      max = Math.max(max, diff);
    });
    expect(total / image.data.length).toBeLessThan(meanBound);
    expect(max).toBeLessThanOrEqual(3);
  });

  it("reads an Adobe marker's colour transform as libjpeg does", async () => {
    // dog.jpg has no JFIF marker, so an Adobe APP14 segment decides: transform 1 = YCbCr, 0 = RGB.
    const dog = await readFile(path.join(IMAGES, 'dog.jpg'));
    const withAdobe = (transform: number) =>
      Buffer.concat([dog.subarray(0, 2), Buffer.from([0xff, 0xee, 0, 14, ...Buffer.from('Adobe'), 0, 100, 0, 0, 0, 0, transform]), dog.subarray(2)]);
    const plain = await loadImage(dog);
    expect((await loadImage(withAdobe(1))).data).toEqual(plain.data);
    // Pillow 12.3 (libjpeg-turbo) gives [252, 128, 127] for the first pixel: the raw Y, Cb, Cr values.
    expect(pixel(await loadImage(withAdobe(0)), 0, 0)).toEqual([252, 128, 127]);
    expect(pixel(plain, 0, 0)).toEqual([251, 253, 252]);
  });

  it('picks source pixels as PIL NEAREST does: floor((i + 0.5) × src / dst)', async () => {
    expect(Array.from(nearestIndices(7, 4))).toEqual([0, 2, 4, 6]); // 0.875, 2.625, 4.375, 6.125
    expect(Array.from(nearestIndices(5, 3))).toEqual([0, 2, 4]); // 0.83, 2.5, 4.17
    expect(Array.from(nearestIndices(3, 5))).toEqual([0, 0, 1, 2, 2]); // 0.3, 0.9, 1.5, 2.1, 2.7
    const image = await loadImage(writePng(7, 5, gradient(7, 5), 2), { targetSize: [3, 4] });
    expect([image.height, image.width, image.channels]).toEqual([3, 4, 3]);
    const rows = [0, 2, 4];
    const cols = [0, 2, 4, 6];
    rows.forEach((y, i) => cols.forEach((x, j) => expect(pixel(image, i, j)).toEqual([10 * y + x, 100 + y, 200 + x])));
  });

  it('resizes as PIL BILINEAR does: a triangle filter widened by the downscale factor', async () => {
    const row = (values: number[]) => values.flatMap((v) => [v, v, v, 255]);
    // 4 → 2: weights 3/7, 3/7, 1/7 and 1/7, 3/7, 3/7 (a 2-tap bilinear would give 35 and 175).
    const down = await loadImage(writePng(4, 1, row([0, 70, 140, 210]), 0), { targetSize: [1, 2], interpolation: 'bilinear' });
    expect(Array.from(down.data)).toEqual([50, 50, 50, 160, 160, 160]);
    // The same along the other axis.
    const tall = await loadImage(writePng(1, 4, row([0, 70, 140, 210]), 0), { targetSize: [2, 1], interpolation: 'bilinear' });
    expect(Array.from(tall.data)).toEqual([50, 50, 50, 160, 160, 160]);
    // 2 → 4: plain interpolation between pixel centres, edges held.
    const up = await loadImage(writePng(2, 1, row([0, 200]), 0), { targetSize: [1, 4], interpolation: 'bilinear' });
    expect(Array.from(up.data)).toEqual([0, 0, 0, 50, 50, 50, 150, 150, 150, 200, 200, 200]);
  });

  it('drops alpha without compositing, and expands greyscale to RGB', async () => {
    const rgba = [10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255];
    const image = await loadImage(writePng(3, 1, rgba, 6));
    expect(image.channels).toBe(3);
    expect(Array.from(image.data)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const grey = await loadImage(writePng(2, 1, [7, 7, 7, 255, 200, 200, 200, 255], 0));
    expect(Array.from(grey.data)).toEqual([7, 7, 7, 200, 200, 200]);
  });

  it("converts to one channel with PIL's luma for colorMode 'grayscale'", async () => {
    const image = await loadImage(writePng(3, 1, [255, 0, 0, 255, 0, 255, 0, 255, 90, 90, 90, 255], 2), { colorMode: 'grayscale' });
    expect(image.channels).toBe(1);
    expect(Array.from(image.data)).toEqual([76, 150, 90]);
  });

  it('gives float32 tensors as img_to_array does, and batches them', async () => {
    const bytes = writePng(7, 5, gradient(7, 5), 2);
    const decoded = await loadImage(bytes, { targetSize: [3, 4] });
    const x = await loadImageTensor(new Uint8Array(bytes).buffer, { targetSize: [3, 4] });
    expect(x.shape).toEqual([3, 4, 3]);
    expect(x.dtype).toBe('float32');
    expect(Array.from(x.dataSync())).toEqual(Array.from(decoded.data));
    const batch = imageBatch([x, x]);
    expect(batch.shape).toEqual([2, 3, 4, 3]);
    expect(() => imageBatch([x, tf.zeros([4, 3, 3]) as tf.Tensor3D])).toThrow(ArgumentError);
    expect(() => imageBatch([])).toThrow(ArgumentError);
    tf.dispose([x, batch]);
  });
});

describe('loadImage: errors', () => {
  it('rejects a file that is neither JPEG nor PNG, naming it and its first bytes', async () => {
    const file = path.join(ROOT, 'test/data/weights/invalid/resnet50_weights_tf_dim_ordering_tf_kernels.h5');
    const error = await loadImage(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain('3c 3f 78 6d 6c 20 76 65');
  });

  it('names a missing file', async () => {
    const missing = path.join(ROOT, 'test/data/images/no-such-image.jpg');
    await expect(loadImage(missing)).rejects.toThrow(new ArgumentError(`Cannot read image '${missing}': no such file`));
  });

  it('reports a corrupt image as an ArgumentError', async () => {
    const png = writePng(7, 5, gradient(7, 5), 2);
    await expect(loadImage(png.subarray(0, 40))).rejects.toThrow(/^Cannot decode PNG image <40 bytes>: /);
    await expect(loadImage(Uint8Array.of(0xff, 0xd8, 0xff, 0xd9))).rejects.toThrow(ArgumentError);
  });

  it('rejects bad options', async () => {
    const bytes = writePng(1, 1, [0, 0, 0, 255], 2);
    await expect(loadImage(bytes, { targetSize: [0, 3] })).rejects.toThrow(ArgumentError);
    await expect(loadImage(bytes, { interpolation: 'bicubic' as 'nearest' })).rejects.toThrow(ArgumentError);
    await expect(loadImage(bytes, { colorMode: 'rgba' as 'rgb' })).rejects.toThrow(ArgumentError);
  });
});
