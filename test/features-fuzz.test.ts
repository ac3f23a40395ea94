// Mutates feature files (seeded, as the weights reader's fuzz does) and checks that loadFeatures either loads
// them or throws a WeightsFileError naming the file: never another error, never a leaked tensor, never a hang.
// Cases run in child processes that are killed when one hangs.

import { describe, it } from 'vitest';
import type { FeaturesFuzzSummary } from './helpers/features-fuzz-child';
import { expectLoadedOrRejected } from './helpers/fuzz-outcomes';
import { fuzzInChildren } from './helpers/fuzz-runner';

const CHILD = 'test/helpers/features-fuzz-child.ts';

// saveFeatures's file (int32 labels, UTF-8 class names) and h5py's (gzip chunks, one-hot labels, byte strings).
const FILES: [file: string, cases: number][] = [
  ['test/data/features/saved.h5', 400],
  ['test/data/features/h5py.h5', 400],
];

describe('loadFeatures on mutated files', () => {
  it.each(FILES)('%s: %i mutations load or throw WeightsFileError, leaking no tensor', async (file, cases) => {
    const summaries = await fuzzInChildren<FeaturesFuzzSummary>(CHILD, file, cases);
    expectLoadedOrRejected(summaries, cases);
  });
});
