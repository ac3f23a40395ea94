import * as tf from '@tensorflow/tfjs-core';
import { ArgumentError } from '../errors';
// Byte-identical to Keras's imagenet_class_index.json: "0".."999" -> [wnid, name].
import classIndex from './imagenet_class_index.json';

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
