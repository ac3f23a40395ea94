// For argument tests whose call passes every rule and then needs an official file: offline, with an empty cache
// (useOfflineKerasHome), the build ends in a DownloadError that names the file Keras would load.
import { expect } from 'vitest';
import { DownloadError } from '../../src/errors';

/** The message of the DownloadError `build` rejects with (the test fails if it resolves or throws another error). */
export async function downloadError(build: Promise<unknown>): Promise<string> {
  const error = await build.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DownloadError);
  return (error as Error).message;
}
