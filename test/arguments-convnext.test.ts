import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { convNeXtTiny, convNeXtXLarge } from '../src/applications/convnext';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-convnext-');

describe("ConvNeXt's argument rules", () => {
  it('with imagenet weights the name must contain the weights variant', async () => {
    expect(await argumentError(convNeXtTiny({ name: 'my_model' }))).toMatch(
      /Model name "my_model" does not match weights variant "convnext_tiny".*name='my_model'/,
    );
    expect(await argumentError(convNeXtXLarge({ name: 'convnext_large' }))).toMatch(/weights variant "convnext_xlarge"/);
  });

  it('a name with the variant in it still asks for the official file, not one named after the model', async () => {
    const message = await convNeXtTiny({ name: 'my_convnext_tiny', includeTop: false }).then(() => '', (e: Error) => e.message);
    expect(message).toContain('convnext_tiny_notop.h5');
    expect(message).not.toContain('my_convnext_tiny');
  });

  it('includePreprocessing must be true or false', async () => {
    expect(await argumentError(convNeXtTiny({ includePreprocessing: 'yes' as never }))).toMatch(/`includePreprocessing`.*includePreprocessing='yes'/);
  });
});

describe('ConvNeXt builds', () => {
  it('names every layer after the model, and without the top normalises the (unpooled) features', async () => {
    const model = await convNeXtTiny({ weights: null, includeTop: false, inputShape: [32, 32, 3], name: 'net' });
    expect(model.layers.slice(1, 3).map((layer) => layer.name)).toEqual(['net_prestem_normalization', 'net_stem']);
    expect(model.layers.at(-1)!.name).toBe('layer_normalization');
    expect(model.outputs[0]!.shape).toEqual([null, 1, 1, 768]);
    model.dispose();
  });

  it("survives tfjs's JSON round trip (grouped Conv2D, LayerScale, PreStem Normalization, nested Sequential)", async () => {
    const model = await convNeXtTiny({ weights: null, includeTop: false, inputShape: [32, 32, 3], pooling: 'avg' });
    const restored = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.serialization.ConfigDict });
    restored.setWeights(model.getWeights());
    const difference = tf.tidy(() => {
      const input = tf.randomUniform([1, 32, 32, 3], 0, 255);
      return tf.max(tf.abs(tf.sub(model.predict(input) as tf.Tensor, restored.predict(input) as tf.Tensor))).dataSync()[0]!;
    });
    expect(difference).toBe(0);
    [model, restored].forEach((m) => m.dispose());
  });

  it('builds on a given input tensor', async () => {
    const inputTensor = tfl.input({ shape: [64, 48, 3], name: 'image' });
    const model = await convNeXtTiny({ weights: null, includeTop: false, inputTensor, pooling: 'avg' });
    expect(model.inputs[0]).toBe(inputTensor);
    expect(model.outputs[0]!.shape).toEqual([null, 768]);
    model.dispose();
  });

  it('leaves out the PreStem normalisation when asked, or when the input does not have 3 channels', async () => {
    for (const options of [{ includePreprocessing: false }, { inputShape: [32, 32, 1] as [number, number, number] }]) {
      const model = await convNeXtTiny({ weights: null, includeTop: false, inputShape: [32, 32, 3], pooling: 'max', ...options });
      expect(model.layers[1]!.name).toBe('convnext_tiny_stem');
      expect(model.layers.slice(-2).map((layer) => layer.name)).toEqual(['global_max_pooling2d', 'layer_normalization']);
      model.dispose();
    }
  });
});
