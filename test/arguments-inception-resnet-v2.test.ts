import { describe, expect, it } from 'vitest';
import { inceptionResNetV2 } from '../src/applications/inception-resnet-v2';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-inception-resnet-v2-');

describe("InceptionResNetV2's argument rules", () => {
  it('the top with imagenet weights needs 299×299×3', async () => {
    expect(await argumentError(inceptionResNetV2({ inputShape: [300, 299, 3] }))).toMatch(/`inputShape` should be \[299,299,3\].*\[300,299,3\]/);
  });

  it('inputs are at least 75×75 and have 3 channels with imagenet weights', async () => {
    expect(await argumentError(inceptionResNetV2({ includeTop: false, inputShape: [74, 74, 3] }))).toMatch(/at least 75x75.*\[74,74,3\]/);
    expect(await argumentError(inceptionResNetV2({ includeTop: false, inputShape: [75, 75, 1] }))).toMatch(/3 channels.*\[75,75,1\]/);
  });

  it('only softmax or logits with pretrained weights', async () => {
    expect(await argumentError(inceptionResNetV2({ classifierActivation: 'sigmoid' }))).toMatch(/classifierActivation='sigmoid'/);
  });
});

describe('InceptionResNetV2 builds', () => {
  it('at the smallest size, with max pooling and auto-named scale layers', async () => {
    const model = await inceptionResNetV2({ weights: null, includeTop: false, inputShape: [75, 75, 3], pooling: 'max' });
    expect(model.name).toBe('inception_resnet_v2');
    expect(model.outputs[0]!.shape).toEqual([null, 1536]);
    const scaleLayers = model.layers.filter((layer) => layer.getClassName() === 'CustomScaleLayer').map((layer) => layer.name);
    expect(scaleLayers).toHaveLength(40);
    expect(scaleLayers.slice(0, 2)).toEqual(['custom_scale_layer', 'custom_scale_layer_1']);
    model.dispose();
  });
});
