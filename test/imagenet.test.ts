import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError } from '../src/errors';
import { decodePredictions, imagenetClass } from '../src/applications/imagenet-utils';
import classIndex from '../src/applications/imagenet_class_index.json';

/** A 1000-score row: `fill` everywhere except the given index -> score pairs. */
function row(scores: Record<number, number>, fill = 0): Float32Array {
  const out = new Float32Array(1000).fill(fill);
  for (const [i, score] of Object.entries(scores)) out[Number(i)] = score;
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('imagenet class index', () => {
  it('has Keras\'s 1000 entries', () => {
    expect(Object.keys(classIndex)).toHaveLength(1000);
    expect(classIndex['0']).toEqual(['n01440764', 'tench']);
    expect(classIndex['999']).toEqual(['n15075141', 'toilet_tissue']);
  });

  it('is read by imagenetClass', () => {
    expect(imagenetClass(0)).toEqual({ classId: 'n01440764', className: 'tench' });
    expect(imagenetClass(386)).toEqual({ classId: 'n02504458', className: 'African_elephant' });
    expect(imagenetClass(999)).toEqual({ classId: 'n15075141', className: 'toilet_tissue' });
  });

  it.each([-1, 1000, 1.5, NaN])('imagenetClass rejects %s', (index) => {
    expect(() => imagenetClass(index)).toThrow(ArgumentError);
    expect(() => imagenetClass(index)).toThrow(`Received: ${index}`);
  });
});

describe('decodePredictions', () => {
  it('finds the elephant in a one-hot-like row', () => {
    const [top] = decodePredictions([row({ 386: 0.9, 101: 0.05, 385: 0.03 }, 0.00002)]);
    expect(top).toHaveLength(5);
    expect(top[0]).toEqual({ classId: 'n02504458', className: 'African_elephant', probability: Math.fround(0.9) });
    expect(top.map((p) => p.className).slice(0, 3)).toEqual(['African_elephant', 'tusker', 'Indian_elephant']);
  });

  it('orders by descending score, ties by class index', () => {
    const [top] = decodePredictions([row({ 7: 0.5, 3: 0.5, 500: 0.9, 10: 0.1, 2: 0.5 })], 6);
    expect(top.map((p) => [imagenetClassIndex(p.classId), p.probability])).toEqual([
      [500, Math.fround(0.9)],
      [2, 0.5],
      [3, 0.5],
      [7, 0.5],
      [10, Math.fround(0.1)],
      [0, 0],
    ]);
  });

  it('puts NaN first, as NumPy\'s argsort sorts it last', () => {
    const [top] = decodePredictions([row({ 5: NaN, 6: 1 })], 2);
    expect(top.map((p) => p.classId)).toEqual([classIndex['5'][0], classIndex['6'][0]]);
    expect(top[0].probability).toBeNaN();
  });

  it('returns all 1000 classes when top exceeds 1000, as Keras does', () => {
    const [top] = decodePredictions([row({ 1: 3, 2: 2 })], 5000);
    expect(top).toHaveLength(1000);
    expect(top.slice(0, 2).map((p) => p.probability)).toEqual([3, 2]);
    expect(new Set(top.map((p) => p.classId)).size).toBe(1000);
  });

  it('decodes each row of a (2, 1000) tensor and of plain arrays alike', () => {
    const rows = [row({ 386: 0.8, 1: 0.1 }), row({ 999: 0.7, 0: 0.2 })];
    const x = tf.tensor2d([...rows[0], ...rows[1]], [2, 1000]);
    const fromTensor = decodePredictions(x, 2);
    x.dispose();
    expect(fromTensor).toEqual([
      [
        { classId: 'n02504458', className: 'African_elephant', probability: Math.fround(0.8) },
        { classId: 'n01443537', className: 'goldfish', probability: Math.fround(0.1) },
      ],
      [
        { classId: 'n15075141', className: 'toilet_tissue', probability: Math.fround(0.7) },
        { classId: 'n01440764', className: 'tench', probability: Math.fround(0.2) },
      ],
    ]);
    expect(decodePredictions(rows, 2)).toEqual(fromTensor);
    expect(decodePredictions(rows.map((r) => Array.from(r)), 2)).toEqual(fromTensor);
  });

  it('returns one list per sample, also for an empty (0, 1000) batch', () => {
    const empty = tf.zeros([0, 1000]);
    expect(decodePredictions(empty)).toEqual([]);
    empty.dispose();
  });

  it.each([
    [[1000], '[1000]'],
    [[1, 999], '[1, 999]'],
    [[2, 3, 1000], '[2, 3, 1000]'],
  ])('rejects shape %j with Keras\'s message', (shape, shown) => {
    const message =
      '`decodePredictions` expects a batch of predictions (i.e. a 2D array of shape (samples, 1000)). ' +
      `Received array with shape: ${shown}`;
    const x = tf.zeros(shape);
    expect(() => decodePredictions(x)).toThrow(ArgumentError);
    expect(() => decodePredictions(x)).toThrow(message);
    expect(() => decodePredictions(x.arraySync() as number[][])).toThrow(message);
    x.dispose();
  });

  it('rejects ragged rows', () => {
    expect(() => decodePredictions([new Float32Array(1000), new Float32Array(999)])).toThrow(
      'Received a ragged array: row 1 has 999 values',
    );
  });

  it.each([0, -1, 2.5])('rejects top=%s', (top) => {
    expect(() => decodePredictions([row({})], top)).toThrow(ArgumentError);
    expect(() => decodePredictions([row({})], top)).toThrow(`Received: top=${top}`);
  });
});

function imagenetClassIndex(classId: string): number {
  return Number(Object.entries(classIndex).find(([, [id]]) => id === classId)![0]);
}
