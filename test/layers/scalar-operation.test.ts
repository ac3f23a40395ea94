import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../src/backend';
import { ArgumentError } from '../../src/errors';
import { ScalarOperation } from '../../src/layers/scalar-operation';

// x + 3 then × (1/6), as MobileNetV3's hard sigmoid writes it around a ReLU6.
function addThenScale(): tfl.LayersModel {
  const x = tfl.input({ shape: [4] });
  const added = new ScalarOperation({ operation: 'add', value: 3, name: 'add' }).apply(x) as tfl.SymbolicTensor;
  const scaled = new ScalarOperation({ operation: 'multiply', value: 1 / 6, name: 'multiply' }).apply(added) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: scaled });
}

async function check(model: tfl.LayersModel): Promise<void> {
  const out = model.predict(tf.tensor2d([[-3, 0, 3, 9]])) as tf.Tensor;
  const values = Array.from(await out.data());
  [0, 0.5, 1, 2].forEach((v, i) => expect(values[i]).toBeCloseTo(v, 6));
  out.dispose();
}

describe('ScalarOperation', () => {
  beforeAll(() => ensureBackend());

  it('adds or multiplies by its constant, with no weights and the input\'s shape', async () => {
    const model = addThenScale();
    expect(model.layers.slice(1).map((l) => [l.name, l.weights.length, l.outputShape])).toEqual([
      ['add', 0, [null, 4]],
      ['multiply', 0, [null, 4]],
    ]);
    await check(model);
    model.dispose();
  });

  it('refuses an unknown operation or a value that is not a number, naming the layer', () => {
    expect(() => new ScalarOperation({ operation: 'subtract' as never, value: 1, name: 'sub' })).toThrow(
      new ArgumentError("ScalarOperation 'sub': `operation` must be 'add' or 'multiply'. Received: operation='subtract'"),
    );
    expect(() => new ScalarOperation({ operation: 'add', value: '3' as never, name: 'add' })).toThrow(
      new ArgumentError("ScalarOperation 'add': `value` must be a number. Received: value='3'"),
    );
  });

  it('survives a toJSON → modelFromJSON round trip', async () => {
    const model = addThenScale();
    const restored = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.serialization.ConfigDict });
    expect(restored.getLayer('multiply')).toBeInstanceOf(ScalarOperation);
    expect(restored.getLayer('multiply').getConfig()).toMatchObject({ operation: 'multiply', value: 1 / 6 });
    await check(restored);
    model.dispose();
    restored.dispose();
  });
});
