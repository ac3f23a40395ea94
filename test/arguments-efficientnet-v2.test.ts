import { describe, expect, it } from 'vitest';
import { efficientNetV2B0, efficientNetV2S } from '../src/applications/efficientnet-v2';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-efficientnet-v2-');

describe("EfficientNetV2's argument rules", () => {
  it('includePreprocessing must be true or false', async () => {
    expect(await argumentError(efficientNetV2B0({ includePreprocessing: 1 as never }))).toMatch(/`includePreprocessing`.*includePreprocessing=1/);
  });

  it('a custom name still asks for the official file, not one named after the model', async () => {
    const message = await efficientNetV2S({ name: 'my_model', includeTop: false }).then(() => '', (e: Error) => e.message);
    expect(message).toContain('efficientnetv2-s_notop.h5');
    expect(message).not.toContain('my_model');
  });
});

describe('EfficientNetV2 builds', () => {
  const layerNames = (model: { layers: { name: string; getClassName(): string }[] }) =>
    model.layers.slice(0, 4).map((layer) => `${layer.name}:${layer.getClassName()}`);

  it('B variants normalise with ImageNet statistics, S/M/L rescale to [-1, 1], whatever the name', async () => {
    const b0 = await efficientNetV2B0({ weights: null, includeTop: false, inputShape: [32, 32, 3], name: 'efficientnetv2-s' });
    expect(layerNames(b0)).toEqual(['input_layer:InputLayer', 'rescaling:Rescaling', 'normalization:Normalization', 'stem_conv:Conv2D']);
    const s = await efficientNetV2S({ weights: null, includeTop: false, inputShape: [32, 32, 3], name: 'custom' });
    expect(layerNames(s)).toEqual(['input_layer:InputLayer', 'rescaling:Rescaling', 'stem_conv:Conv2D', 'stem_bn:BatchNormalization']);
    expect(s.getLayer('rescaling').getConfig()).toMatchObject({ scale: 1 / 128, offset: -1 });
    [b0, s].forEach((model) => model.dispose());
  });

  it('without preprocessing starts at the stem; a B variant on 1-channel input only rescales to [-1, 1]', async () => {
    const plain = await efficientNetV2B0({ weights: null, includeTop: false, inputShape: [32, 32, 3], includePreprocessing: false });
    expect(layerNames(plain)[1]).toBe('stem_conv:Conv2D');
    const gray = await efficientNetV2B0({ weights: null, includeTop: false, inputShape: [32, 32, 1], pooling: 'max' });
    expect(layerNames(gray).slice(1, 3)).toEqual(['rescaling:Rescaling', 'stem_conv:Conv2D']);
    expect(gray.layers.at(-1)!.name).toBe('max_pool');
    [plain, gray].forEach((model) => model.dispose());
  });
});
