import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../src/backend';
import { CustomScaleLayer } from '../../src/layers/custom-scale-layer';

function scaledResidualModel(scale: number): tfl.LayersModel {
  const shortcut = tfl.input({ shape: [2, 2, 1], name: 'shortcut' });
  const residual = tfl.input({ shape: [2, 2, 1], name: 'residual' });
  const output = new CustomScaleLayer({ scale, name: 'custom_scale_layer' }).apply([shortcut, residual]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [shortcut, residual], outputs: output });
}

describe('CustomScaleLayer', () => {
  beforeAll(() => ensureBackend());
  // Made inside each test, once the backend is ready.
  const inputs = () => [tf.tensor4d([1, -2, 3, 0.5], [1, 2, 2, 1]), tf.tensor4d([10, 4, -6, 0], [1, 2, 2, 1])];
  // Keras: inputs[0] + inputs[1] * scale, with scale 0.17 → [2.7, -1.32, 1.98, 0.5].
  const expected = [1 + 10 * 0.17, -2 + 4 * 0.17, 3 - 6 * 0.17, 0.5];

  it('adds the scaled residual to the shortcut, keeping the shape, with no weights', async () => {
    const model = scaledResidualModel(0.17);
    const layer = model.getLayer('custom_scale_layer');
    expect(layer.getClassName()).toBe('CustomScaleLayer');
    expect(layer.weights).toHaveLength(0);
    expect(layer.outputShape).toEqual([null, 2, 2, 1]);
    const out = model.predict(inputs()) as tf.Tensor;
    const values = Array.from(await out.data());
    values.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    out.dispose();
    model.dispose();
  });

  it('survives a toJSON → modelFromJSON round trip with its scale', async () => {
    const model = scaledResidualModel(0.17);
    const json = model.toJSON(null, false) as tf.serialization.ConfigDict;
    const restored = await tfl.models.modelFromJSON({ modelTopology: json });
    const layer = restored.getLayer('custom_scale_layer') as CustomScaleLayer;
    expect(layer).toBeInstanceOf(CustomScaleLayer);
    expect(layer.getConfig().scale).toBe(0.17);
    const out = restored.predict(inputs()) as tf.Tensor;
    const values = Array.from(await out.data());
    values.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    out.dispose();
    model.dispose();
    restored.dispose();
  });
});
