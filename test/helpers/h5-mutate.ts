// Seeded mutations of a file's bytes for the HDF5 fuzz tests: bit flips, overwritten byte runs, truncations.
import { seededRandom } from '../../src/data/seeded-random';

export interface Mutation {
  bytes: Uint8Array;
  description: string;
  /** Byte ranges [start, end) of the original that changed. */
  changed: [number, number][];
}

/**
 * The mutation of `original` for `seed`; 85% of the changed positions are drawn from `metadata` (the bytes
 * that are not dataset values, where a change exercises the parser rather than loading other numbers).
 */
export function mutate(original: Uint8Array, metadata: Uint32Array, seed: number): Mutation {
  const random = seededRandom(seed);
  const below = (n: number): number => Math.floor(random() * n);
  const position = (): number => (random() < 0.85 ? metadata[below(metadata.length)]! : below(original.byteLength));
  const kind = below(10);
  if (kind === 0) {
    const length = below(original.byteLength);
    return { bytes: original.slice(0, length), description: `truncate to ${length}`, changed: [[length, original.length]] };
  }
  const bytes = original.slice();
  if (kind <= 5) {
    const flips = 1 + below(3);
    const at = Array.from({ length: flips }, position);
    for (const p of at) bytes[p] ^= 1 << below(8);
    return { bytes, description: `flip bits at ${at.join(', ')}`, changed: at.map((p) => [p, p + 1]) };
  }
  const start = position();
  const end = Math.min(original.byteLength, start + 1 + below(16));
  const fill = [0x00, 0xff, -1][below(3)]!;
  for (let i = start; i < end; i++) bytes[i] = fill < 0 ? below(256) : fill;
  return { bytes, description: `overwrite ${start}..${end} with ${fill < 0 ? 'random bytes' : fill}`, changed: [[start, end]] };
}
