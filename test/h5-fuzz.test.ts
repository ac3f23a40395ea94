// Mutates weights files (bit flips, overwritten byte runs, truncations; seeded) and checks that the
// reader either returns the file's structure or throws WeightsFileError: never another error, never a
// hang. jsfive is synchronous, so the cases run in child processes that can be killed.

import { describe, it } from 'vitest';
import { expectLoadedOrRejected } from './helpers/fuzz-outcomes';
import { fuzzInChildren } from './helpers/fuzz-runner';
import type { FuzzSummary } from './helpers/h5-fuzz-child';

const CHILD = 'test/helpers/h5-fuzz-child.ts';

const FILES: [file: string, cases: number][] = [
  ['test/fixtures/keras-ref/h5/tiny_legacy.h5', 1000],
  ['test/fixtures/keras-ref/h5/tiny_full_model.h5', 1000],
  ['test/fixtures/keras-ref/h5/tiny.weights.h5', 1000],
  ['test/data/weights/mobilenet_2_5_224_tf_no_top.h5', 400],
];

describe('weights reader on mutated files', () => {
  it.each(FILES)('%s: %i mutations load unchanged or throw WeightsFileError', async (file, cases) => {
    const summaries = await fuzzInChildren<FuzzSummary>(CHILD, file, cases);
    expectLoadedOrRejected(summaries, cases);
  });
});
