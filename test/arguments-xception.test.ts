import { describe, expect, it } from 'vitest';
import { xception } from '../src/applications/xception';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-xception-');

describe("Xception's argument rules", () => {
  it('the top with imagenet weights needs 299×299×3', async () => {
    expect(await argumentError(xception({ inputShape: [224, 224, 3] }))).toMatch(/`inputShape` should be \[299,299,3\].*\[224,224,3\]/);
  });

  it('inputs are at least 71×71', async () => {
    expect(await argumentError(xception({ includeTop: false, inputShape: [70, 96, 3] }))).toMatch(/at least 71x71.*\[70,96,3\]/);
  });

  it('has no options of its own', async () => {
    expect(await argumentError(xception({ alpha: 1 } as never))).toMatch(/Unknown option `alpha` for Xception/);
  });
});

describe('Xception builds', () => {
  it('at the smallest size, with max pooling', async () => {
    const model = await xception({ weights: null, includeTop: false, inputShape: [71, 71, 3], pooling: 'max' });
    expect(model.name).toBe('xception');
    expect(model.outputs[0]!.shape).toEqual([null, 2048]);
    expect(model.layers.at(-1)!.name).toBe('global_max_pooling2d');
    model.dispose();
  });
});
