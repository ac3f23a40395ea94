import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { augmentedPhotos, type PhotoDataset } from '../examples/photo-dataset';
import { mobilenet } from '../src/applications/mobilenet';
import { preprocessInput } from '../src/applications/registry';
import { ensureBackend } from '../src/backend';
import { freeze, unfreeze } from '../src/transfer/freeze';
import { withNewHead } from '../src/transfer/head';

// The example's flow at a smaller scale: MobileNet α=0.25 with the official Keras weights (no top) on the
// augmented test photos, trained head-only, then with its top blocks.
const WEIGHTS = fileURLToPath(new URL('data/weights/mobilenet_2_5_224_tf_no_top.h5', import.meta.url));
const SIZE = 128;

/** Every weight of the model by its name (BatchNormalization moving statistics included). */
function snapshot(model: tfl.LayersModel): Map<string, Float32Array> {
  return new Map(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
}
function changedWeights(before: Map<string, Float32Array>, model: tfl.LayersModel): string[] {
  const after = snapshot(model);
  return [...before].filter(([name, values]) => !Buffer.from(values.buffer).equals(Buffer.from(after.get(name)!.buffer))).map(([name]) => name);
}

async function fineTuneModel(freezeBase: (base: tfl.LayersModel) => void): Promise<tfl.LayersModel> {
  const base = await mobilenet({ alpha: 0.25, includeTop: false, weights: WEIGHTS, inputShape: [SIZE, SIZE, 3] });
  freezeBase(base);
  const model = withNewHead(base, { classes: 5, seed: 1 });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

describe('fine-tuning MobileNet α=0.25 on the example data', () => {
  let data: PhotoDataset;
  let x: tf.Tensor4D;
  beforeAll(async () => {
    await ensureBackend();
    data = await augmentedPhotos({ perPhoto: 8, size: SIZE, seed: 1 });
    x = preprocessInput(data.images, 'MobileNet') as tf.Tensor4D;
  });
  afterAll(() => tf.dispose([x, data.images, data.labels]));

  for (const [how, freezeBase] of [
    ['freeze(base)', (base: tfl.LayersModel) => freeze(base)],
    ["tfjs's base.trainable = false", (base: tfl.LayersModel) => (base.trainable = false)],
  ] as const) {
    it(`${how}: fit leaves the base bit-identical (moving statistics too), trains the head, and the loss falls`, async () => {
      const model = await fineTuneModel(freezeBase);
      const before = snapshot(model);
      const history = await model.fit(x, data.labels, { batchSize: 20, epochs: 3, shuffle: false, verbose: 0 });
      expect(changedWeights(before, model)).toEqual(['predictions/kernel', 'predictions/bias']);
      const losses = history.history['loss'] as number[];
      expect(losses[2]!).toBeLessThan(losses[0]! * 0.8);
      model.dispose();
    });
  }

  it("a frozen base's output in training mode is its inference output, bit for bit", async () => {
    const model = await fineTuneModel((base) => freeze(base));
    const batch = tf.slice(x, 0, 8);
    const [training, inference] = tf.tidy(() => [model.apply(batch, { training: true }) as tf.Tensor, model.predict(batch) as tf.Tensor]);
    expect(await training!.data()).toEqual(await inference!.data());
    tf.dispose([batch, training, inference]);
    model.dispose();
  });

  it('unfreezing the top blocks trains them and nothing below; keepBatchNormalizationFrozen keeps their statistics', async () => {
    const topBlocks = ['conv_dw_12', 'conv_pw_12', 'conv_dw_13', 'conv_pw_13'];
    for (const keepBatchNormalizationFrozen of [true, false]) {
      const model = await fineTuneModel((base) => freeze(base));
      unfreeze(model, { from: 'conv_dw_12', keepBatchNormalizationFrozen });
      model.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy' });
      const before = snapshot(model);
      await model.fit(x, data.labels, { batchSize: 20, epochs: 1, shuffle: false, verbose: 0 });
      const changed = changedWeights(before, model);
      const kernels = topBlocks.map((block) => `${block}/${block.includes('dw') ? 'depthwise_kernel' : 'kernel'}`);
      const batchNormalization = topBlocks.flatMap((block) => ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((w) => `${block}_bn/${w}`));
      expect(changed.sort()).toEqual([...kernels, ...(keepBatchNormalizationFrozen ? [] : batchNormalization), 'predictions/kernel', 'predictions/bias'].sort());
      model.dispose();
    }
  });
});
