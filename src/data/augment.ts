// Image augmentation on batches [batch, height, width, channels], with Keras's preprocessing layers' rules
// (keras/src/layers/preprocessing/image_preprocessing/random_*.py) applied in training mode: each image draws
// its own flip, brightness shift or contrast factor from `random`. Give them `seededRandom(seed)` for runs that
// repeat exactly. Each returns a new float32 tensor; the caller disposes the input.
import * as tf from '@tensorflow/tfjs-core';
import { checkOptionNames, formatValue } from '../arguments';
import { ArgumentError } from '../errors';
import type { RandomSource } from './seeded-random';

export type FlipMode = 'horizontal' | 'vertical' | 'horizontal_and_vertical';

/** Keras's `factor`: `f`, for brightness [-f, f] and contrast [1 - f, 1 + f], or a pair [lower, upper]. */
export type Factor = number | [number, number];

export interface RandomOptions {
  /** Where the random numbers come from, one or two per image in batch order; default `Math.random`. */
  random?: RandomSource;
}

export interface RandomFlipOptions extends RandomOptions {
  /** Keras's default flips both ways, each with probability 1/2. */
  mode?: FlipMode;
}

export interface RandomCropOptions extends RandomOptions {
  height: number;
  width: number;
}

export interface RandomIntensityOptions extends RandomOptions {
  factor: Factor;
  /** The pixels' range, which results are clipped to; Keras's default [0, 255]. */
  valueRange?: [number, number];
}

function checkArguments(images: tf.Tensor, operation: string, options: object, allowed: string[]): void {
  checkOptionNames(operation, options, [...allowed, 'random']);
  if (!(images instanceof tf.Tensor) || images.rank !== 4) {
    const received = images instanceof tf.Tensor ? `a tensor of shape ${formatValue(images.shape)}` : formatValue(images);
    throw new ArgumentError(`${operation} takes \`images\` of rank 4, [batch, height, width, channels]. Received: ${received}`);
  }
}

function perImage(images: tf.Tensor4D, transform: (image: tf.Tensor3D) => tf.Tensor): tf.Tensor4D {
  return tf.tidy(() => tf.stack(tf.unstack(tf.cast(images, 'float32')).map((image) => transform(image as tf.Tensor3D))) as tf.Tensor4D);
}

/** Keras's RandomFlip: each image flipped left-right and/or upside down, each with probability 1/2. */
export function randomFlip(images: tf.Tensor4D, options: RandomFlipOptions = {}): tf.Tensor4D {
  checkArguments(images, 'randomFlip', options, ['mode']);
  const { mode = 'horizontal_and_vertical', random = Math.random } = options;
  const modes: FlipMode[] = ['horizontal', 'vertical', 'horizontal_and_vertical'];
  if (!modes.includes(mode)) throw new ArgumentError(`\`mode\` must be one of ${modes.map(formatValue).join(', ')}. Received: mode=${formatValue(mode)}`);
  const axes = mode === 'horizontal' ? [1] : mode === 'vertical' ? [0] : [1, 0];
  return perImage(images, (image) => {
    const flipAxes = axes.filter(() => random() < 0.5);
    return flipAxes.length > 0 ? tf.reverse(image, flipAxes) : image;
  });
}

function checkSize(name: string, value: unknown, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ArgumentError(`\`${name}\` must be an integer from 1 to the images' ${name} (${max}). Received: ${name}=${formatValue(value)}`);
  }
}

/**
 * Keras's RandomCrop in training: a `height` × `width` window of each image at a random offset. Unlike Keras,
 * every image gets its own offset (Keras draws one per batch), and images smaller than the window are refused.
 */
export function randomCrop(images: tf.Tensor4D, options: RandomCropOptions): tf.Tensor4D {
  checkArguments(images, 'randomCrop', options, ['height', 'width']);
  const { height, width, random = Math.random } = options;
  const [, imageHeight, imageWidth] = images.shape;
  checkSize('height', height, imageHeight);
  checkSize('width', width, imageWidth);
  return perImage(images, (image) => {
    const top = Math.floor(random() * (imageHeight - height + 1));
    const left = Math.floor(random() * (imageWidth - width + 1));
    return tf.slice(image, [top, left, 0], [height, width, -1]);
  });
}

/** Keras's `factor`: a number (`single` gives its range) or a pair, every bound within [min, max]. */
function factorPair(factor: unknown, [min, max]: [number, number], single: (f: number) => [number, number]): [number, number] {
  const pair: unknown = typeof factor === 'number' ? single(factor) : factor;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((v) => typeof v === 'number' && v >= min && v <= max)) {
    throw new ArgumentError(`\`factor\` must be a number or a pair [lower, upper] within [${min}, ${max}]. Received: factor=${formatValue(factor)}`);
  }
  return pair as [number, number];
}

function checkValueRange(valueRange: unknown): [number, number] {
  if (!Array.isArray(valueRange) || valueRange.length !== 2 || !valueRange.every(Number.isFinite) || !(valueRange[0] < valueRange[1])) {
    throw new ArgumentError(`\`valueRange\` must be a pair [low, high] of numbers, low < high. Received: valueRange=${formatValue(valueRange)}`);
  }
  return valueRange as [number, number];
}

const uniform = (random: RandomSource, [lower, upper]: [number, number]) => lower + (upper - lower) * random();

/**
 * Keras's RandomBrightness: adds to every pixel of an image one value drawn from
 * [lower, upper] × (high - low) of `valueRange`, then clips to `valueRange`.
 */
export function randomBrightness(images: tf.Tensor4D, options: RandomIntensityOptions): tf.Tensor4D {
  checkArguments(images, 'randomBrightness', options, ['factor', 'valueRange']);
  const { factor, valueRange = [0, 255], random = Math.random } = options;
  const range = factorPair(factor, [-1, 1], (f) => [-f, f]);
  const [low, high] = checkValueRange(valueRange);
  return perImage(images, (image) => tf.clipByValue(tf.add(image, uniform(random, range) * (high - low)), low, high));
}

/**
 * Keras's RandomContrast: moves each channel of an image away from (or towards) its mean,
 * `(x - mean) * c + mean`, with c drawn from [1 - lower, 1 + upper], then clips to `valueRange`.
 */
export function randomContrast(images: tf.Tensor4D, options: RandomIntensityOptions): tf.Tensor4D {
  checkArguments(images, 'randomContrast', options, ['factor', 'valueRange']);
  const { factor, valueRange = [0, 255], random = Math.random } = options;
  const [lower, upper] = factorPair(factor, [0, 1], (f) => [f, f]);
  const [low, high] = checkValueRange(valueRange);
  return perImage(images, (image) => {
    const mean = tf.mean(image, [0, 1], true);
    const contrast = uniform(random, [1 - lower, 1 + upper]);
    return tf.clipByValue(tf.add(tf.mul(tf.sub(image, mean), contrast), mean), low, high);
  });
}
