// One batch of loadFeatures fuzz cases, run by test/features-fuzz.test.ts in a child process (vite-node), which
// is killed when a case hangs. Rerun one case with
//
//   H5_FUZZ_SPEC='{"file": "...", "firstSeed": <seed>, "count": 1}' \
//     node node_modules/vite-node/vite-node.mjs test/helpers/features-fuzz-child.ts

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { WeightsFileError } from '../../src/errors';
import { loadFeatures, type BottleneckFeatures } from '../../src/transfer/bottleneck';
import { type FuzzSpec, runChild } from './fuzz-runner';
import { mutate } from './h5-mutate';

export interface FeaturesFuzzSummary {
  loaded: number;
  rejected: number;
  /** Cases that threw anything but a WeightsFileError naming the file, leaked tensors, or changed the structure. */
  failures: { seed: number; mutation: string; problem: string }[];
}

/** What a mutation of the values alone must not change: dtypes, shapes and class names. */
function structure({ features, labels, classNames }: BottleneckFeatures): string {
  const describe = (tensor: tf.Tensor | null) => (tensor ? `${tensor.dtype}[${tensor.shape.join(',')}]` : 'none');
  return `features ${describe(features)}, labels ${describe(labels)}, class names ${JSON.stringify(classNames)}`;
}

/** Where the datasets' values lie in the file (found by their bytes; compressed chunks are not found). */
function valueRanges(original: Uint8Array, clean: BottleneckFeatures): [number, number][] {
  const file = Buffer.from(original.buffer, original.byteOffset, original.byteLength);
  return [clean.features, clean.labels].flatMap((tensor) => {
    if (tensor === null) return [];
    const values = tensor.dataSync();
    const at = file.indexOf(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    return at < 0 ? [] : [[at, at + values.byteLength] as [number, number]];
  });
}

async function runBatch(spec: FuzzSpec, onStart: (seed: number) => void): Promise<FeaturesFuzzSummary> {
  await tf.setBackend('cpu');
  const original = new Uint8Array(readFileSync(spec.file));
  const clean = await loadFeatures(spec.file);
  const expected = structure(clean);
  const values = valueRanges(original, clean);
  tf.dispose([clean.features, clean.labels ?? []]);
  const metadata = Uint32Array.from(original.keys()).filter((i) => !values.some(([start, end]) => i >= start && i < end));
  const dir = mkdtempSync(join(tmpdir(), 'features-fuzz-'));
  const path = join(dir, 'mutated.h5');
  const summary: FeaturesFuzzSummary = { loaded: 0, rejected: 0, failures: [] };
  for (let seed = spec.firstSeed; seed < spec.firstSeed + spec.count; seed++) {
    const mutation = mutate(original, metadata, seed);
    const fail = (problem: string): void => void summary.failures.push({ seed, mutation: mutation.description, problem });
    writeFileSync(path, mutation.bytes);
    onStart(seed);
    const tensorsBefore = tf.memory().numTensors;
    try {
      const loaded = await loadFeatures(path);
      summary.loaded++;
      const valuesOnly = mutation.changed.every(([from, to]) => values.some(([start, end]) => from >= start && to <= end));
      if (valuesOnly && structure(loaded) !== expected) fail(`changed values only, yet loaded ${structure(loaded)}`);
      tf.dispose([loaded.features, loaded.labels ?? []]);
    } catch (err) {
      if (!(err instanceof WeightsFileError)) fail(`threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      else if (!err.message.includes(path)) fail(`the error does not name the file: ${err.message}`);
      else summary.rejected++;
    }
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked !== 0) fail(`left ${leaked} tensors behind`);
  }
  rmSync(dir, { recursive: true, force: true });
  return summary;
}

await runChild(runBatch);
