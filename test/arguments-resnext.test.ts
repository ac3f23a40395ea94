import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { resnext101, resnext50 } from '../src/applications/resnext';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-resnext-');

describe("ResNeXt's argument rules", () => {
  it('the top with imagenet weights needs 224×224×3', async () => {
    expect(await argumentError(resnext50({ inputShape: [256, 256, 3] }))).toMatch(/`inputShape` should be \[224,224,3\].*\[256,256,3\]/);
  });

  it('inputs are at least 32×32 and have 3 channels with imagenet weights', async () => {
    expect(await argumentError(resnext101({ includeTop: false, inputShape: [31, 64, 3] }))).toMatch(/at least 32x32.*\[31,64,3\]/);
    expect(await argumentError(resnext101({ includeTop: false, inputShape: [64, 64, 4] }))).toMatch(/3 channels.*\[64,64,4\]/);
  });

  it("classes must be 1000 with 'imagenet' and the top", async () => {
    expect(await argumentError(resnext50({ classes: 10 }))).toMatch(/`classes` should be 1000.*classes=10/);
  });

  it('takes no classifierActivation: its top is always softmax', async () => {
    expect(await argumentError(resnext50({ classifierActivation: null } as never))).toMatch(
      /ResNeXt50 has no `classifierActivation` argument.*classifierActivation=null/,
    );
  });

  it('needs a static input size (its reshapes do)', async () => {
    expect(await argumentError(resnext50({ includeTop: false, weights: null }))).toMatch(/static input size.*inputShape=null/);
    expect(await argumentError(resnext50({ includeTop: false, weights: null, inputShape: [null, 64, 3] }))).toMatch(/\[null,64,3\]/);
    const inputTensor = tfl.input({ shape: [null, null, 3] });
    expect(await argumentError(resnext101({ includeTop: false, weights: null, inputTensor }))).toMatch(/static input size/);
  });

  it('asks for the official file of keras_applications 1.0.8', async () => {
    const message = await resnext50({ includeTop: false, inputShape: [224, 224, 3] }).then(() => '', (e: Error) => e.message);
    expect(message).toContain('resnext50_weights_tf_dim_ordering_tf_kernels_notop.h5');
  });
});

describe('ResNeXt builds', () => {
  it('with its Keras name and max pooling at the smallest size', async () => {
    const model = await resnext50({ weights: null, includeTop: false, inputShape: [32, 32, 3], pooling: 'max' });
    expect(model.name).toBe('resnext50');
    expect(model.outputs[0]!.shape).toEqual([null, 2048]);
    expect(model.layers.at(-1)!.name).toBe('max_pool');
    model.dispose();
  });
});
