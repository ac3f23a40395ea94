import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../src/backend';
import { HARD_SWISH } from '../../src/layers/hard-swish';

// Keras: hard_swish(x) = x · relu6(x + 3) / 6.
const xs = [-5, -3, -1.5, 0, 1, 2.5, 3, 7];
const expected = xs.map((x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6); // 0, 0, -0.375, 0, 0.667, 2.292, 3, 7

function activationModel(): tfl.LayersModel {
  const x = tfl.input({ shape: [xs.length] });
  const layer = tfl.layers.activation({ activation: HARD_SWISH as never, name: 'activation' });
  return tfl.model({ inputs: x, outputs: layer.apply(x) as tfl.SymbolicTensor });
}

async function check(model: tfl.LayersModel): Promise<void> {
  const out = model.predict(tf.tensor2d([xs])) as tf.Tensor;
  const values = Array.from(await out.data());
  values.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  out.dispose();
}

describe('hard_swish activation', () => {
  beforeAll(() => ensureBackend());

  it('computes x · relu6(x + 3) / 6 in an Activation layer', async () => {
    const model = activationModel();
    expect(model.getLayer('activation').getClassName()).toBe('Activation');
    await check(model);
    model.dispose();
  });

  it("is saved as Keras's 'hard_swish' and read back", async () => {
    const model = activationModel();
    const json = model.toJSON(null, false) as tf.serialization.ConfigDict;
    expect(JSON.stringify(json)).toContain('"activation":"hard_swish"');
    const restored = await tfl.models.modelFromJSON({ modelTopology: json });
    await check(restored);
    model.dispose();
    restored.dispose();
  });
});
