import { describe, expect, it } from 'vitest';
import { efficientNetB0, efficientNetB3, efficientNetB7 } from '../src/applications/efficientnet';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-efficientnet-');

describe("EfficientNet's argument rules", () => {
  it("the top with imagenet weights needs the variant's default size", async () => {
    expect(await argumentError(efficientNetB3({ inputShape: [224, 224, 3] }))).toMatch(/`inputShape` should be \[300,300,3\].*\[224,224,3\]/);
    expect(await argumentError(efficientNetB7({ inputShape: [300, 300, 3] }))).toMatch(/`inputShape` should be \[600,600,3\]/);
  });

  it('inputs are at least 32×32 and have 3 channels with imagenet weights', async () => {
    expect(await argumentError(efficientNetB0({ includeTop: false, inputShape: [31, 64, 3] }))).toMatch(/at least 32x32.*\[31,64,3\]/);
    expect(await argumentError(efficientNetB0({ includeTop: false, inputShape: [64, 64, 1] }))).toMatch(/3 channels.*\[64,64,1\]/);
  });

  it("classes must be 1000 with 'imagenet' and the top", async () => {
    expect(await argumentError(efficientNetB0({ classes: 10 }))).toMatch(/`classes` should be 1000.*classes=10/);
  });

  it('has no options of its own (includePreprocessing is EfficientNetV2 only)', async () => {
    expect(await argumentError(efficientNetB0({ includePreprocessing: false } as never))).toMatch(
      /Unknown option `includePreprocessing` for EfficientNetB0/,
    );
  });

  it('a custom name still asks for the official file, not one named after the model', async () => {
    const failure = efficientNetB0({ name: 'my_model', includeTop: false }).then(() => '', (e: Error) => e.message);
    const message = await failure;
    expect(message).toContain('efficientnetb0_notop.h5');
    expect(message).not.toContain('my_model');
  });
});

describe('EfficientNet builds', () => {
  it('with its Keras name and max pooling at the smallest size', async () => {
    const model = await efficientNetB0({ weights: null, includeTop: false, inputShape: [32, 32, 3], pooling: 'max' });
    expect(model.name).toBe('efficientnetb0');
    expect(model.outputs[0]!.shape).toEqual([null, 1280]);
    expect(model.layers.at(-1)!.name).toBe('max_pool');
    // Without 'imagenet' weights Keras adds no per-channel Rescaling after the Normalization.
    expect(model.layers.slice(1, 4).map((layer) => layer.name)).toEqual(['rescaling', 'normalization', 'stem_conv_pad']);
    model.dispose();
  });
});
