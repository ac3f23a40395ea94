import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { ArgumentError } from '../src/errors';
import { freeze, unfreeze } from '../src/transfer/freeze';
import { buildTiny } from './helpers/tiny';

// `tiny`: image → conv1 → bn1 → relu1 → dw → sep → gap → head_block (a nested Sequential: fc1, fc2).
const trainableWeightNames = (model: tfl.LayersModel) => model.trainableWeights.map((w) => w.originalName);
/** Every layer, nested ones too, with its own trainable flag. */
function trainableFlags(model: tfl.LayersModel): Record<string, boolean> {
  const flags: Record<string, boolean> = {};
  const visit = (layer: tfl.layers.Layer) => {
    flags[layer.name] = layer.trainable;
    (layer as Partial<tfl.LayersModel>).layers?.forEach(visit);
  };
  model.layers.forEach(visit);
  return flags;
}
const flagsWhere = (model: tfl.LayersModel, trainable: boolean) =>
  Object.entries(trainableFlags(model))
    .filter(([, flag]) => flag === trainable)
    .map(([name]) => name);

describe('freeze / unfreeze', () => {
  beforeAll(() => ensureBackend());

  it('freeze(model) freezes every layer, nested models all the way down; nothing is left to train', () => {
    const model = buildTiny();
    expect(freeze(model)).toBe(model);
    expect(flagsWhere(model, true)).toEqual([]);
    expect(model.trainableWeights).toEqual([]);
    expect(model.trainable).toBe(true);
    unfreeze(model);
    expect(flagsWhere(model, false)).toEqual([]);
    expect(trainableWeightNames(model)).toHaveLength(model.trainableWeights.length);
    expect(trainableWeightNames(model)).toContain('fc2/kernel');
    model.dispose();
  });

  it('freeze up to a layer and unfreeze from one, both ends included', () => {
    const model = buildTiny();
    freeze(model, { upTo: 'relu1' });
    expect(flagsWhere(model, false)).toEqual(['image', 'conv1', 'bn1', 'relu1']);
    expect(trainableWeightNames(model)).not.toContain('conv1/kernel');
    expect(trainableWeightNames(model)).toContain('dw/depthwise_kernel');
    freeze(model);
    unfreeze(model, { from: 'sep' });
    expect(flagsWhere(model, true)).toEqual(['sep', 'gap', 'head_block', 'fc1', 'fc2']);
    freeze(model, { from: 'dw', upTo: 'sep' });
    expect(flagsWhere(model, true)).toEqual(['gap', 'head_block', 'fc1', 'fc2']);
    model.dispose();
  });

  it("turns tfjs's model.trainable = false into frozen layers, so that a range can be unfrozen", () => {
    const model = buildTiny();
    model.trainable = false;
    unfreeze(model, { from: 'gap' });
    expect(model.trainable).toBe(true);
    expect(flagsWhere(model, true)).toEqual(['gap', 'head_block', 'fc1', 'fc2']);
    expect(trainableWeightNames(model)).toEqual(['fc1/kernel', 'fc1/bias', 'fc2/kernel', 'fc2/bias']);
    model.dispose();
  });

  it('keepBatchNormalizationFrozen leaves the BatchNormalization layers of the range frozen', () => {
    const model = buildTiny();
    freeze(model);
    unfreeze(model, { upTo: 'dw', keepBatchNormalizationFrozen: true });
    expect(flagsWhere(model, true)).toEqual(['image', 'conv1', 'relu1', 'dw']);
    model.dispose();
  });

  it('the frozen state survives toJSON → modelFromJSON', async () => {
    const model = buildTiny();
    freeze(model, { upTo: 'sep' });
    const restored = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.serialization.ConfigDict });
    expect(trainableFlags(restored)).toEqual(trainableFlags(model));
    expect(trainableWeightNames(restored)).toEqual(trainableWeightNames(model));
    expect(trainableWeightNames(restored)).toEqual(['fc1/kernel', 'fc1/bias', 'fc2/kernel', 'fc2/bias']);
    model.dispose();
    restored.dispose();
  });

  it('rejects unknown layers, a reversed range and unknown options, naming them', () => {
    const model = buildTiny();
    const before = trainableFlags(model);
    const cases: [() => unknown, RegExp][] = [
      [() => freeze(model, { upTo: 'conv9' }), /`upTo` must be the name of one of the layers of model 'tiny' \(image … head_block\). Received: upTo='conv9'/],
      [() => unfreeze(model, { from: 'fc1' }), /`from` must be the name .*Received: from='fc1'/],
      [() => freeze(model, { from: 'sep', upTo: 'conv1' }), /`from` must not come after `upTo`.*from='sep' \(layer 5\), upTo='conv1' \(layer 1\)/],
      [() => freeze(model, { up_to: 'sep' } as never), /Unknown option `up_to` for freeze. Allowed: from, upTo/],
      [() => freeze(model, { keepBatchNormalizationFrozen: true } as never), /Unknown option `keepBatchNormalizationFrozen`/],
      [() => unfreeze(model, 'sep' as never), /must be an object.*Received: 'sep'/],
      [() => unfreeze(model, { keepBatchNormalizationFrozen: 1 as never }), /`keepBatchNormalizationFrozen` must be true or false. Received: keepBatchNormalizationFrozen=1/],
    ];
    for (const [call, message] of cases) {
      expect(call).toThrow(ArgumentError);
      expect(call).toThrow(message);
    }
    expect(trainableFlags(model)).toEqual(before);
    model.dispose();
  });
});
