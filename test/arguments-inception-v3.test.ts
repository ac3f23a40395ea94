import { describe, expect, it } from 'vitest';
import { inceptionV3 } from '../src/applications/inception-v3';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-inception-v3-');

describe("InceptionV3's argument rules", () => {
  it('the top with imagenet weights needs 299×299×3', async () => {
    expect(await argumentError(inceptionV3({ inputShape: [224, 224, 3] }))).toMatch(/`inputShape` should be \[299,299,3\].*\[224,224,3\]/);
  });

  it('inputs are at least 75×75', async () => {
    expect(await argumentError(inceptionV3({ includeTop: false, inputShape: [96, 74, 3] }))).toMatch(/at least 75x75.*\[96,74,3\]/);
  });

  it("classes must be 1000 with 'imagenet' and the top; the top needs a static shape", async () => {
    expect(await argumentError(inceptionV3({ classes: 5 }))).toMatch(/`classes` should be 1000.*classes=5/);
    expect(await argumentError(inceptionV3({ weights: null, inputShape: [null, null, 3] }))).toMatch(/static `inputShape`/);
  });
});

describe('InceptionV3 builds', () => {
  it('at the smallest size, with max pooling', async () => {
    const model = await inceptionV3({ weights: null, includeTop: false, inputShape: [75, 75, 3], pooling: 'max' });
    expect(model.name).toBe('inception_v3');
    expect(model.outputs[0]!.shape).toEqual([null, 2048]);
    expect(model.layers.at(-1)!.name).toBe('global_max_pooling2d');
    model.dispose();
  });
});
