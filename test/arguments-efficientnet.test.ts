import { describe, expect, it } from 'vitest';
import { efficientNetB0 } from '../src/applications/efficientnet';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-efficientnet-');

describe("EfficientNet's argument rules", () => {
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
