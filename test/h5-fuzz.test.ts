// Mutates weights files (bit flips, overwritten byte runs, truncations; seeded) and checks that the
// reader either returns the file's structure or throws WeightsFileError: never another error, never a
// hang. jsfive is synchronous, so the cases run in child processes that can be killed.

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { FuzzSpec, FuzzSummary } from './helpers/h5-fuzz-child';

const CHILD = 'test/helpers/h5-fuzz-child.ts';
const VITE_NODE = 'node_modules/vite-node/vite-node.mjs';
/** One case taking this long counts as a hang (a clean read of the largest file takes ~30 ms). */
const CASE_LIMIT_MS = 10_000;
/** Child processes at a time: the test machines have two cores. */
const PARALLEL = 2;

const FILES: [file: string, cases: number][] = [
  ['test/fixtures/keras-ref/h5/tiny_legacy.h5', 1000],
  ['test/fixtures/keras-ref/h5/tiny_full_model.h5', 1000],
  ['test/fixtures/keras-ref/h5/tiny.weights.h5', 1000],
  ['test/data/weights/mobilenet_2_5_224_tf_no_top.h5', 400],
];

function rerunCommand(spec: FuzzSpec, seed: number): string {
  return `H5_FUZZ_SPEC='${JSON.stringify({ ...spec, firstSeed: seed, count: 1 })}' node ${VITE_NODE} ${CHILD}`;
}

/** Runs one batch in a child process, killing it when a case runs over CASE_LIMIT_MS. */
function runBatch(spec: FuzzSpec): Promise<FuzzSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITE_NODE, CHILD], {
      env: { ...process.env, H5_FUZZ_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let seed: number | undefined;
    let summary: FuzzSummary | undefined;
    let pending = '';
    let stderr = '';
    const fail = (what: string): void => {
      const where = seed === undefined ? `before its first case` : `in case ${seed}: rerun it with ${rerunCommand(spec, seed)}`;
      reject(new Error(`fuzzing ${spec.file}: ${what} ${where}`));
    };
    const hang = (): void => {
      child.kill('SIGKILL');
      fail(`no progress for ${CASE_LIMIT_MS} ms`);
    };
    // The first case also waits for vite-node to start.
    let timer = setTimeout(hang, 2 * CASE_LIMIT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('@@start ')) {
          seed = Number(line.slice('@@start '.length));
          clearTimeout(timer);
          timer = setTimeout(hang, CASE_LIMIT_MS);
        } else if (line.startsWith('@@summary ')) {
          summary = JSON.parse(line.slice('@@summary '.length)) as FuzzSummary;
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
    child.on('close', (code) => {
      clearTimeout(timer);
      if (summary) resolve(summary);
      else fail(`the child process ended (exit code ${code}, stderr: ${stderr})`);
    });
  });
}

async function fuzz(file: string, cases: number): Promise<FuzzSummary[]> {
  const size = Math.ceil(cases / PARALLEL);
  const batches = Array.from({ length: PARALLEL }, (_, i) => ({
    file,
    firstSeed: i * size,
    count: Math.min(size, cases - i * size),
  }));
  return Promise.all(batches.map(runBatch));
}

describe('weights reader on mutated files', () => {
  it.each(FILES)('%s: %i mutations load unchanged or throw WeightsFileError', async (file, cases) => {
    const summaries = await fuzz(file, cases);
    expect(summaries.flatMap((s) => s.failures)).toEqual([]);
    const loaded = summaries.reduce((n, s) => n + s.loaded, 0);
    const rejected = summaries.reduce((n, s) => n + s.rejected, 0);
    expect(loaded + rejected).toBe(cases);
    // Both outcomes occur, so the mutations do reach the parser and the data.
    expect(loaded).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(cases / 20);
  });
});
