import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { isFrozenBatchNormalization } from '../src/layers/batch-normalization';

// Keras's BatchNormalization (keras/src/layers/normalization/batch_normalization.py), written out by hand:
// inference  y = gamma * (x - movingMean) / sqrt(movingVariance + epsilon) + beta
// training   the same with the batch's mean and (biased) variance, and moving = moving * momentum + batch * (1 - momentum)
// Keras takes the training branch only when `training and self.trainable`.
const EPSILON = 1e-3;
const MOMENTUM = 0.9;
const CHANNELS = 3;
const GAMMA = [2, 0.5, 1.5];
const BETA = [0.1, -1, 3];
const MOVING_MEAN = [1, -2, 0.5];
const MOVING_VARIANCE = [4, 0.25, 9];
/** Two 2×2 images with three channels, channels last: value i of the flat array belongs to channel i % 3. */
const INPUT = Array.from({ length: 2 * 2 * 2 * CHANNELS }, (_, i) => ((i * 7) % 11) - 4 + i / 10);

const channelValues = (values: number[], c: number) => values.filter((_, i) => i % CHANNELS === c);
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const variance = (values: number[]) => mean(values.map((v) => (v - mean(values)) ** 2));

function normalize(values: number[], means: number[], variances: number[], gamma = GAMMA, beta = BETA): number[] {
  return values.map((x, i) => {
    const c = i % CHANNELS;
    return (gamma[c]! * (x - means[c]!)) / Math.sqrt(variances[c]! + EPSILON) + beta[c]!;
  });
}
const INFERENCE = normalize(INPUT, MOVING_MEAN, MOVING_VARIANCE);
const BATCH_MEAN = [0, 1, 2].map((c) => mean(channelValues(INPUT, c)));
const BATCH_VARIANCE = [0, 1, 2].map((c) => variance(channelValues(INPUT, c)));

function bnModel(args: { scale?: boolean; center?: boolean } = {}): tfl.LayersModel {
  const input = tfl.input({ shape: [2, 2, CHANNELS] });
  const bn = tfl.layers.batchNormalization({ axis: -1, momentum: MOMENTUM, epsilon: EPSILON, name: 'bn', ...args });
  const model = tfl.model({ inputs: input, outputs: bn.apply(input) as tfl.SymbolicTensor, name: 'bn_model' });
  const values = [args.scale === false ? [] : [GAMMA], args.center === false ? [] : [BETA], [MOVING_MEAN], [MOVING_VARIANCE]].flat();
  bn.setWeights(values.map((v) => tf.tensor1d(v)));
  return model;
}

const input = () => tf.tensor4d(INPUT, [2, 2, 2, CHANNELS]);
const movingStatistics = (model: tfl.LayersModel) =>
  model.getLayer('bn').weights.filter((w) => w.name.includes('moving')).map((w) => Array.from(w.read().dataSync()));

function runTraining(model: tfl.LayersModel): number[] {
  return tf.tidy(() => Array.from((model.apply(input(), { training: true }) as tf.Tensor).dataSync()));
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
}

describe('BatchNormalization follows Keras when frozen', () => {
  beforeAll(() => ensureBackend());

  const freezeWays: [string, (model: tfl.LayersModel) => void][] = [
    ['layer.trainable = false', (model) => (model.getLayer('bn').trainable = false)],
    ["tfjs's model.trainable = false", (model) => (model.trainable = false)],
  ];
  for (const [way, freeze] of freezeWays) {
    it(`${way}: training mode gives the inference output and leaves the moving statistics bit-identical`, () => {
      const model = bnModel();
      freeze(model);
      expect(isFrozenBatchNormalization(model.getLayer('bn'))).toBe(true);
      const before = movingStatistics(model);
      expectClose(runTraining(model), INFERENCE);
      expect(runTraining(model)).toEqual(tf.tidy(() => Array.from((model.predict(input()) as tf.Tensor).dataSync())));
      expect(movingStatistics(model)).toEqual(before);
      model.dispose();
    });
  }

  it("unfrozen, it trains as Keras does: the batch's statistics, moving averages updated with the momentum", () => {
    const model = bnModel();
    expect(isFrozenBatchNormalization(model.getLayer('bn'))).toBe(false);
    expectClose(runTraining(model), normalize(INPUT, BATCH_MEAN, BATCH_VARIANCE));
    const [movingMean, movingVariance] = movingStatistics(model);
    expectClose(movingMean!, MOVING_MEAN.map((m, c) => m * MOMENTUM + BATCH_MEAN[c]! * (1 - MOMENTUM)));
    expectClose(movingVariance!, MOVING_VARIANCE.map((v, c) => v * MOMENTUM + BATCH_VARIANCE[c]! * (1 - MOMENTUM)));
    model.dispose();
  });

  it('freezing through the model is undone by model.trainable = true', () => {
    const model = bnModel();
    model.trainable = false;
    model.trainable = true;
    expect(isFrozenBatchNormalization(model.getLayer('bn'))).toBe(false);
    expect(isFrozenBatchNormalization(tfl.layers.dense({ units: 1 }))).toBe(false);
    model.dispose();
  });

  it('without gamma and beta (scale: false, center: false, as Inception builds it) it trains; tfjs alone throws', () => {
    const model = bnModel({ scale: false, center: false });
    const ones = [1, 1, 1];
    const zeros = [0, 0, 0];
    expectClose(runTraining(model), normalize(INPUT, BATCH_MEAN, BATCH_VARIANCE, ones, zeros));
    const [movingMean, movingVariance] = movingStatistics(model);
    expectClose(movingMean!, MOVING_MEAN.map((m, c) => m * MOMENTUM + BATCH_MEAN[c]! * (1 - MOMENTUM)));
    expectClose(movingVariance!, MOVING_VARIANCE.map((v, c) => v * MOMENTUM + BATCH_VARIANCE[c]! * (1 - MOMENTUM)));
    model.getLayer('bn').trainable = false;
    expectClose(runTraining(model), normalize(INPUT, movingMean!, movingVariance!, ones, zeros));
    model.dispose();
  });

  it('stays frozen after toJSON → modelFromJSON and save → loadLayersModel', async () => {
    const model = bnModel();
    model.trainable = false;
    const topology = model.toJSON(null, false) as tf.serialization.ConfigDict;
    const fromJSON = await tfl.models.modelFromJSON({ modelTopology: topology });
    fromJSON.setWeights(model.getWeights());
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    for (const restored of [fromJSON, loaded]) {
      expect(restored.getLayer('bn').trainable).toBe(false);
      const before = movingStatistics(restored);
      expectClose(runTraining(restored), INFERENCE);
      expect(movingStatistics(restored)).toEqual(before);
      restored.dispose();
    }
    model.dispose();
  });
});
