import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { resnet50 } from '../src/index';
import { generatedWeightsFile, fixtureConfig } from './helpers/keras-ref';

// tfjs users hit tensor leaks in predict and dispose (tensorflow/tfjs#6019, #995): ours must not leak.
const notop = fixtureConfig('ResNet50', 'notop_avg_128x160');
const weights = generatedWeightsFile(notop);
const options = { weights, includeTop: false, pooling: 'avg' as const, inputShape: [32, 32, 3] as [number, number, number] };

describe('memory', () => {
  it('1,000 predict calls leave tensors and bytes where they were', async () => {
    const model = await resnet50(options);
    const input = tf.randomUniform([1, 32, 32, 3], 0, 255);
    const warm = model.predict(input) as tf.Tensor;
    warm.dispose();
    const before = tf.memory();
    for (let i = 0; i < 1000; i++) {
      const out = model.predict(input) as tf.Tensor;
      await out.data();
      out.dispose();
      if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    input.dispose();
    model.dispose();
  });

  it('building, loading and disposing 20 models leaves tensors and bytes where they were', async () => {
    const before = tf.memory();
    for (let i = 0; i < 20; i++) {
      const model = await resnet50(options);
      model.dispose();
    }
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });
});
