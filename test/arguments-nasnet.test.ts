import { describe, expect, it } from 'vitest';
import { nasnet, nasnetLarge, nasnetMobile } from '../src/applications/nasnet';
import { downloadError } from './helpers/download-error';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-nasnet-');

describe("NASNet's argument rules", () => {
  it('imagenet weights need a static input shape, with or without the top', async () => {
    expect(await argumentError(nasnetMobile({ includeTop: false, inputShape: [null, null, 3] }))).toMatch(
      /inputShape argument must be static.*\[null,null,3\]/,
    );
    expect(await argumentError(nasnetLarge({ includeTop: false, inputShape: [331, null, 3] }))).toMatch(/must be static.*\[331,null,3\]/);
  });

  it('penultimateFilters must be a multiple of 24 · filterMultiplier²', async () => {
    expect(await argumentError(nasnet({ weights: null, penultimateFilters: 1000 }))).toMatch(
      /`penultimateFilters` must be a multiple of 24 \* \(`filterMultiplier` \*\* 2\).*penultimateFilters=1000, filterMultiplier=2/,
    );
    expect(await argumentError(nasnet({ weights: null, penultimateFilters: 72, filterMultiplier: 3 }))).toMatch(/penultimateFilters=72, filterMultiplier=3/);
  });

  it('imagenet weights exist only for default sizes 224 and 331', async () => {
    expect(await argumentError(nasnet({ defaultSize: 256, includeTop: false }))).toMatch(
      /can only be loaded with NASNetLarge or NASNetMobile.*defaultSize=256/,
    );
  });

  it('architecture arguments are checked and the builders take none', async () => {
    expect(await argumentError(nasnet({ weights: null, numBlocks: 0 }))).toMatch(/`numBlocks` must be a positive integer.*numBlocks=0/);
    expect(await argumentError(nasnet({ weights: null, skipReduction: 'yes' as never }))).toMatch(/`skipReduction` must be true or false/);
    expect(await argumentError(nasnetMobile({ numBlocks: 2 } as never))).toMatch(/Unknown option `numBlocks` for NASNetMobile/);
  });
});

describe('NASNet official files', () => {
  it("are cached under Keras's local names, which differ from the URL's", async () => {
    expect(await downloadError(nasnetMobile({ includeTop: false }))).toMatch(/nasnet_mobile_no_top\.h5 from \S*\/nasnet\/NASNet-mobile-no-top\.h5/);
    expect(await downloadError(nasnetLarge())).toMatch(/nasnet_large\.h5 from \S*\/nasnet\/NASNet-large\.h5/);
    // Keras picks the files by default size, so NASNet at 224 loads NASNetMobile's.
    expect(await downloadError(nasnet({ defaultSize: 224, penultimateFilters: 1056, numBlocks: 4 }))).toMatch(/nasnet_mobile\.h5 from/);
  });
});

describe('NASNet builds', () => {
  it('NASNetMobile without the top defaults to a 224×224 input', async () => {
    const model = await nasnetMobile({ includeTop: false, weights: null, pooling: 'max' });
    expect(model.name).toBe('nasnet_mobile');
    expect(model.inputs[0]!.shape).toEqual([null, 224, 224, 3]);
    expect(model.outputs[0]!.shape).toEqual([null, 1056]);
    expect(model.layers.at(-1)!.name).toBe('global_max_pooling2d');
    model.dispose();
  });

  it('NASNet with its own architecture arguments', async () => {
    const model = await nasnet({
      weights: null, includeTop: false, inputShape: [64, 64, 3], penultimateFilters: 96, numBlocks: 1, stemBlockFilters: 8, skipReduction: false,
    });
    expect(model.name).toBe('NASNet');
    expect(model.outputs[0]!.shape).toEqual([null, 2, 2, 96]);
    model.dispose();
  });
});
