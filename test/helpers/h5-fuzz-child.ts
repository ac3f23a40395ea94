// One batch of weights-reader fuzz cases, run by test/h5-fuzz.test.ts in a child process (vite-node):
// jsfive is synchronous, so only a separate process can be stopped when a case hangs.
//
//   H5_FUZZ_SPEC='{"file": "...", "firstSeed": <seed>, "count": 1}' \
//     node node_modules/vite-node/vite-node.mjs test/helpers/h5-fuzz-child.ts
//
// reruns one case. Protocol on stdout: `@@start <seed>` before each case, then one `@@summary <json>`.

import { readFileSync } from 'node:fs';
import { WeightsFileError } from '../../src/errors';
import { readWeights } from '../../src/weights/h5';
import type { WeightsFile } from '../../src/weights/types';
import { type FuzzSpec, runChild } from './fuzz-runner';
import { mutate } from './h5-mutate';

export interface FuzzSummary {
  loaded: number;
  rejected: number;
  /** Cases that threw something other than WeightsFileError, or loaded a different structure. */
  failures: { seed: number; mutation: string; problem: string }[];
}

/** Structure that a mutation must not change without an error: layer names, weight names and shapes. */
function signature(weights: WeightsFile): string[] {
  return weights.layers.map((l) => `${l.name}: ${l.weights.map((w) => `${w.name}[${w.shape.join(',')}]`).join(' ')}`);
}

/**
 * Bytes that are not dataset values. Most of a weights file is float data, where any change loads
 * fine; aiming most mutations here exercises the parser.
 */
function metadataOffsets(original: Uint8Array, weights: WeightsFile): Uint32Array {
  const isData = new Uint8Array(original.byteLength);
  for (const layer of weights.layers) {
    for (const { data } of layer.weights) {
      if (data.buffer === original.buffer) isData.fill(1, data.byteOffset, data.byteOffset + data.byteLength);
    }
  }
  return Uint32Array.from(Array.from(isData.keys()).filter((i) => isData[i] === 0));
}

/**
 * Byte ranges that say which members a group has: symbol-table nodes (SNOD), group B-tree nodes (TREE)
 * and local heaps (HEAP, holding the member names). Files with a version-0 superblock have no checksums
 * there, and jsfive skips symbol-table entries it does not understand, so a mutation in them can rename
 * or drop a layer without any error (the weights then fail to fit the model, later).
 */
function membershipBytes(original: Uint8Array): [number, number][] {
  const view = new DataView(original.buffer, original.byteOffset, original.byteLength);
  if (view.getUint8(8) !== 0) return [];
  const leafK = view.getUint16(16, true);
  const internalK = view.getUint16(18, true);
  const text = Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('latin1');
  const ranges: [number, number][] = [];
  const each = (tag: string, range: (at: number) => [number, number][]): void => {
    for (let at = text.indexOf(tag); at >= 0; at = text.indexOf(tag, at + 1)) ranges.push(...range(at));
  };
  each('SNOD', (at) => [[at, at + 8 + 2 * leafK * 40]]);
  each('TREE', (at) => (view.getUint8(at + 4) === 0 ? [[at, at + 24 + (4 * internalK + 1) * 8]] : []));
  each('HEAP', (at) => {
    const size = Number(view.getBigUint64(at + 8, true));
    const data = Number(view.getBigUint64(at + 24, true));
    return [[at, at + 32], [data, data + size]];
  });
  return ranges;
}

export function runBatch(spec: FuzzSpec, onStart: (seed: number) => void = () => {}): FuzzSummary {
  const original = new Uint8Array(readFileSync(spec.file));
  const clean = readWeights(original, spec.file);
  const expected = signature(clean);
  const metadata = metadataOffsets(original, clean);
  const links = membershipBytes(original);
  const summary: FuzzSummary = { loaded: 0, rejected: 0, failures: [] };
  for (let seed = spec.firstSeed; seed < spec.firstSeed + spec.count; seed++) {
    const mutation = mutate(original, metadata, seed);
    const fail = (problem: string): void => {
      summary.failures.push({ seed, mutation: mutation.description, problem });
    };
    onStart(seed);
    try {
      const changed = signature(readWeights(mutation.bytes, spec.file));
      summary.loaded++;
      const hitMembership = mutation.changed.some(([from, to]) =>
        links.some(([start, end]) => from < end && start < to),
      );
      if (!hitMembership && changed.join('\n') !== expected.join('\n')) {
        const lost = expected.filter((line) => !changed.includes(line));
        fail(`loaded with a different structure: lost ${lost.slice(0, 3).join(' | ')}`);
      }
    } catch (err) {
      if (err instanceof WeightsFileError) summary.rejected++;
      else fail(`threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    }
  }
  return summary;
}

await runChild(runBatch);
