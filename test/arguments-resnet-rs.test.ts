import { describe, expect, it } from 'vitest';
import { resnetRS101, resnetRS152, resnetRS50, RESNET_RS_WEIGHT_VARIANTS } from '../src/applications/resnet-rs';
import { downloadError } from './helpers/download-error';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-resnet-rs-');

describe("ResNetRS's argument rules", () => {
  it("weights are null, a file, 'imagenet' or one of the builder's 'imagenet-i<size>'", async () => {
    expect(RESNET_RS_WEIGHT_VARIANTS.ResNetRS152).toEqual(['imagenet-i192', 'imagenet-i224', 'imagenet-i256']);
    expect(await argumentError(resnetRS50({ weights: 'imagenet-i224' }))).toMatch(
      /For ResNetRS50 the following weight variants are available: 'imagenet-i160'.*weights='imagenet-i224'/,
    );
  });

  it("'imagenet' is the largest training size, the others by name", async () => {
    expect(await downloadError(resnetRS152({ includeTop: false }))).toContain('resnet-rs-152-i256_notop.h5');
    expect(await downloadError(resnetRS152({ weights: 'imagenet-i192' }))).toContain('resnet-rs-152-i192.h5');
  });

  it("classes must be 1000 with any 'imagenet' weights and the top", async () => {
    expect(await argumentError(resnetRS101({ weights: 'imagenet-i160', classes: 10 }))).toMatch(/`classes` should be 1000.*classes=10/);
  });

  it('official weights take any input size of at least 32×32, as a weights file does', async () => {
    expect(await downloadError(resnetRS50({ inputShape: [160, 160, 3] }))).toContain('resnet-rs-50-i160.h5');
    expect(await argumentError(resnetRS50({ includeTop: false, inputShape: [31, 64, 3] }))).toMatch(/at least 32x32.*\[31,64,3\]/);
  });

  it('includePreprocessing is a boolean, and there are no other options of its own', async () => {
    expect(await argumentError(resnetRS50({ includePreprocessing: 1 as never }))).toMatch(/`includePreprocessing` must be true or false.*=1/);
    expect(await argumentError(resnetRS50({ dropoutRate: 0.1 } as never))).toMatch(/Unknown option `dropoutRate` for ResNetRS50/);
  });
});

describe('ResNetRS builds', () => {
  it('without preprocessing, with its Keras name and max pooling at the smallest size', async () => {
    const model = await resnetRS50({ weights: null, includeTop: false, includePreprocessing: false, inputShape: [32, 32, 3], pooling: 'max' });
    expect(model.name).toBe('resnet-rs-50');
    expect(model.layers[1]!.name).toBe('zero_padding2d');
    expect(model.layers.at(-1)!.name).toBe('max_pool');
    expect(model.outputs[0]!.shape).toEqual([null, 2048]);
    model.dispose();
  });
});
