import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { ArgumentError } from '../src/errors';
import { randomBrightness, randomContrast, randomCrop, randomFlip } from '../src/data/augment';
import { imageDatasetFromDirectory } from '../src/data/dataset';
import { seededRandom, shuffled } from '../src/data/seeded-random';

// 64 images of 3×4 pixels, 2 channels, every value distinct, within [0, 255]. The expected results are
// written out with index arithmetic on plain arrays: pixel (y, x, c) of image n is at ((n*H + y)*W + x)*C + c.
const [N, H, W, C] = [64, 3, 4, 2];
const SIZE = H * W * C;
const VALUES = Array.from({ length: N * SIZE }, (_, i) => (i * 37) % 251);
const images = () => tf.tensor4d(VALUES, [N, H, W, C]);
const PHOTOS = fileURLToPath(new URL('data/images/', import.meta.url));

type Image = number[];
const imageOf = (values: ArrayLike<number>, n: number, size = SIZE): Image => Array.from(values).slice(n * size, (n + 1) * size);
const pixel = (image: Image, y: number, x: number, c: number, width = W) => image[(y * width + x) * C + c]!;

function mapPixels(height: number, width: number, value: (y: number, x: number, c: number) => number): Image {
  const out: Image = [];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < C; c++) out.push(value(y, x, c));
  return out;
}
const mirrorX = (image: Image) => mapPixels(H, W, (y, x, c) => pixel(image, y, W - 1 - x, c));
const mirrorY = (image: Image) => mapPixels(H, W, (y, x, c) => pixel(image, H - 1 - y, x, c));

async function run(op: () => tf.Tensor): Promise<Float32Array> {
  const out = op();
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return values;
}

describe('augmentation', () => {
  beforeAll(() => ensureBackend());

  it('seededRandom repeats its sequence per seed, stays in [0, 1) and is roughly uniform; shuffled permutes', () => {
    const draw = (seed: number) => Array.from({ length: 10_000 }, seededRandom(seed));
    const a = draw(7);
    expect(draw(7)).toEqual(a);
    expect(draw(8)).not.toEqual(a);
    expect(a.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    const deciles = Array.from({ length: 10 }, (_, d) => a.filter((v) => Math.floor(v * 10) === d).length);
    deciles.forEach((count) => expect(count).toBeGreaterThan(800));
    const items = Array.from({ length: 50 }, (_, i) => i);
    const mixed = shuffled(items, seededRandom(1));
    expect(mixed).not.toEqual(items);
    expect([...mixed].sort((x, y) => x - y)).toEqual(items);
  });

  it('randomFlip: each image is itself or its mirror image, about half flipped, the same for the same seed', async () => {
    for (const [mode, variants] of [
      ['horizontal', (im: Image) => [im, mirrorX(im)]],
      ['vertical', (im: Image) => [im, mirrorY(im)]],
      ['horizontal_and_vertical', (im: Image) => [im, mirrorX(im), mirrorY(im), mirrorY(mirrorX(im))]],
    ] as const) {
      const out = await run(() => randomFlip(images(), { mode, random: seededRandom(3) }));
      const chosen = Array.from({ length: N }, (_, n) => variants(imageOf(VALUES, n)).findIndex((v) => v.join() === imageOf(out, n).join()));
      expect(chosen.every((k) => k >= 0)).toBe(true);
      const counts = variants([]).map((_, k) => chosen.filter((c) => c === k).length);
      counts.forEach((count) => expect(count).toBeGreaterThan(N / counts.length / 2));
      expect(await run(() => randomFlip(images(), { mode, random: seededRandom(3) }))).toEqual(out);
      expect(await run(() => randomFlip(images(), { mode, random: seededRandom(4) }))).not.toEqual(out);
    }
  });

  it('randomCrop: each image is a window of its source, offsets spread over every position', async () => {
    const [h, w] = [2, 2];
    const out = await run(() => randomCrop(images(), { height: h, width: w, random: seededRandom(5) }));
    const offsets = new Set<string>();
    for (let n = 0; n < N; n++) {
      const source = imageOf(VALUES, n);
      const crop = imageOf(out, n, h * w * C).join();
      const found = [];
      for (let top = 0; top <= H - h; top++) {
        for (let left = 0; left <= W - w; left++) {
          if (mapPixels(h, w, (y, x, c) => pixel(source, y + top, x + left, c)).join() === crop) found.push(`${top},${left}`);
        }
      }
      expect(found).toHaveLength(1);
      offsets.add(found[0]!);
    }
    expect(offsets.size).toBe((H - h + 1) * (W - w + 1));
    const full = await run(() => randomCrop(images(), { height: H, width: W, random: seededRandom(5) }));
    expect(Array.from(full)).toEqual(VALUES);
  });

  it("randomBrightness: one shift per image within factor × the value range's width, clipped to the range", async () => {
    const out = await run(() => randomBrightness(images(), { factor: [-0.2, 0.3], random: seededRandom(6) }));
    const shifts = [];
    for (let n = 0; n < N; n++) {
      const source = imageOf(VALUES, n);
      const result = imageOf(out, n);
      // The shift from a pixel no clipping touched: the source value closest to the middle of [0, 255].
      const middle = source.reduce((best, v, i) => (Math.abs(v - 127) < Math.abs(source[best]! - 127) ? i : best), 0);
      const shift = result[middle]! - source[middle]!;
      expect(shift).toBeGreaterThanOrEqual(-0.2 * 255 - 1e-3);
      expect(shift).toBeLessThanOrEqual(0.3 * 255 + 1e-3);
      result.forEach((v, i) => expect(v).toBeCloseTo(Math.min(255, Math.max(0, source[i]! + shift)), 3));
      shifts.push(shift);
    }
    expect(Math.min(...shifts)).toBeLessThan(-25);
    expect(Math.max(...shifts)).toBeGreaterThan(50);
    const unit = await run(() => randomBrightness(tf.div(images(), 255), { factor: 0.1, valueRange: [0, 1], random: seededRandom(6) }));
    expect(Math.max(...unit)).toBeLessThanOrEqual(1);
  });

  it("randomContrast: each channel scaled about its mean by one factor per image from [1 - lower, 1 + upper], clipped", async () => {
    const [lower, upper] = [0.5, 0.8];
    const out = await run(() => randomContrast(images(), { factor: [lower, upper], random: seededRandom(9) }));
    const factors = [];
    for (let n = 0; n < N; n++) {
      const source = imageOf(VALUES, n);
      const result = imageOf(out, n);
      const means = [0, 1].map((c) => source.filter((_, i) => i % C === c).reduce((a, b) => a + b, 0) / (H * W));
      // The factor from the pixel farthest from its channel's mean that stayed inside [0, 255].
      const unclipped = source.map((_, i) => i).filter((i) => result[i]! > 0 && result[i]! < 255);
      const far = unclipped.reduce((best, i) => (Math.abs(source[i]! - means[i % C]!) > Math.abs(source[best]! - means[best % C]!) ? i : best));
      const factor = (result[far]! - means[far % C]!) / (source[far]! - means[far % C]!);
      expect(factor).toBeGreaterThanOrEqual(1 - lower - 1e-4);
      expect(factor).toBeLessThanOrEqual(1 + upper + 1e-4);
      result.forEach((v, i) => expect(v).toBeCloseTo(Math.min(255, Math.max(0, (source[i]! - means[i % C]!) * factor + means[i % C]!)), 2));
      factors.push(factor);
    }
    expect(Math.min(...factors)).toBeLessThan(0.8);
    expect(Math.max(...factors)).toBeGreaterThan(1.4);
  });

  it('works in a tfjs-data pipeline: batches from imageDatasetFromDirectory, mapped', async () => {
    const photos = await imageDatasetFromDirectory(PHOTOS, { labels: null, imageSize: 40, batchSize: 2, shuffle: false, verbose: false });
    const random = seededRandom(2);
    const augmented = photos.map(({ xs }) => ({ xs: randomContrast(randomCrop(xs as tf.Tensor4D, { height: 32, width: 32, random }), { factor: 0.2, random }) }));
    const batches = await augmented.toArray();
    expect(batches.map(({ xs }) => xs.shape)).toEqual([[2, 32, 32, 3], [2, 32, 32, 3], [1, 32, 32, 3]]);
    tf.dispose(batches.map(({ xs }) => xs));
  });

  it('rejects what Keras rejects, naming the argument and the value', () => {
    const batch = images();
    const cases: [() => unknown, RegExp][] = [
      [() => randomFlip(tf.zeros([3, 4, 2]) as unknown as tf.Tensor4D), /rank 4.*Received: a tensor of shape \[3,4,2\]/],
      [() => randomFlip(batch, { mode: 'diagonal' as never }), /`mode` must be one of 'horizontal', 'vertical', 'horizontal_and_vertical'. Received: mode='diagonal'/],
      [() => randomCrop(batch, { height: 4, width: 2 }), /`height` must be an integer from 1 to the images' height \(3\). Received: height=4/],
      [() => randomCrop(batch, { height: 2, width: 1.5 }), /`width` must be an integer .*Received: width=1.5/],
      [() => randomBrightness(batch, { factor: 1.5 }), /`factor` must be a number or a pair \[lower, upper\] within \[-1, 1\]. Received: factor=1.5/],
      [() => randomBrightness(batch, { factor: [0.1, 0.2, 0.3] as never }), /Received: factor=\[0.1,0.2,0.3\]/],
      [() => randomContrast(batch, { factor: -0.1 }), /within \[0, 1\]. Received: factor=-0.1/],
      [() => randomContrast(batch, { factor: 0.2, valueRange: [255, 0] }), /`valueRange` must be a pair \[low, high\].*Received: valueRange=\[255,0\]/],
      [() => randomCrop(batch, { height: 2, width: 2, seed: 1 } as never), /Unknown option `seed` for randomCrop. Allowed: height, width, random/],
      [() => randomFlip(batch, 'horizontal' as never), /randomFlip options must be an object. Received: 'horizontal'/],
    ];
    for (const [call, message] of cases) {
      expect(call).toThrow(ArgumentError);
      expect(call).toThrow(message);
    }
    batch.dispose();
  });
});
