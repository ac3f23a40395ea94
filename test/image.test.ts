import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, DownloadError } from '../src/errors';
import { imageBatch, imgToArray, loadImage, loadImageBatch, loadImageTensor, type LoadImageOptions } from '../src/image/image';
import { nearestIndices } from '../src/image/pil-resize';
import { sampleIndices } from './helpers/generator';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL = path.join(ROOT, 'test/fixtures/keras-ref/real');
const PIL_REF = path.join(ROOT, 'test/fixtures/pil-ref');
const IMAGES = path.join(ROOT, 'test/data/images');

interface LoadedPixels {
  png: string;
  shape: number[];
  sum: number;
  sample_idx: number[];
  samples: number[];
}
const kerasReference = JSON.parse(await readFile(path.join(REAL, 'mobilenet_025_features.json'), 'utf8')) as {
  images: Record<string, { loaded_pixels: LoadedPixels }>;
};

/** What Pillow 9.4 gives for Keras's load_img on the small files of test/fixtures/pil-ref (make_pil_ref.py). */
interface PilCase {
  file: string;
  color_mode: 'rgb' | 'grayscale' | 'rgba';
  target_size: [number, number] | null;
  interpolation: NonNullable<LoadImageOptions['interpolation']>;
  keep_aspect_ratio: boolean;
  shape: number[];
  dtype: 'uint8' | 'uint16';
  mode: string;
  sha256: string;
  pixels?: string;
}
const pilReference = JSON.parse(await readFile(path.join(PIL_REF, 'pil-ref.json'), 'utf8')) as { pillow: string; cases: PilCase[] };

const optionsOf = (c: PilCase): LoadImageOptions => ({
  colorMode: c.color_mode,
  targetSize: c.target_size,
  interpolation: c.interpolation,
  keepAspectRatio: c.keep_aspect_ratio,
});
const bytesOf = (data: Uint8Array | Uint16Array) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
const expectedPixels = (c: PilCase) => {
  const bytes = Buffer.from(c.pixels!, 'base64');
  return c.dtype === 'uint16' ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2) : new Uint8Array(bytes);
};

/** A raw RGB(A) or grey image as a lossless PNG. */
function png(width: number, height: number, channels: 1 | 3 | 4, values: number[]): Promise<Buffer> {
  return sharp(Buffer.from(values), { raw: { width, height, channels } }).png().toBuffer();
}

function pixel(image: { data: ArrayLike<number>; width: number; channels: number }, y: number, x: number): number[] {
  const at = (y * image.width + x) * image.channels;
  return Array.from({ length: image.channels }, (_, c) => image.data[at + c]!);
}

describe('loadImage: the pixels Keras loads', () => {
  it.each(['elephant', 'cat', 'dog'])('decodes the recorded Keras pixels of %s exactly (PNG)', async (name) => {
    const expected = kerasReference.images[`${name}.jpg`]!.loaded_pixels;
    const image = await loadImage(path.join(REAL, expected.png));
    expect([image.height, image.width, image.channels]).toEqual(expected.shape);
    expect(image.data.reduce((sum, v) => sum + v, 0)).toBe(expected.sum);
    expect(expected.sample_idx).toEqual(sampleIndices(image.data.length, 256));
    expect(expected.sample_idx.map((i) => image.data[i])).toEqual(expected.samples);
  });

  // sharp's libjpeg-turbo (mozjpeg) decodes as Pillow's does: ISLOW IDCT, fancy upsampling, same YCbCr → RGB.
  // cat.jpg is progressive 4:2:0 with an ICC profile, dog.jpg baseline 4:2:0 without JFIF, elephant.jpg 4:4:4.
  it.each(['elephant', 'cat', 'dog'])('loads %s.jpg at 224×224 exactly as Keras did (max difference 0)', async (name) => {
    const keras = await loadImage(path.join(REAL, `${name}_224_keras.png`));
    const image = await loadImage(path.join(IMAGES, `${name}.jpg`), { targetSize: [224, 224] });
    expect([image.height, image.width, image.channels]).toEqual([224, 224, 3]);
    expect(Buffer.from(image.data).equals(Buffer.from(keras.data))).toBe(true);
  });

  it("reads an Adobe marker's colour transform as libjpeg does", async () => {
    // dog.jpg has no JFIF marker, so an Adobe APP14 segment decides: transform 1 = YCbCr, 0 = RGB.
    const dog = await readFile(path.join(IMAGES, 'dog.jpg'));
    const withAdobe = (transform: number) =>
      Buffer.concat([dog.subarray(0, 2), Buffer.from([0xff, 0xee, 0, 14, ...Buffer.from('Adobe'), 0, 100, 0, 0, 0, 0, transform]), dog.subarray(2)]);
    const plain = await loadImage(dog);
    expect((await loadImage(withAdobe(1))).data).toEqual(plain.data);
    // Pillow 12.3 gives [252, 128, 127] for the first pixel: the raw Y, Cb, Cr values.
    expect(pixel(await loadImage(withAdobe(0)), 0, 0)).toEqual([252, 128, 127]);
    expect(pixel(plain, 0, 0)).toEqual([251, 253, 252]);
  });
});

describe(`loadImage: Pillow ${pilReference.pillow}'s pixels for every filter, colour mode and kind of file`, () => {
  // GIF transparency: libvips returns transparent pixels as black, Pillow keeps the palette colour.
  const exact = pilReference.cases.filter((c) => !c.file.endsWith('.gif'));
  it.each(exact.map((c) => [`${path.basename(c.file)} ${c.color_mode} ${JSON.stringify(c.target_size)} ${c.interpolation}${c.keep_aspect_ratio ? ' keepAspectRatio' : ''}`, c] as const))(
    '%s',
    async (_, c) => {
      const image = await loadImage(path.join(PIL_REF, c.file), optionsOf(c));
      expect([image.height, image.width, image.channels]).toEqual(c.shape);
      expect(image.data).toBeInstanceOf(c.dtype === 'uint16' ? Uint16Array : Uint8Array);
      if (c.pixels !== undefined) expect(Array.from(image.data)).toEqual(Array.from(expectedPixels(c)));
      expect(createHash('sha256').update(bytesOf(image.data)).digest('hex')).toBe(c.sha256);
    },
  );

  it('loads a transparent GIF as Pillow does except for the colour under transparent pixels', async () => {
    const gifCases = pilReference.cases.filter((c) => c.file.endsWith('.gif') && c.target_size === null);
    const alpha = expectedPixels(gifCases.find((c) => c.color_mode === 'rgba')!).filter((_, i) => i % 4 === 3);
    expect(alpha.some((a) => a === 0)).toBe(true);
    for (const c of gifCases) {
      const image = await loadImage(path.join(PIL_REF, c.file), optionsOf(c));
      const expected = expectedPixels(c);
      const channels = image.channels;
      for (let i = 0; i < expected.length; i++) {
        if (alpha[Math.floor(i / channels)] === 255) expect(image.data[i]).toBe(expected[i]);
        else if (channels < 4) expect(image.data[i]).toBe(0);
      }
    }
  });

  it('decodes a lossless WebP to the pixels of the PNG it was made from', async () => {
    // libwebp stores fully transparent pixels as black, so the alpha stays above 0 here.
    const { data, info } = await sharp(path.join(PIL_REF, 'rgba.png')).raw().toBuffer({ resolveWithObject: true });
    for (let i = 3; i < data.length; i += 4) data[i] = Math.max(data[i]!, 1);
    const raw = { raw: { width: info.width, height: info.height, channels: 4 as const } };
    const source = await sharp(data, raw).png().toBuffer();
    const webp = await sharp(data, raw).webp({ lossless: true }).toBuffer();
    expect(webp.subarray(8, 12).toString()).toBe('WEBP');
    for (const colorMode of ['rgb', 'rgba', 'grayscale'] as const) {
      const options = { colorMode, targetSize: [5, 7] as [number, number], interpolation: 'bicubic' as const };
      expect((await loadImage(webp, options)).data).toEqual((await loadImage(source, options)).data);
    }
  });

  it('does not apply EXIF orientation (Keras does not)', async () => {
    const rotated = await sharp(path.join(PIL_REF, 'rgb.png')).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    expect((await sharp(rotated).metadata()).orientation).toBe(6);
    const image = await loadImage(rotated);
    expect([image.height, image.width]).toEqual([9, 13]);
  });

  it('picks source pixels as PIL NEAREST does: floor(start + (i + 0.5) × step)', () => {
    expect(Array.from(nearestIndices(0, 7, 4))).toEqual([0, 2, 4, 6]); // 0.875, 2.625, 4.375, 6.125
    expect(Array.from(nearestIndices(0, 5, 3))).toEqual([0, 2, 4]); // 0.83, 2.5, 4.17
    expect(Array.from(nearestIndices(0, 3, 5))).toEqual([0, 0, 1, 2, 2]); // 0.3, 0.9, 1.5, 2.1, 2.7
    expect(Array.from(nearestIndices(2, 6, 2))).toEqual([3, 5]); // a box from 2 to 6: 3, 5
  });

  it('resizes as PIL BILINEAR does: a triangle filter widened by the downscale factor', async () => {
    const grey = (values: number[]) => values.flatMap((v) => [v, v, v]);
    // 4 → 2: weights 3/7, 3/7, 1/7 and 1/7, 3/7, 3/7 (a 2-tap bilinear would give 35 and 175).
    const row = await png(4, 1, 3, grey([0, 70, 140, 210]));
    expect(Array.from((await loadImage(row, { targetSize: [1, 2], interpolation: 'bilinear', colorMode: 'grayscale' })).data)).toEqual([50, 160]);
    // 2 → 4: plain interpolation between pixel centres, edges held.
    const two = await png(2, 1, 3, grey([0, 200]));
    expect(Array.from((await loadImage(two, { targetSize: [1, 4], interpolation: 'bilinear', colorMode: 'grayscale' })).data)).toEqual([0, 50, 150, 200]);
  });
});

describe('loadImage: keepAspectRatio', () => {
  // Column x of these greyscale images is 10·x in both rows.
  const columns = (width: number) => png(width, 2, 1, [...Array(2)].flatMap(() => Array.from({ length: width }, (_, x) => 10 * x)));

  it('crops the centred 4×2 window of a 6×2 image for a 2×4 target, where a plain resize picks columns 0, 2, 3, 5', async () => {
    const image = await columns(6);
    const plain = await loadImage(image, { targetSize: [2, 4], colorMode: 'grayscale' });
    expect(Array.from(plain.data)).toEqual([0, 20, 30, 50, 0, 20, 30, 50]);
    const cropped = await loadImage(image, { targetSize: [2, 4], colorMode: 'grayscale', keepAspectRatio: true });
    expect(Array.from(cropped.data)).toEqual([10, 20, 30, 40, 10, 20, 30, 40]);
  });

  it('resamples the box with the filter reaching past it, as Pillow does', async () => {
    // 8×2 → 1×2 (height × width): the crop is columns 2…5; each output pixel covers 2 columns, and the
    // bilinear filter (support 2 at scale 2) weighs columns 1–4 by 1/8, 3/8, 3/8, 1/8: 25, then 3–6: 45.
    const cropped = await loadImage(await columns(8), { targetSize: [1, 2], colorMode: 'grayscale', interpolation: 'bilinear', keepAspectRatio: true });
    expect(Array.from(cropped.data)).toEqual([25, 45]);
  });

  it('changes nothing when the image already has the target size', async () => {
    const image = await columns(6);
    const same = await loadImage(image, { targetSize: [2, 6], keepAspectRatio: true, colorMode: 'grayscale' });
    expect(Array.from(same.data)).toEqual([0, 10, 20, 30, 40, 50, 0, 10, 20, 30, 40, 50]);
  });
});

describe('loadImage: sources', () => {
  let server: Server;
  let base: string;
  const served = path.join(IMAGES, 'dog.jpg');
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/dog.jpg') {
        void readFile(served).then((bytes) => res.end(bytes));
      } else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads a path, a file: URL, an http URL (string or URL), a Buffer, a Uint8Array view and an ArrayBuffer alike', async () => {
    const options = { targetSize: [50, 60] as [number, number], interpolation: 'lanczos' as const };
    const expected = (await loadImage(served, options)).data;
    const bytes = await readFile(served);
    const padded = new Uint8Array(bytes.length + 7);
    padded.set(bytes, 3);
    const sources = [
      pathToFileURL(served),
      pathToFileURL(served).href,
      `${base}/dog.jpg`,
      new URL(`${base}/dog.jpg`),
      bytes,
      padded.subarray(3, 3 + bytes.length),
      new Uint8Array(bytes).buffer,
      `data:image/jpeg;base64,${bytes.toString('base64')}`,
    ];
    for (const source of sources) expect((await loadImage(source, options)).data).toEqual(expected);
  });

  it('reports an HTTP error or a refused connection as a DownloadError naming the URL', async () => {
    await expect(loadImage(`${base}/missing.jpg`)).rejects.toThrow(new DownloadError(`Could not fetch image ${base}/missing.jpg: HTTP 404 Not Found`));
    // A port that was free a moment ago: nothing listens there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await loadImage(`http://127.0.0.1:${port}/dog.jpg`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toMatch(new RegExp(`^Could not fetch image http://127.0.0.1:${port}/dog.jpg: fetch failed: .*ECONNREFUSED`));
  });

  it('takes ImageData-like RGBA pixels as they are', async () => {
    const data = new Uint8ClampedArray([10, 20, 30, 0, 40, 50, 60, 128]);
    const image = await loadImage({ data, width: 2, height: 1 }, { colorMode: 'rgba' });
    expect(Array.from(image.data)).toEqual(Array.from(data));
    expect(Array.from((await loadImage({ data, width: 2, height: 1 })).data)).toEqual([10, 20, 30, 40, 50, 60]);
  });
});

describe('imgToArray, loadImageTensor, loadImageBatch', () => {
  const file = path.join(PIL_REF, 'rgb.png');

  it('gives float32 [h, w, c] by default, int32 and channels_first on request', async () => {
    const image = await loadImage(file, { targetSize: [3, 4] });
    const x = await loadImageTensor(file, { targetSize: [3, 4] });
    expect([x.shape, x.dtype]).toEqual([[3, 4, 3], 'float32']);
    expect(Array.from(x.dataSync())).toEqual(Array.from(image.data));
    const ints = imgToArray(image, { dtype: 'int32', dataFormat: 'channels_first' });
    expect([ints.shape, ints.dtype]).toEqual([[3, 3, 4], 'int32']);
    // Channel 1 of pixel (2, 3) sits at [1, 2, 3] channels-first.
    expect(ints.arraySync()[1]![2]![3]).toBe(pixel(image, 2, 3)[1]);
    const grey16 = await loadImageTensor(path.join(PIL_REF, 'grey16.png'), { colorMode: 'grayscale' });
    expect(grey16.shape).toEqual([9, 13, 1]);
    expect(Array.from(grey16.dataSync().subarray(0, 3))).toEqual([0, 255, 256]); // 16-bit values, as Keras keeps them
    tf.dispose([x, ints, grey16]);
  });

  it('batches images into [n, h, w, c] (or [n, c, h, w]) with the pixels of each', async () => {
    const sources = [file, path.join(PIL_REF, 'rgba.png'), path.join(IMAGES, 'cat.jpg')];
    const options = { targetSize: [6, 5] as [number, number], interpolation: 'box' as const };
    const batch = await loadImageBatch(sources, options);
    expect([batch.shape, batch.dtype]).toEqual([[3, 6, 5, 3], 'float32']);
    const values = batch.dataSync();
    for (const [i, source] of sources.entries()) {
      expect(Array.from(values.subarray(i * 90, (i + 1) * 90))).toEqual(Array.from((await loadImage(source, options)).data));
    }
    const first = await loadImageBatch(sources, { ...options, dataFormat: 'channels_first', dtype: 'int32' });
    expect([first.shape, first.dtype]).toEqual([[3, 3, 6, 5], 'int32']);
    expect(first.dataSync()[2 * 90 + 1 * 30 + 4]).toBe(values[2 * 90 + 4 * 3 + 1]); // image 2, channel 1, pixel (0, 4)
    const stacked = imageBatch([tf.zeros([2, 2, 3]) as tf.Tensor3D, tf.ones([2, 2, 3]) as tf.Tensor3D]);
    expect(stacked.shape).toEqual([2, 2, 2, 3]);
    tf.dispose([batch, first, stacked]);
  });
});

describe('loadImage: BMP files sharp cannot read', () => {
  /** A bottom-up BMP with a 40-byte header and the given bits per pixel and (padded) pixel rows. */
  function bmp(width: number, height: number, bits: number, rows: number[][]): Uint8Array {
    const pixels = rows.flat();
    const bytes = new Uint8Array(54 + pixels.length);
    const view = new DataView(bytes.buffer);
    bytes.set([0x42, 0x4d]);
    view.setUint32(2, bytes.length, true);
    view.setUint32(10, 54, true);
    view.setUint32(14, 40, true);
    view.setInt32(18, width, true);
    view.setInt32(22, height, true);
    view.setUint16(26, 1, true);
    view.setUint16(28, bits, true);
    bytes.set(pixels, 54);
    return bytes;
  }

  it('reads 16-bit 5-5-5 pixels as Pillow scales them (v * 255 / 31, truncated), bottom row first', async () => {
    // Two rows of one pixel, each padded to 4 bytes: the bottom row is (1, 2, 3), the top row white.
    const bottom = (1 << 10) | (2 << 5) | 3;
    const image = await loadImage(bmp(1, 2, 16, [[bottom & 255, bottom >> 8, 0, 0], [0xff, 0x7f, 0, 0]]));
    expect(Array.from(image.data)).toEqual([255, 255, 255, 8, 16, 24]);
  });

  it('refuses compressed and truncated files, naming the problem', async () => {
    const file = await readFile(path.join(PIL_REF, 'rgb.bmp'));
    const rle = Uint8Array.from(file);
    new DataView(rle.buffer).setUint32(30, 1, true);
    await expect(loadImage(rle)).rejects.toThrow(/Cannot decode BMP image .*compression 1 .*not supported/);
    await expect(loadImage(file.subarray(0, 200))).rejects.toThrow(/Cannot decode BMP image .*truncated/);
  });
});

describe('loadImage: errors', () => {
  const file = path.join(PIL_REF, 'rgb.png');
  const rejects = (promise: Promise<unknown>, message: string | RegExp) => expect(promise).rejects.toThrow(message instanceof RegExp ? message : new ArgumentError(message));

  it('names a missing file, a directory, and bytes that are no image', async () => {
    const missing = path.join(IMAGES, 'no-such-image.jpg');
    await rejects(loadImage(missing), `Cannot read image '${missing}': no such file`);
    await rejects(loadImage(IMAGES), `Cannot read image '${IMAGES}': it is a directory, not a regular file`);
    const h5 = path.join(ROOT, 'test/data/weights/invalid/resnet50_weights_tf_dim_ordering_tf_kernels.h5');
    const error = await loadImage(h5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toContain(`Cannot decode image '${h5}' (it starts with bytes 3c 3f 78 6d 6c 20 76 65)`);
    const truncated = (await readFile(file)).subarray(0, 40);
    await rejects(loadImage(truncated), /^Cannot decode image <40 bytes> \(it starts with bytes 89 50 4e 47 0d 0a 1a 0a\): /);
    await rejects(loadImage(new Uint8Array(0)), /^Cannot decode image <0 bytes> \(it starts with bytes \(empty\)\)/);
  });

  it('rejects a source of the wrong type', async () => {
    await rejects(loadImage(42 as unknown as string), 'Expected an image path, URL, Uint8Array, ArrayBuffer, ImageData or browser image. Received: number 42');
    await rejects(loadImage({ width: 1 } as unknown as string), /Received: Object$/);
  });

  it('checks every option', async () => {
    await rejects(loadImage(file, { targetSize: [0, 3] }), '`targetSize` must be [height, width], two positive integers, or null. Received: targetSize=[0,3]');
    await rejects(loadImage(file, { targetSize: [3] as unknown as [number, number] }), /Received: targetSize=\[3\]$/);
    await rejects(loadImage(file, { targetSize: [2.5, 3] }), /Received: targetSize=\[2.5,3\]$/);
    await rejects(
      loadImage(file, { interpolation: 'area' as 'nearest' }),
      `\`interpolation\` must be one of 'nearest', 'bilinear', 'bicubic', 'hamming', 'box', 'lanczos'. Received: interpolation="area"`,
    );
    await rejects(loadImage(file, { colorMode: 'cmyk' as 'rgb' }), `\`colorMode\` must be 'rgb', 'grayscale' or 'rgba'. Received: colorMode="cmyk"`);
    await rejects(loadImage(file, { keepAspectRatio: 1 as unknown as boolean }), '`keepAspectRatio` must be a boolean. Received: keepAspectRatio=1');
    await rejects(
      loadImage(file, { target_size: [2, 2] } as LoadImageOptions),
      'Unknown image option(s) `target_size`. Allowed: targetSize, interpolation, keepAspectRatio, colorMode, maxBytes, maxPixels, timeoutMs, deadlineMs, signal',
    );
    await rejects(loadImage(file, null as unknown as LoadImageOptions), '`options` must be an object. Received: null');
    // A 13×9 image has no centred crop of aspect 1:100 (width:height) at least one pixel wide.
    await rejects(loadImage(file, { targetSize: [100, 1], keepAspectRatio: true }), /^keepAspectRatio: a 13×9 image has no centred crop of aspect ratio 1:100/);
  });

  it('checks the array options and batch arguments', async () => {
    const image = await loadImage(file);
    expect(() => imgToArray(image, { dtype: 'uint8' as 'int32' })).toThrow(
      new ArgumentError(`\`imgToArray\`: \`dtype\` must be 'float32' or 'int32'. Received: dtype="uint8"`),
    );
    expect(() => imgToArray(image, { dataFormat: 'nhwc' as 'channels_last' })).toThrow(
      new ArgumentError(`\`imgToArray\`: \`dataFormat\` must be 'channels_last' or 'channels_first'. Received: dataFormat="nhwc"`),
    );
    await rejects(loadImageTensor(file, { dtype: 'bool' as 'int32' }), /^`loadImageTensor`: `dtype` must be/);
    await rejects(loadImageBatch([]), '`sources` must be a non-empty array of images. Received: []');
    await rejects(loadImageBatch([file], { dataFormat: 'x' as 'channels_last' }), /^`loadImageBatch`: `dataFormat` must be/);
    await rejects(loadImageBatch([file], { interpolation: 'x' as 'nearest' }), /^`interpolation` must be one of/);
    await rejects(
      loadImageBatch([file, path.join(IMAGES, 'dog.jpg')]),
      '`loadImageBatch` needs images of one shape; pass `targetSize`. Received: image 0 is [9, 13, 3], image 1 is [454, 500, 3]',
    );
    expect(() => imageBatch([])).toThrow(new ArgumentError('`imageBatch` needs at least one image. Received: []'));
    expect(() => imageBatch([tf.zeros([2, 2, 3]) as tf.Tensor3D, tf.zeros([3, 2, 3]) as tf.Tensor3D])).toThrow(/Received: \[2, 2, 3\] and \[3, 2, 3\]$/);
  });
});
