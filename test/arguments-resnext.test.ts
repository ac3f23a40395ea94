import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { resnext101, resnext50 } from '../src/applications/resnext';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-resnext-');

describe("ResNeXt's argument rules", () => {
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
