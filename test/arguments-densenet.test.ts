import { describe, expect, it } from 'vitest';
import { densenet121, densenet169, densenet201 } from '../src/applications/densenet';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-densenet-');

describe("DenseNet's argument rules", () => {
  it('the top with imagenet weights needs 224×224×3', async () => {
    expect(await argumentError(densenet169({ inputShape: [256, 256, 3] }))).toMatch(/`inputShape` should be \[224,224,3\].*\[256,256,3\]/);
  });

  it('inputs are at least 32×32 and have 3 channels with imagenet weights', async () => {
    expect(await argumentError(densenet121({ includeTop: false, inputShape: [64, 31, 3] }))).toMatch(/at least 32x32.*\[64,31,3\]/);
    expect(await argumentError(densenet201({ includeTop: false, inputShape: [64, 64, 4] }))).toMatch(/3 channels.*\[64,64,4\]/);
  });

  it("classes must be 1000 with 'imagenet' and the top", async () => {
    expect(await argumentError(densenet121({ classes: 10 }))).toMatch(/`classes` should be 1000.*classes=10/);
  });

  it('has no options of its own', async () => {
    expect(await argumentError(densenet121({ blocks: [1, 1, 1, 1] } as never))).toMatch(/Unknown option `blocks` for DenseNet121/);
  });
});

describe('DenseNet builds', () => {
  it('with its Keras name and max pooling at the smallest size', async () => {
    const model = await densenet121({ weights: null, includeTop: false, inputShape: [32, 32, 3], pooling: 'max' });
    expect(model.name).toBe('densenet121');
    expect(model.outputs[0]!.shape).toEqual([null, 1024]);
    expect(model.layers.at(-1)!.name).toBe('max_pool');
    model.dispose();
  });
});
