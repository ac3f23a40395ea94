import * as tf from '@tensorflow/tfjs-core';
import { ArgumentError } from '../errors';

/** Keras's `preprocess_input` modes, plus 'none' for models that take raw [0, 255] pixels. */
export type PreprocessMode = 'caffe' | 'tf' | 'torch' | 'none';

export type DataFormat = 'channelsLast' | 'channelsFirst';

export interface PreprocessOptions {
  /** Where the 3 colour channels are. Defaults to 'channelsLast'. Plain arrays must be channels-last. */
  dataFormat?: DataFormat;
}

/** Flat channels-last pixel data: R, G, B, R, G, B, ... */
export type PixelArray = Float32Array | Uint8Array | Uint8ClampedArray | number[];

type Triple = readonly [number, number, number];

/** One mode as Keras applies it, in its order: flip RGB to BGR, divide by `divisor`, subtract `mean`, divide by `std`. */
interface ModeSteps {
  toBgr: boolean;
  divisor?: number;
  mean?: Triple;
  std?: Triple;
}

const MODES: Record<PreprocessMode, ModeSteps> = {
  caffe: { toBgr: true, mean: [103.939, 116.779, 123.68] },
  tf: { toBgr: false, divisor: 127.5, mean: [1, 1, 1] },
  torch: { toBgr: false, divisor: 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  none: { toBgr: false },
};

const MODE_NAMES = Object.keys(MODES) as PreprocessMode[];
const DATA_FORMATS: readonly DataFormat[] = ['channelsLast', 'channelsFirst'];

/**
 * Keras's `imagenet_utils.preprocess_input(x, data_format, mode)` for RGB pixels in [0, 255]:
 * - caffe: RGB to BGR, then subtract the ImageNet mean [103.939, 116.779, 123.68] (BGR order); no scaling.
 * - tf: x / 127.5 - 1.
 * - torch: x / 255, subtract [0.485, 0.456, 0.406], divide by [0.229, 0.224, 0.225].
 * - none: an unchanged float32 copy.
 *
 * A tensor must be (H, W, 3) or (N, H, W, 3), or (3, H, W) / (N, 3, H, W) with `dataFormat: 'channelsFirst'`.
 * A plain array is flat channels-last data whose length is a multiple of 3.
 *
 * Always returns a new float32 tensor or Float32Array and leaves `x` untouched
 * (Keras overwrites float NumPy input in place; we do not).
 * Every step is float32 arithmetic in Keras's order, so results match Keras's float32 output.
 */
export function preprocessWithMode(x: tf.Tensor, mode: PreprocessMode, options?: PreprocessOptions): tf.Tensor;
export function preprocessWithMode(x: PixelArray, mode: PreprocessMode, options?: PreprocessOptions): Float32Array;
export function preprocessWithMode(
  x: tf.Tensor | PixelArray,
  mode: PreprocessMode,
  options: PreprocessOptions = {},
): tf.Tensor | Float32Array {
  if (!MODE_NAMES.includes(mode)) {
    throw new ArgumentError(
      `Expected mode to be one of ${MODE_NAMES.map((m) => `'${m}'`).join(', ')}. Received: mode=${String(mode)}`,
    );
  }
  const dataFormat = options.dataFormat ?? 'channelsLast';
  if (!DATA_FORMATS.includes(dataFormat)) {
    throw new ArgumentError(
      `Expected dataFormat to be 'channelsLast' or 'channelsFirst'. Received: dataFormat=${String(dataFormat)}`,
    );
  }
  const steps = MODES[mode];
  if (x instanceof tf.Tensor) return preprocessTensor(x, steps, dataFormat);
  if (Array.isArray(x) || x instanceof Float32Array || x instanceof Uint8Array || x instanceof Uint8ClampedArray) {
    if (dataFormat !== 'channelsLast') {
      throw new ArgumentError(
        'Plain arrays must be channels-last (R, G, B, R, G, B, ...). ' +
          "For dataFormat='channelsFirst' pass a tf.Tensor, whose shape says where the channels are.",
      );
    }
    return preprocessArray(x, steps);
  }
  throw new ArgumentError(
    'Expected x to be a tf.Tensor, Float32Array, Uint8Array, Uint8ClampedArray or number[]. ' +
      `Received: ${typeName(x)}`,
  );
}

function preprocessTensor(x: tf.Tensor, steps: ModeSteps, dataFormat: DataFormat): tf.Tensor {
  const channelAxis = dataFormat === 'channelsLast' ? x.rank - 1 : x.rank - 3;
  if ((x.rank !== 3 && x.rank !== 4) || x.shape[channelAxis] !== 3) {
    const expected = dataFormat === 'channelsLast' ? '(H, W, 3) or (N, H, W, 3)' : '(3, H, W) or (N, 3, H, W)';
    throw new ArgumentError(
      `Expected an image tensor of shape ${expected} for dataFormat='${dataFormat}'. ` +
        `Received a tensor with shape [${x.shape.join(', ')}]`,
    );
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new ArgumentError(`Expected a float32 or int32 image tensor. Received dtype=${x.dtype}`);
  }
  // Per-channel constants broadcast along the channel axis: [3] for channels-last, [3, 1, 1] for channels-first.
  const channelShape = dataFormat === 'channelsLast' ? [3] : [3, 1, 1];
  return tf.tidy(() => {
    let y = x.dtype === 'float32' ? x.clone() : tf.cast(x, 'float32');
    if (steps.toBgr) y = tf.reverse(y, channelAxis);
    if (steps.divisor !== undefined) y = tf.div(y, steps.divisor);
    if (steps.mean) y = tf.sub(y, tf.tensor(steps.mean, channelShape, 'float32'));
    if (steps.std) y = tf.div(y, tf.tensor(steps.std, channelShape, 'float32'));
    return y;
  });
}

function preprocessArray(x: ArrayLike<number>, steps: ModeSteps): Float32Array {
  if (x.length % 3 !== 0) {
    throw new ArgumentError(
      `Expected flat RGB data whose length is a multiple of 3. Received an array of length ${x.length}`,
    );
  }
  const out = Float32Array.from(x);
  if (steps.toBgr) {
    for (let i = 0; i < out.length; i += 3) [out[i], out[i + 2]] = [out[i + 2], out[i]];
  }
  // Math.fround after each step gives exactly the float32 arithmetic of NumPy / tfjs.
  const f = Math.fround;
  const divisor = steps.divisor === undefined ? undefined : f(steps.divisor);
  const mean = steps.mean?.map(f);
  const std = steps.std?.map(f);
  for (let i = 0; i < out.length; i++) {
    const c = i % 3;
    let v = out[i];
    if (divisor !== undefined) v = f(v / divisor);
    if (mean) v = f(v - mean[c]);
    if (std) v = f(v / std[c]);
    out[i] = v;
  }
  return out;
}

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return x.constructor?.name ?? 'object';
  return typeof x;
}
