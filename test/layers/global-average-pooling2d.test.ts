import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../src/backend';
import { GlobalAveragePooling2D } from '../../src/layers/global-average-pooling2d';

// A 2×2 map with two channels: channel 0 = 1, 2, 3, 4 (mean 2.5), channel 1 = 10, 20, 30, 60 (mean 30).
const input = () => tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 60], [1, 2, 2, 2]);

function poolModel(keepdims?: boolean): tfl.LayersModel {
  const x = tfl.input({ shape: [2, 2, 2] });
  const layer = new GlobalAveragePooling2D({ keepdims, name: 'pool' });
  return tfl.model({ inputs: x, outputs: layer.apply(x) as tfl.SymbolicTensor });
}

async function check(model: tfl.LayersModel, shape: number[]): Promise<void> {
  const out = model.predict(input()) as tf.Tensor;
  expect(out.shape).toEqual(shape);
  expect(Array.from(await out.data())).toEqual([2.5, 30]);
  out.dispose();
}

describe('GlobalAveragePooling2D with keepdims', () => {
  beforeAll(() => ensureBackend());

  it('keeps the map 4-D with keepdims, as Keras', async () => {
    const model = poolModel(true);
    expect(model.getLayer('pool').getClassName()).toBe('GlobalAveragePooling2D');
    expect(model.getLayer('pool').outputShape).toEqual([null, 1, 1, 2]);
    await check(model, [1, 1, 1, 2]);
    model.dispose();
  });

  it('pools to 2-D without it, as tfjs', async () => {
    const model = poolModel();
    expect(model.getLayer('pool').outputShape).toEqual([null, 2]);
    await check(model, [1, 2]);
    model.dispose();
  });

  it('survives a toJSON → modelFromJSON round trip with keepdims', async () => {
    const model = poolModel(true);
    const restored = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.serialization.ConfigDict });
    const layer = restored.getLayer('pool');
    expect(layer).toBeInstanceOf(GlobalAveragePooling2D);
    expect(layer.getConfig().keepdims).toBe(true);
    await check(restored, [1, 1, 1, 2]);
    model.dispose();
    restored.dispose();
  });
});
