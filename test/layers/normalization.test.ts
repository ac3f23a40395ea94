import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../src/backend';
import { ArgumentError } from '../../src/errors';
import { Normalization, type NormalizationArgs } from '../../src/layers/normalization';

function normalizationModel(args: NormalizationArgs): tfl.LayersModel {
  const input = tfl.input({ shape: [2, 3] });
  return tfl.model({ inputs: input, outputs: new Normalization({ name: 'normalization', ...args }).apply(input) as tfl.SymbolicTensor });
}

async function run(model: tfl.LayersModel, values: number[]): Promise<number[]> {
  const out = model.predict(tf.tensor3d(values, [1, 2, 3])) as tf.Tensor;
  const result = Array.from(await out.data());
  out.dispose();
  return result;
}

// Keras: (x - mean) / max(sqrt(variance), 1e-7) per feature of the last axis.
// mean [1, 2, 0], variance [4, 0.25, 0] → divide by [2, 0.5, 1e-7].
const INPUT = [5, 3, 1e-6, -1, 2, 0];
const EXPECTED = [2, 2, 10, -1, 0, 0];

describe('Normalization', () => {
  beforeAll(() => ensureBackend());

  it("with constant statistics: Keras's formula, epsilon included, and no weights", async () => {
    const model = normalizationModel({ mean: [1, 2, 0], variance: [4, 0.25, 0] });
    expect(model.getLayer('normalization').getClassName()).toBe('Normalization');
    expect(model.countParams()).toBe(0);
    (await run(model, INPUT)).forEach((v, i) => expect(v).toBeCloseTo(EXPECTED[i]!, 5));
    model.dispose();
  });

  it('without them: non-trainable weights mean, variance, count (identity until set), from the file when given', async () => {
    const model = normalizationModel({});
    const layer = model.getLayer('normalization');
    expect(layer.weights.map((w) => [w.originalName, w.shape, w.trainable])).toEqual([
      ['normalization/mean', [3], false],
      ['normalization/variance', [3], false],
      ['normalization/count', [], false],
    ]);
    expect(model.countParams()).toBe(7);
    expect(await run(model, INPUT)).toEqual(INPUT.map(Math.fround));
    layer.setWeights([tf.tensor1d([1, 2, 0]), tf.tensor1d([4, 0.25, 0]), tf.scalar(12)]);
    (await run(model, INPUT)).forEach((v, i) => expect(v).toBeCloseTo(EXPECTED[i]!, 5));
    model.dispose();

    const fromFile = normalizationModel({ weightInitializers: { mean: tfl.initializers.constant({ value: 1 }) } });
    expect(Array.from(fromFile.getLayer('normalization').getWeights()[0]!.dataSync())).toEqual([1, 1, 1]);
    fromFile.dispose();
  });

  it('survives a toJSON → modelFromJSON round trip in both forms', async () => {
    for (const args of [{ mean: [1, 2, 0], variance: [4, 0.25, 0] }, {}]) {
      const model = normalizationModel({ axis: -1, ...args });
      if (!args.mean) model.getLayer('normalization').setWeights([tf.tensor1d([1, 2, 0]), tf.tensor1d([4, 0.25, 0]), tf.scalar(0)]);
      const restored = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.serialization.ConfigDict });
      expect(restored.getLayer('normalization')).toBeInstanceOf(Normalization);
      restored.setWeights(model.getWeights());
      (await run(restored, INPUT)).forEach((v, i) => expect(v).toBeCloseTo(EXPECTED[i]!, 5));
      model.dispose();
      restored.dispose();
    }
  });

  it('needs both constants or neither, of one length', () => {
    expect(() => new Normalization({ mean: [1], name: 'norm' })).toThrow(
      new ArgumentError(
        "Normalization 'norm': when setting values directly, both `mean` and `variance` must be set. Received: mean=[1] and variance=undefined",
      ),
    );
    expect(() => new Normalization({ mean: [1, 2], variance: [1], name: 'norm' })).toThrow(
      new ArgumentError("Normalization 'norm': `mean` and `variance` must have the same length. Received: 2 and 1"),
    );
  });

  it('refuses constants that do not match the features, and an axis of unknown size', () => {
    expect(() => normalizationModel({ mean: [0, 0], variance: [1, 1] })).toThrow(
      new ArgumentError(
        "Normalization 'normalization': `mean` and `variance` must have one value per feature along axis -1 (3). Received: 2 values for input shape [null,2,3]",
      ),
    );
    expect(() => normalizationModel({ axis: 0 })).toThrow(
      new ArgumentError("Normalization 'normalization': the input needs a known size along axis 0. Received input shape [null,2,3]"),
    );
    expect(() => new Normalization({ axis: 1.5 })).toThrow(ArgumentError);
  });
});
