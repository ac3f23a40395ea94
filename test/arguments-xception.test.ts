import { describe, expect, it } from 'vitest';
import { xception } from '../src/applications/xception';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-xception-');

describe("Xception's argument rules", () => {
  it('has no options of its own', async () => {
    expect(await argumentError(xception({ alpha: 1 } as never))).toMatch(/Unknown option `alpha` for Xception/);
  });
});
