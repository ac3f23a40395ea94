// Shared by the family argument tests (arguments-<family>.test.ts) and the docs tests: a Keras cache with offline
// mode on, so no case can reach the network, and the ArgumentError a failing build gives.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { ArgumentError } from '../../src/errors';

/** KERAS_HOME for the file's tests: empty, or with the files `fill` puts into its `models` folder. */
export function useOfflineKerasHome(prefix: string, fill?: (modelsDir: string) => unknown): void {
  const saved = { ...process.env };
  const home = mkdtempSync(join(tmpdir(), prefix));
  beforeAll(async () => {
    mkdirSync(join(home, 'models'));
    await fill?.(join(home, 'models'));
    process.env.KERAS_HOME = home;
    process.env.KERAS_APPLICATIONS_OFFLINE = '1';
  });
  afterAll(() => {
    process.env = saved;
    rmSync(home, { recursive: true, force: true });
  });
}

/** The message of the ArgumentError `build` rejects with (the test fails if it resolves or throws another error). */
export async function argumentError(build: Promise<unknown>): Promise<string> {
  const error = await build.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ArgumentError);
  return (error as Error).message;
}
