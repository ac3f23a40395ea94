// Shared by the family argument tests (arguments-<family>.test.ts): an empty Keras cache with offline
// mode on, so no case can reach the network, and the ArgumentError a failing build gives.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { ArgumentError } from '../../src/errors';

export function useOfflineKerasHome(prefix: string): void {
  const saved = { ...process.env };
  beforeAll(() => {
    process.env.KERAS_HOME = mkdtempSync(join(tmpdir(), prefix));
    process.env.KERAS_APPLICATIONS_OFFLINE = '1';
  });
  afterAll(() => {
    process.env = saved;
  });
}

/** The message of the ArgumentError `build` rejects with (the test fails if it resolves or throws another error). */
export async function argumentError(build: Promise<unknown>): Promise<string> {
  const error = await build.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ArgumentError);
  return (error as Error).message;
}
