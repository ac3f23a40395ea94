import { describe, expect, it } from 'vitest';
import { densenet121 } from '../src/applications/densenet';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-densenet-');

describe("DenseNet's argument rules", () => {
  it('has no options of its own', async () => {
    expect(await argumentError(densenet121({ blocks: [1, 1, 1, 1] } as never))).toMatch(/Unknown option `blocks` for DenseNet121/);
  });
});
