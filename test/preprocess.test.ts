import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError } from '../src/errors';
import { preprocessWithMode, type PreprocessMode } from '../src/applications/imagenet-utils';

// Two RGB pixels, (10, 20, 30) and (200, 150, 255), as a 1x1x2x3 batch.
const PIXELS = [10, 20, 30, 200, 150, 255];

// Keras's _preprocess_numpy_input on np.float32 PIXELS, run with NumPy 2.4 in python3
// (float32 arithmetic in Keras's order), printed as doubles.
const EXPECTED: Record<Exclude<PreprocessMode, 'none'>, number[]> = {
  caffe: [-73.93900299072266, -96.77899932861328, -113.68000030517578, 151.06100463867188, 33.22100067138672, 76.31999969482422],
  tf: [-0.9215686321258545, -0.843137264251709, -0.7647058963775635, 0.5686274766921997, 0.17647063732147217, 1.0],
  torch: [-1.9466564655303955, -1.6855741739273071, -1.2815686464309692, 1.3070467710494995, 0.5903362035751343, 2.640000104904175],
};

// The same, for np.uint8 [0, 128, 255, 7, 8, 9] (Keras casts to float32 first).
const UINT8_PIXELS = [0, 128, 255, 7, 8, 9];
const UINT8_EXPECTED: Record<Exclude<PreprocessMode, 'none'>, number[]> = {
  caffe: [151.06100463867188, 11.221000671386719, -123.68000030517578, -94.93900299072266, -108.77899932861328, -116.68000030517578],
  tf: [-1.0, 0.003921627998352051, 1.0, -0.9450980424880981, -0.9372549057006836, -0.929411768913269],
  torch: [-2.1179039478302, 0.20518219470977783, 2.640000104904175, -1.998030662536621, -1.895658254623413, -1.647581696510315],
};

// PIXELS and Keras's result for it with data_format='channels_first', shape (1, 3, 1, 2), same python3 run.
const PIXELS_CHANNELS_FIRST = [10, 200, 20, 150, 30, 255];
const EXPECTED_CHANNELS_FIRST: Record<Exclude<PreprocessMode, 'none'>, number[]> = {
  caffe: [-73.93900299072266, 151.06100463867188, -96.77899932861328, 33.22100067138672, -113.68000030517578, 76.31999969482422],
  tf: [-0.9215686321258545, 0.5686274766921997, -0.843137264251709, 0.17647063732147217, -0.7647058963775635, 1.0],
  torch: [-1.9466564655303955, 1.3070467710494995, -1.6855741739273071, 0.5903362035751343, -1.2815686464309692, 2.640000104904175],
};

const MODES = ['caffe', 'tf', 'torch'] as const;

/** Runs `fn`, checks it leaves no tensor behind, and returns the result's values. */
function valuesOf(fn: () => tf.Tensor): { values: number[]; shape: number[]; dtype: string } {
  const before = tf.memory().numTensors;
  const result = fn();
  const out = { values: Array.from(result.dataSync()), shape: result.shape, dtype: result.dtype };
  result.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('preprocessWithMode on tensors', () => {
  it.each(MODES)('%s matches Keras on a 1x1x2x3 float32 batch', (mode) => {
    const x = tf.tensor4d(PIXELS, [1, 1, 2, 3]);
    const out = valuesOf(() => preprocessWithMode(x, mode));
    expect(out).toEqual({ values: EXPECTED[mode], shape: [1, 1, 2, 3], dtype: 'float32' });
    expect(Array.from(x.dataSync())).toEqual(PIXELS);
    x.dispose();
  });

  it.each(MODES)('%s matches Keras on a 3-D (1, 2, 3) image', (mode) => {
    const x = tf.tensor3d(PIXELS, [1, 2, 3]);
    expect(valuesOf(() => preprocessWithMode(x, mode)).values).toEqual(EXPECTED[mode]);
    x.dispose();
  });

  it.each(MODES)('%s casts an int32 tensor to float32 first, as Keras does for uint8', (mode) => {
    const x = tf.tensor3d(UINT8_PIXELS, [1, 2, 3], 'int32');
    const out = valuesOf(() => preprocessWithMode(x, mode));
    expect(out.dtype).toBe('float32');
    expect(out.values).toEqual(UINT8_EXPECTED[mode]);
    x.dispose();
  });

  it.each(MODES)('%s with channelsFirst matches Keras on (1, 3, 1, 2) and (3, 1, 2)', (mode) => {
    const data = PIXELS_CHANNELS_FIRST;
    const expected = EXPECTED_CHANNELS_FIRST[mode];
    const batch = tf.tensor4d(data, [1, 3, 1, 2]);
    const image = tf.tensor3d(data, [3, 1, 2]);
    const out4 = valuesOf(() => preprocessWithMode(batch, mode, { dataFormat: 'channelsFirst' }));
    const out3 = valuesOf(() => preprocessWithMode(image, mode, { dataFormat: 'channelsFirst' }));
    expect(out4).toEqual({ values: expected, shape: [1, 3, 1, 2], dtype: 'float32' });
    expect(out3).toEqual({ values: expected, shape: [3, 1, 2], dtype: 'float32' });
    expect(Array.from(batch.dataSync())).toEqual(data);
    tf.dispose([batch, image]);
  });

  it("'none' returns a new float32 tensor with the same values", () => {
    const x = tf.tensor3d(UINT8_PIXELS, [1, 2, 3], 'int32');
    const before = tf.memory().numTensors;
    const out = preprocessWithMode(x, 'none');
    expect(out).not.toBe(x);
    expect(out.dtype).toBe('float32');
    expect(Array.from(out.dataSync())).toEqual(UINT8_PIXELS);
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });

  it('handles a batch of several images per pixel', () => {
    const x = tf.tensor4d([...PIXELS, ...UINT8_PIXELS], [2, 1, 2, 3]);
    expect(valuesOf(() => preprocessWithMode(x, 'torch')).values).toEqual([...EXPECTED.torch, ...UINT8_EXPECTED.torch]);
    x.dispose();
  });
});

describe('preprocessWithMode on arrays', () => {
  it.each(MODES)('%s matches Keras on Float32Array and number[]', (mode) => {
    for (const x of [Float32Array.from(PIXELS), [...PIXELS]]) {
      const out = preprocessWithMode(x, mode);
      expect(out).toBeInstanceOf(Float32Array);
      expect(Array.from(out)).toEqual(EXPECTED[mode]);
      expect(Array.from(x)).toEqual(PIXELS);
    }
  });

  it.each(MODES)('%s matches Keras on Uint8Array and Uint8ClampedArray', (mode) => {
    for (const x of [Uint8Array.from(UINT8_PIXELS), Uint8ClampedArray.from(UINT8_PIXELS)]) {
      expect(Array.from(preprocessWithMode(x, mode))).toEqual(UINT8_EXPECTED[mode]);
      expect(Array.from(x)).toEqual(UINT8_PIXELS);
    }
  });

  it("'none' returns a new Float32Array copy", () => {
    const x = Float32Array.from(PIXELS);
    const out = preprocessWithMode(x, 'none');
    expect(out).not.toBe(x);
    expect(Array.from(out)).toEqual(PIXELS);
    expect(Array.from(preprocessWithMode(Uint8Array.from(UINT8_PIXELS), 'none'))).toEqual(UINT8_PIXELS);
  });

  it('accepts an empty array', () => {
    expect(preprocessWithMode([], 'caffe')).toEqual(new Float32Array(0));
  });
});

describe('preprocessWithMode errors', () => {
  const image = () => tf.zeros([1, 2, 2, 3]);

  it('rejects an unknown mode, naming it and the allowed ones', () => {
    const x = image();
    const before = tf.memory().numTensors;
    for (const input of [x, [1, 2, 3]]) {
      expect(() => preprocessWithMode(input as tf.Tensor, 'Caffe' as PreprocessMode)).toThrow(ArgumentError);
      expect(() => preprocessWithMode(input as tf.Tensor, 'Caffe' as PreprocessMode)).toThrow(
        "Expected mode to be one of 'caffe', 'tf', 'torch', 'none'. Received: mode=Caffe",
      );
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('rejects an unknown dataFormat', () => {
    const x = image();
    const call = () => preprocessWithMode(x, 'tf', { dataFormat: 'channels_last' as 'channelsLast' });
    expect(call).toThrow(ArgumentError);
    expect(call).toThrow("Expected dataFormat to be 'channelsLast' or 'channelsFirst'. Received: dataFormat=channels_last");
    x.dispose();
  });

  it.each([
    [[2, 3], 'channelsLast'],
    [[1, 1, 1, 2, 3], 'channelsLast'],
    [[1, 2, 2, 4], 'channelsLast'],
    [[2, 2, 1], 'channelsLast'],
    [[1, 2, 2, 3], 'channelsFirst'],
    [[2, 2, 3], 'channelsFirst'],
  ] as const)('rejects a tensor of shape %j with %s, naming the shape', (shape, dataFormat) => {
    const x = tf.zeros([...shape]);
    const before = tf.memory().numTensors;
    const call = () => preprocessWithMode(x, 'caffe', { dataFormat });
    expect(call).toThrow(ArgumentError);
    expect(call).toThrow(`Received a tensor with shape [${shape.join(', ')}]`);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('rejects a tensor that is not float32 or int32', () => {
    const x = tf.zeros([1, 2, 3], 'bool');
    expect(() => preprocessWithMode(x, 'tf')).toThrow('Expected a float32 or int32 image tensor. Received dtype=bool');
    x.dispose();
  });

  it('rejects an array whose length is not a multiple of 3', () => {
    for (const x of [[1, 2, 3, 4], new Uint8Array(5)]) {
      expect(() => preprocessWithMode(x, 'tf')).toThrow(ArgumentError);
      expect(() => preprocessWithMode(x, 'tf')).toThrow(`Received an array of length ${x.length}`);
    }
  });

  it('rejects channelsFirst for arrays', () => {
    const call = () => preprocessWithMode(Float32Array.from(PIXELS), 'tf', { dataFormat: 'channelsFirst' });
    expect(call).toThrow(ArgumentError);
    expect(call).toThrow('Plain arrays must be channels-last');
  });

  it('rejects other inputs, naming what it got', () => {
    expect(() => preprocessWithMode(new Float64Array(3) as unknown as Float32Array, 'tf')).toThrow(
      'Expected x to be a tf.Tensor, Float32Array, Uint8Array, Uint8ClampedArray or number[]. Received: Float64Array',
    );
    expect(() => preprocessWithMode(null as unknown as number[], 'tf')).toThrow('Received: null');
  });
});
