// Keras's imagenet_utils (keras/src/applications/imagenet_utils.py): the preprocessing modes, the input-shape
// and classifier-activation rules every builder applies, correct_pad, and decoding ImageNet predictions.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { formatValue } from '../arguments';
import { ArgumentError } from '../errors';
// Byte-identical to Keras's imagenet_class_index.json: "0".."999" -> [wnid, name].
import classIndex from './imagenet_class_index.json';
import type { InputShape } from './types';

// ---- preprocess_input ---------------------------------------------------------------------

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

export const MODE_NAMES = Object.keys(MODES) as PreprocessMode[];
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

// ---- Input shape, activation, padding -----------------------------------------------------

const ACTIVATIONS = [
  'elu', 'hardSigmoid', 'linear', 'relu', 'relu6', 'selu', 'sigmoid', 'softmax', 'softplus', 'softsign',
  'tanh', 'swish', 'mish', 'gelu', 'gelu_new',
];

/**
 * Keras's `obtain_input_shape` for channels-last data: the input shape the model gets,
 * or an ArgumentError for the same cases Keras rejects.
 */
export function obtainInputShape(
  inputShape: readonly (number | null)[] | undefined,
  rules: { defaultSize: number; minSize: number; requireFlatten: boolean; weights: unknown },
): InputShape {
  const { defaultSize, minSize, requireFlatten, weights } = rules;
  const imagenet = weights === 'imagenet';
  if (inputShape !== undefined && inputShape !== null) {
    if (!Array.isArray(inputShape) || inputShape.length !== 3) {
      throw new ArgumentError(
        `\`inputShape\` must be an array of three integers [height, width, channels]. Received: inputShape=${formatValue(inputShape)}`,
      );
    }
    inputShape.forEach((dim, i) => {
      if (dim !== null && (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1)) {
        throw new ArgumentError(
          `\`inputShape\` entries must be positive integers or null. Received: inputShape=${formatValue(inputShape)} (entry ${i})`,
        );
      }
    });
  }
  const given = inputShape && inputShape.length > 0 ? (inputShape as InputShape) : undefined;
  const channels = !imagenet && given ? given[2] : 3;
  const defaultShape: InputShape = [defaultSize, defaultSize, channels];
  if (imagenet && requireFlatten) {
    if (given && !given.every((dim, i) => dim === defaultShape[i])) {
      throw new ArgumentError(
        `When setting \`includeTop: true\` and loading 'imagenet' weights, \`inputShape\` should be ` +
          `${formatValue(defaultShape)}. Received: inputShape=${formatValue(given)}`,
      );
    }
    return defaultShape;
  }
  let shape: InputShape;
  if (given) {
    if (given[2] !== 3 && imagenet) {
      throw new ArgumentError(`The input must have 3 channels; Received: inputShape=${formatValue(given)}`);
    }
    if ((given[0] !== null && given[0] < minSize) || (given[1] !== null && given[1] < minSize)) {
      throw new ArgumentError(`Input size must be at least ${minSize}x${minSize}; Received: inputShape=${formatValue(given)}`);
    }
    shape = [...given];
  } else {
    shape = requireFlatten ? defaultShape : [null, null, 3];
  }
  if (requireFlatten && shape.includes(null)) {
    throw new ArgumentError(
      `If \`includeTop\` is true, you should specify a static \`inputShape\`. Received: inputShape=${formatValue(shape)}`,
    );
  }
  return shape;
}

/** Keras's `validate_activation`: with pretrained weights the top may only be softmax or logits. */
export function validateActivation(activation: unknown, weights: unknown): void {
  if (activation !== null && (typeof activation !== 'string' || !ACTIVATIONS.includes(activation))) {
    throw new ArgumentError(
      `\`classifierActivation\` must be null or one of ${ACTIVATIONS.map(formatValue).join(', ')}. ` +
        `Received: classifierActivation=${formatValue(activation)}`,
    );
  }
  if (weights !== null && activation !== null && activation !== 'softmax') {
    throw new ArgumentError(
      'Only `null` and `softmax` activations are allowed for the `classifierActivation` argument when using ' +
        `pretrained weights, with \`includeTop: true\`; Received: classifierActivation=${formatValue(activation)}`,
    );
  }
}

/**
 * Keras's `imagenet_utils.correct_pad`: the zero padding before a stride-2 'valid' convolution, one less
 * before each axis of even (or unknown) size, so the result lines up with TensorFlow's 'same'.
 */
export function correctPad(x: tfl.SymbolicTensor, kernelSize: number): [[number, number], [number, number]] {
  const half = Math.floor(kernelSize / 2);
  const unknown = x.shape[1] == null;
  const [before0, before1] = [x.shape[1], x.shape[2]].map((size) => half - (unknown ? 1 : 1 - (size! % 2)));
  return [[before0!, half], [before1!, half]];
}

// ---- decode_predictions -------------------------------------------------------------------

export interface ImagenetClass {
  /** WordNet id, e.g. 'n02504458'. */
  classId: string;
  /** Keras's class name, e.g. 'African_elephant'. */
  className: string;
}

export interface ImagenetPrediction extends ImagenetClass {
  probability: number;
}

export const IMAGENET_CLASS_COUNT = 1000;

const CLASS_INDEX: Record<string, string[]> = classIndex;

/** The ImageNet class at `index` (0..999) of a 1000-way classifier's output. */
export function imagenetClass(index: number): ImagenetClass {
  const entry = Number.isInteger(index) ? CLASS_INDEX[String(index)] : undefined;
  if (entry === undefined) {
    throw new ArgumentError(`Expected an ImageNet class index, an integer from 0 to 999. Received: ${index}`);
  }
  return { classId: entry[0], className: entry[1] };
}

/**
 * Keras's `decode_predictions`: for each row of a (samples, 1000) batch of scores, the `top`
 * highest-scoring classes, best first. `top` above 1000 gives all 1000 classes, as in Keras.
 * Equal scores are listed lowest class index first (NumPy's unstable argsort leaves their order unspecified).
 */
export function decodePredictions(
  preds: tf.Tensor | ArrayLike<ArrayLike<number>>,
  top = 5,
): ImagenetPrediction[][] {
  if (!Number.isInteger(top) || top < 1) {
    throw new ArgumentError(`Expected top to be a positive integer. Received: top=${top}`);
  }
  return toRows(preds).map((row) => {
    const order = Array.from({ length: IMAGENET_CLASS_COUNT }, (_, i) => i);
    order.sort((a, b) => compareScores(row[b], row[a]) || a - b);
    return order.slice(0, top).map((i) => ({ ...imagenetClass(i), probability: row[i] }));
  });
}

/** Ascending order with NaN above every number, as NumPy sorts. */
function compareScores(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
  return a - b;
}

function toRows(preds: tf.Tensor | ArrayLike<ArrayLike<number>>): ArrayLike<number>[] {
  if (preds instanceof tf.Tensor) {
    checkShape(preds.shape);
    const values = preds.dataSync();
    return Array.from({ length: preds.shape[0] }, (_, r) =>
      values.subarray(r * IMAGENET_CLASS_COUNT, (r + 1) * IMAGENET_CLASS_COUNT),
    );
  }
  checkShape(nestedShape(preds));
  const rows = Array.from(preds);
  rows.forEach((row, r) => {
    if (!isArrayLike(row) || row.length !== IMAGENET_CLASS_COUNT) {
      throw new ArgumentError(
        `${SHAPE_RULE} Received a ragged array: row ${r} has ${isArrayLike(row) ? row.length : 'no'} values`,
      );
    }
  });
  return rows;
}

// Keras's message, with our function's name.
const SHAPE_RULE = '`decodePredictions` expects a batch of predictions (i.e. a 2D array of shape (samples, 1000)).';

function checkShape(shape: readonly number[]): void {
  if (shape.length !== 2 || shape[1] !== IMAGENET_CLASS_COUNT) {
    throw new ArgumentError(`${SHAPE_RULE} Received array with shape: [${shape.join(', ')}]`);
  }
}

/** The shape of nested arrays, read along their first elements. */
function nestedShape(x: unknown): number[] {
  const shape: number[] = [];
  for (let v = x; isArrayLike(v); v = v[0]) shape.push(v.length);
  return shape;
}

function isArrayLike(x: unknown): x is ArrayLike<unknown> {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}
