import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { WASM_TRAINING_KERNELS } from '../src/backend/wasm-training-kernels';
import { uniform } from './helpers/generator';

// The reference is tfjs's cpu backend, whose kernels the wasm backend lacks: the same gradients on both.
interface Case {
  name: string;
  input: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid';
}
const CONVOLUTIONS: Case[] = [
  { name: '1×1 (MobileNet pointwise)', input: [3, 4, 4, 16], filter: [1, 1, 16, 24], strides: 1, pad: 'same' },
  { name: '3×3 stride 2 same', input: [2, 9, 7, 5], filter: [3, 3, 5, 6], strides: 2, pad: 'same' },
  { name: '3×3 valid', input: [2, 6, 6, 4], filter: [3, 3, 4, 3], strides: 1, pad: 'valid' },
  { name: '7×7 stride 2 same (ResNet stem)', input: [1, 16, 16, 3], filter: [7, 7, 3, 8], strides: 2, pad: 'same' },
];

/** Gradients of a conv2d and a depthwise conv2d (followed by a ReLU, so some inputs are zero) on `backend`. */
async function gradients(backend: string, c: Case): Promise<number[][]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.relu(tf.tensor4d(uniform(`${c.name}/x`, c.input, -1, 1), c.input));
    const filter = tf.tensor4d(uniform(`${c.name}/filter`, c.filter, -1, 1), c.filter);
    const depthwiseShape: [number, number, number, number] = [c.filter[0], c.filter[1], c.input[3], 2];
    const depthwise = tf.tensor4d(uniform(`${c.name}/depthwise`, depthwiseShape, -1, 1), depthwiseShape);
    const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, tf.sin(tf.reshape(tf.range(0, y.size), y.shape))));
    const conv = tf.grads((input: tf.Tensor, f: tf.Tensor) => loss(tf.conv2d(input as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad)));
    const dw = tf.grads((input: tf.Tensor, f: tf.Tensor) => loss(tf.depthwiseConv2d(input as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad)));
    return [...conv([x, filter]), ...dw([x, depthwise])].map((g) => Array.from(g.dataSync()));
  });
}

describe('wasm training kernels', () => {
  beforeAll(() => ensureBackend());
  afterAll(() => tf.setBackend('wasm'));

  it('are registered for the wasm backend', () => {
    for (const kernel of WASM_TRAINING_KERNELS) expect(tf.getKernel(kernel, 'wasm'), kernel).toBeDefined();
  });

  for (const c of CONVOLUTIONS) {
    it(`${c.name}: conv2d and depthwise gradients equal the cpu backend's`, async () => {
      const expected = await gradients('cpu', c);
      const actual = await gradients('wasm', c);
      expect(tf.getBackend()).toBe('wasm');
      actual.forEach((values, g) => {
        expect(values).toHaveLength(expected[g]!.length);
        const scale = Math.max(...expected[g]!.map(Math.abs));
        values.forEach((v, i) => expect(Math.abs(v - expected[g]![i]!)).toBeLessThanOrEqual(1e-5 * scale));
      });
    });
  }
});
