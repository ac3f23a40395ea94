import { describe, expect, it } from 'vitest';
import { inceptionResNetV2 } from '../src/applications/inception-resnet-v2';
import { useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-inception-resnet-v2-');

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
