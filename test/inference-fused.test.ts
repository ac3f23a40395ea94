import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { type FusionSummary, fusedPredictor } from '../src/inference/fused';
import { buildFixtureModel, describeEngineReference } from './helpers/engine-ref-suite';
import { fixtureConfig, type FixtureConfig } from './helpers/keras-ref';

// The tfjs-fused engine (BatchNormalization folded, fused conv + bias + activation, Dropout skipped) against
// Keras's fixture outputs, one config per family.
describeEngineReference('tfjs-fused', (model) => fusedPredictor(model));
// The benchmarked models (docs/performance.md): their other configs too.
describeEngineReference('tfjs-fused (benchmarked models)', (model) => fusedPredictor(model), [
  ['VGG16', 'top_default'],
  ['ResNet50', 'notop_avg_128x160'],
  ['MobileNetV2', 'top_default'],
  ['MobileNetV2', 'alpha0.5_top_160x160'],
  ['MobileNetV2', 'alpha0.75_notop_avg_192x192'],
  ['EfficientNetB0', 'notop_avg_128x160'],
]);

/** A layer that fails whenever it runs. */
class Broken extends tfl.layers.Layer {
  static className = 'Broken';
  override call(): tf.Tensor {
    throw new Error('broken layer');
  }
}

/** How many layers of a class Keras's layer table lists. */
function kerasCount(config: FixtureConfig, className: string): number {
  return config.structure.layers.filter((layer) => layer[1] === className).length;
}

/** What the fused engine did to a fixture config's model; the predictor and the model are freed. */
async function fusionOf(builder: string, id: string): Promise<{ config: FixtureConfig; summary: FusionSummary }> {
  const config = fixtureConfig(builder, id);
  const model = await buildFixtureModel(builder, config);
  try {
    const predictor = fusedPredictor(model);
    predictor.dispose();
    return { config, summary: predictor.summary };
  } finally {
    model.dispose();
  }
}

describe('tfjs-fused rewriting', () => {
  it('folds every BatchNormalization of ResNet50 into its convolution, runs every Conv2D and Dense fused and every Add as tf.add', async () => {
    const { config, summary } = await fusionOf('ResNet50', 'top_default');
    expect(summary.foldedBatchNorms).toBe(kerasCount(config, 'BatchNormalization'));
    expect(summary.fusedKernels).toBe(kerasCount(config, 'Conv2D') + kerasCount(config, 'Dense'));
    expect(summary.fusedAdds).toBe(kerasCount(config, 'Add'));
  });

  it("folds every BatchNormalization of Xception, most after a SeparableConv2D", async () => {
    const { config, summary } = await fusionOf('Xception', 'notop_avg_160x192');
    expect(summary.foldedBatchNorms).toBe(kerasCount(config, 'BatchNormalization'));
    expect(summary.fusedKernels).toBe(kerasCount(config, 'Conv2D') + kerasCount(config, 'SeparableConv2D'));
  });

  it("skips MobileNet's Dropout and merges MobileNetV2's ReLU(6) into the convolutions", async () => {
    const v1 = await fusionOf('MobileNet', 'alpha0.5_top_160x160');
    const v2 = await fusionOf('MobileNetV2', 'notop_avg_128x160');
    expect(v1.summary.skippedDropouts).toBe(kerasCount(v1.config, 'Dropout'));
    expect(v2.summary.fusedActivations).toBe(kerasCount(v2.config, 'ReLU'));
  });

  it('frees every intermediate tensor and, on dispose, the folded weights', async () => {
    const config = fixtureConfig('MobileNetV2', 'notop_avg_128x160');
    const model = await buildFixtureModel('MobileNetV2', config);
    const before = tf.memory().numTensors;
    const predictor = fusedPredictor(model);
    const input = tf.ones([1, 128, 160, 3]);
    const afterCompile = tf.memory().numTensors;
    const output = (await predictor.predict(input)) as tf.Tensor;
    expect(tf.memory().numTensors).toBe(afterCompile + 1);
    output.dispose();
    input.dispose();
    predictor.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('tfjs-fused on small hand-made models', () => {
  beforeAll(() => ensureBackend());
  it('runs Add(x, x) and frees x once (4 = 2 + 2 by hand)', async () => {
    const input = tfl.input({ shape: [2] });
    const dense = tfl.layers.dense({ units: 1, kernelInitializer: 'ones', useBias: false }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.add().apply([dense, dense]) as tfl.SymbolicTensor });
    const predictor = fusedPredictor(model);
    const x = tf.ones([1, 2]);
    const before = tf.memory().numTensors;
    const y = (await predictor.predict(x)) as tf.Tensor;
    expect(Array.from(await y.data())).toEqual([4]);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, y]);
    predictor.dispose();
    model.dispose();
  });
  it('rejects, freeing what it computed, when a layer fails on the input', async () => {
    const input = tfl.input({ shape: [4, 4, 1] });
    const conv = tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: new Broken({}).apply(conv) as tfl.SymbolicTensor });
    const predictor = fusedPredictor(model);
    const x = tf.ones([1, 4, 4, 1]);
    const before = tf.memory().numTensors;
    // A rejected promise, as the Predictor interface promises, not an exception thrown by the call; the
    // layer's own error, as a bug in it is no fault of the input.
    const rejected = predictor.predict(x).then(() => 'resolved', (error: unknown) => error);
    expect(await rejected).toEqual(new Error('broken layer'));
    expect(tf.memory().numTensors).toBe(before);
    predictor.dispose();
    x.dispose();
    model.dispose();
  });
});
