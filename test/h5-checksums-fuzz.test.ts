// Seeded mutations of files h5py writes with libver='latest' (checksummed metadata): every mutated file h5py
// refuses to read, the weights reader refuses too, with a WeightsFileError (never another error, never a hang).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../src/data/seeded-random';
import { type Mutation, h5pyRefusals, writeChecksummedFiles, writeMutation } from './helpers/h5-checksum-files';
import type { ReaderVerdict } from './helpers/h5-checksums-child';
import { h5pySkipReason } from './helpers/h5py';

const CHILD = 'test/helpers/h5-checksums-child.ts';
const VITE_NODE = 'node_modules/vite-node/vite-node.mjs';
const MUTATIONS_PER_FILE = 250;

/** The reader's verdict on each file, from a child process that is killed if the reader hangs. */
function readerVerdicts(dir: string, paths: string[]): (ReaderVerdict | null)[] {
  const list = join(dir, 'reader-files.json');
  writeFileSync(list, JSON.stringify(paths));
  const run = spawnSync(process.execPath, [VITE_NODE, CHILD], {
    env: { ...process.env, H5_CHECKSUMS_FILES: list },
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    timeout: 120_000,
  });
  const verdicts = run.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as ReaderVerdict | null);
  if (verdicts.length < paths.length) {
    throw new Error(`the reader stopped (${run.signal ?? run.status}) at ${paths[verdicts.length]}: ${run.stderr}`);
  }
  return verdicts;
}

/** Single-byte changes at seeded positions: mostly one flipped bit, else a random byte. */
function mutations(dir: string, original: Uint8Array): Mutation[] {
  return Array.from({ length: MUTATIONS_PER_FILE }, (_, seed) => {
    const random = seededRandom(seed);
    const position = Math.floor(random() * original.length);
    const bytes = original.slice();
    const flip = random() < 0.7;
    bytes[position] = flip ? bytes[position]! ^ (1 << Math.floor(random() * 8)) : Math.floor(random() * 256);
    return writeMutation(dir, bytes, `${seed}.h5`, `seed ${seed}: ${flip ? 'bit flipped' : 'overwritten'} at ${position}`);
  });
}

describe.skipIf(h5pySkipReason !== undefined)(
  `seeded mutations of files h5py writes with libver='latest'${h5pySkipReason ? ` (skipped: ${h5pySkipReason})` : ''}`,
  () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'h5-checksums-fuzz-'));
      writeChecksummedFiles(dir);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    // chunked.h5 is not a Keras file: the reader refuses it as it is, so there a mutation counts as refused when
    // the reader's error changes (the checksums are verified before the layout is read).
    it.each(['dense_attributes.h5', 'dense_links.h5', 'free_space.h5', 'chunked.h5'])(
      `%s: of ${MUTATIONS_PER_FILE} mutations, every one h5py refuses, the reader refuses`,
      (name) => {
        const original = join(dir, name);
        const mutationsDir = join(dir, `mutations-${name}`);
        mkdirSync(mutationsDir);
        const mutated = mutations(mutationsDir, new Uint8Array(readFileSync(original)));
        const refusals = h5pyRefusals(mutated.map((m) => m.path));
        const [clean, ...verdicts] = readerVerdicts(dir, [original, ...mutated.map((m) => m.path)]);
        expect(verdicts.filter((v) => v !== null && v.errorClass !== 'WeightsFileError')).toEqual([]);
        // Messages name the file: compare them without it.
        const cleanMessage = clean?.message.replace(original, '');
        const missed = mutated.flatMap(({ description, path }, i) => {
          const refused = verdicts[i] != null && verdicts[i]!.message.replace(path, '') !== cleanMessage;
          return refusals[i] !== null && !refused ? [`${description}: h5py refuses (${refusals[i]}), the reader does not`] : [];
        });
        expect(missed).toEqual([]);
        // Enough of them reach the metadata for the comparison to mean something.
        expect(refusals.filter((r) => r !== null).length).toBeGreaterThan(MUTATIONS_PER_FILE / 10);
      },
    );
  },
);
