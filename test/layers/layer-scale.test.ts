import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../src/backend';
import { LayerScale, type LayerScaleArgs } from '../../src/layers/layer-scale';

function scaledModel(args: Partial<LayerScaleArgs> = {}): tfl.LayersModel {
  const input = tfl.input({ shape: [2, 3] });
  const layer = new LayerScale({ initValues: 0.5, projectionDim: 3, weight: { name: 'variable_3' }, name: 'layer_scale', ...args });
  return tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
}

async function run(model: tfl.LayersModel): Promise<number[]> {
  const out = model.predict(tf.tensor3d([1, 2, 3, -4, 5, -6], [1, 2, 3])) as tf.Tensor;
  const values = Array.from(await out.data());
  out.dispose();
  return values;
}

describe('LayerScale', () => {
  beforeAll(() => ensureBackend());

  it('multiplies each channel by its gamma, which starts at initValues and carries the given name', async () => {
    const model = scaledModel();
    const layer = model.getLayer('layer_scale');
    expect(layer.getClassName()).toBe('LayerScale');
    expect(layer.weights.map((w) => [w.originalName, w.shape, w.trainable])).toEqual([['layer_scale/variable_3', [3], true]]);
    expect(await run(model)).toEqual([0.5, 1, 1.5, -2, 2.5, -3]);
    layer.setWeights([tf.tensor1d([1, 10, -1])]);
    // x * gamma: [1, 2, 3] * [1, 10, -1], [-4, 5, -6] * [1, 10, -1].
    expect(await run(model)).toEqual([1, 20, -3, -4, 50, 6]);
    model.dispose();
  });

  it("takes the file's value by its weight name", () => {
    const model = scaledModel({ weightInitializers: { variable_3: tfl.initializers.constant({ value: 2 }) } });
    expect(Array.from(model.getLayer('layer_scale').getWeights()[0]!.dataSync())).toEqual([2, 2, 2]);
    model.dispose();
  });

  it('survives a toJSON → modelFromJSON round trip with its settings', async () => {
    const model = scaledModel();
    model.setWeights([tf.tensor1d([1, 10, -1])]);
    const restored = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.serialization.ConfigDict });
    const layer = restored.getLayer('layer_scale') as LayerScale;
    expect(layer).toBeInstanceOf(LayerScale);
    expect([layer.initValues, layer.projectionDim, layer.weightName]).toEqual([0.5, 3, 'variable_3']);
    restored.setWeights(model.getWeights());
    expect(await run(restored)).toEqual([1, 20, -3, -4, 50, 6]);
    model.dispose();
    restored.dispose();
  });
});
