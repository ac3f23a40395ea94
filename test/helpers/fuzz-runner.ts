// Runs seeded fuzz cases in child processes (vite-node): the HDF5 readers are synchronous, so only a separate
// process can be stopped when a case hangs. A child script reads its batch from H5_FUZZ_SPEC, prints
// `@@start <seed>` before each case and one `@@summary <json>` at the end.
import { spawn } from 'node:child_process';

export interface FuzzSpec {
  file: string;
  firstSeed: number;
  count: number;
}

const VITE_NODE = 'node_modules/vite-node/vite-node.mjs';
/** One case taking this long counts as a hang (a clean read of the largest file takes ~30 ms). */
const CASE_LIMIT_MS = 10_000;
/** Child processes at a time: the test machines have two cores. */
const PARALLEL = 2;

function rerunCommand(script: string, spec: FuzzSpec, seed: number): string {
  return `H5_FUZZ_SPEC='${JSON.stringify({ ...spec, firstSeed: seed, count: 1 })}' node ${VITE_NODE} ${script}`;
}

/** Runs one batch in a child process, killing it when a case runs over CASE_LIMIT_MS. */
function runBatch<Summary>(script: string, spec: FuzzSpec): Promise<Summary> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITE_NODE, script], {
      env: { ...process.env, H5_FUZZ_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let seed: number | undefined;
    let summary: Summary | undefined;
    let pending = '';
    let stderr = '';
    const fail = (what: string): void => {
      const where = seed === undefined ? `before its first case` : `in case ${seed}: rerun it with ${rerunCommand(script, spec, seed)}`;
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
          summary = JSON.parse(line.slice('@@summary '.length)) as Summary;
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

/** Runs `cases` cases (seeds 0, 1, …) of the child script `script` on `file`, split over PARALLEL processes. */
export function fuzzInChildren<Summary>(script: string, file: string, cases: number): Promise<Summary[]> {
  const size = Math.ceil(cases / PARALLEL);
  const batches = Array.from({ length: PARALLEL }, (_, i) => ({
    file,
    firstSeed: i * size,
    count: Math.min(size, cases - i * size),
  }));
  return Promise.all(batches.map((spec) => runBatch<Summary>(script, spec)));
}

/** In a child script: runs `runBatch` on the spec in H5_FUZZ_SPEC, if set, speaking the protocol above. */
export async function runChild<Summary>(runBatch: (spec: FuzzSpec, onStart: (seed: number) => void) => Summary | Promise<Summary>): Promise<void> {
  const specText = process.env.H5_FUZZ_SPEC;
  if (!specText) return;
  const { writeSync } = await import('node:fs');
  // jsfive warns about some attribute types it cannot decode: thousands of lines for mutated files.
  console.warn = () => {};
  const line = (text: string): void => void writeSync(1, `${text}\n`);
  const summary = await runBatch(JSON.parse(specText) as FuzzSpec, (seed) => line(`@@start ${seed}`));
  line(`@@summary ${JSON.stringify(summary)}`);
}
