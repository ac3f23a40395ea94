// HDF5's checksums (Jenkins lookup3 over the metadata of the newer format versions, fletcher32 over data chunks)
// against files h5py writes: they load, and a change in any checksummed structure is refused, naming it. The
// seeded mutations of whole files are in h5-checksums-fuzz.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeightsFileError } from '../src/errors';
import { H5Problem, fileBytes } from '../src/weights/h5-data';
import { readWeights } from '../src/weights/h5';
import { lookup3, verifyChecksums } from '../src/weights/hdf5-checksums';
import { type Mutation, h5pyRefusals, writeChecksummedFiles, writeMutation } from './helpers/h5-checksum-files';
import { h5pySkipReason, runH5py } from './helpers/h5py';

/** Signatures of the structures that carry a lookup3 checksum. */
const CHECKSUMMED = ['OHDR', 'OCHK', 'BTHD', 'BTIN', 'BTLF', 'FRHP', 'FHDB', 'FHIB', 'FSHD', 'FSSE', 'FAHD', 'FADB', 'EAHD', 'EAIB', 'EASB', 'EADB', 'SMTB', 'SMLI'];

describe('lookup3', () => {
  it("gives Bob Jenkins's published hashlittle values", () => {
    const text = new TextEncoder().encode('Four score and seven years ago');
    expect(lookup3(text, 0, 0)).toBe(0xdeadbeef);
    expect(lookup3(text, 0, text.length)).toBe(0x17770551);
    expect(lookup3(text, 0, text.length, 1)).toBe(0xcd628161);
  });
});

/** Every occurrence of each checksummed structure's signature, by signature. */
function signatures(bytes: Uint8Array): Map<string, number[]> {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const found = new Map<string, number[]>();
  for (const signature of CHECKSUMMED) {
    const at: number[] = [];
    for (let i = text.indexOf(signature); i >= 0; i = text.indexOf(signature, i + 1)) at.push(i);
    if (at.length > 0) found.set(signature, at);
  }
  return found;
}

describe.skipIf(h5pySkipReason !== undefined)(
  `files h5py writes with libver='latest'${h5pySkipReason ? ` (skipped: ${h5pySkipReason})` : ''}`,
  () => {
    let dir: string;
    const file = (name: string): string => join(dir, name);
    const bytesOf = (name: string): Uint8Array => new Uint8Array(readFileSync(file(name)));

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'h5-checksums-'));
      writeChecksummedFiles(dir);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each([
      ['dense_attributes.h5', 3],
      ['dense_links.h5', 60],
      ['free_space.h5', 2],
      ['huge_attributes.h5', 1],
    ])('%s loads its %i layers: layer i holds kernel arange(6) + i and bias arange(2) + i', (name, layers) => {
      const weights = readWeights(bytesOf(name), name);
      expect(weights.format).toBe('legacy');
      expect(weights.layers).toHaveLength(layers);
      weights.layers.forEach((layer, i) => {
        expect(layer.name).toBe(`layer${i}`);
        expect(layer.weights.map((w) => [w.name, w.shape, Array.from(w.data)])).toEqual([
          [`layer${i}/kernel:0`, [3, 2], [0, 1, 2, 3, 4, 5].map((v) => v + i)],
          [`layer${i}/bias:0`, [2], [0, 1].map((v) => v + i)],
        ]);
      });
    });

    // Files the reader cannot read (HDF5 1.10 chunk indexes, shared messages, no Keras layout): the walk alone.
    it.each(['chunked.h5', 'extensible_paged.h5', 'committed_types.h5', 'shared_messages.h5'])(
      '%s passes the checksum walk',
      (name) => {
        const bytes = bytesOf(name);
        expect(() => verifyChecksums(fileBytes(bytes.buffer as ArrayBuffer, bytes.byteLength))).not.toThrow();
      },
    );

    it('refuses a change in each checksummed structure, naming it, and every change h5py refuses near one', () => {
      // In each file, the first and last structure of each kind: changed just after its signature, the refusal must
      // name it (every structure in these files is reachable, none is a stale copy); changed halfway to the next
      // structure (in the pages of a paged array block, or in data chunks), whatever h5py refuses must be refused.
      const names = ['dense_attributes.h5', 'dense_links.h5', 'free_space.h5', 'chunked.h5', 'extensible_paged.h5', 'committed_types.h5', 'shared_messages.h5'];
      const kinds = new Set<string>();
      const unnamed: string[] = [];
      const halfway: (Mutation & { bytes: Uint8Array })[] = [];
      const mutationsDir = file('structures');
      mkdirSync(mutationsDir);
      const walk = (bytes: Uint8Array): string | undefined => {
        try {
          verifyChecksums(fileBytes(bytes.buffer as ArrayBuffer, bytes.byteLength));
          return undefined;
        } catch (err) {
          if (err instanceof H5Problem) return err.message;
          throw err;
        }
      };
      for (const name of names) {
        const original = bytesOf(name);
        const found = signatures(original);
        const starts = [...found.values()].flat().sort((a, b) => a - b);
        for (const [signature, at] of found) {
          kinds.add(signature);
          for (const start of new Set([at[0]!, at[at.length - 1]!])) {
            const changed = (position: number): Uint8Array => {
              const bytes = original.slice();
              bytes[position] ^= 0x10;
              return bytes;
            };
            const refusal = walk(changed(start + 5));
            if (!refusal?.includes(`address ${start}`)) unnamed.push(`${name}: ${signature} at ${start}: ${refusal ?? 'accepted'}`);
            const middle = Math.floor((start + (starts.find((s) => s > start) ?? original.length)) / 2);
            const bytes = changed(middle);
            halfway.push({ ...writeMutation(mutationsDir, bytes, `${name}-${middle}.h5`, `${name}: byte ${middle} after ${signature} at ${start}`), bytes });
          }
        }
      }
      expect(unnamed).toEqual([]);
      expect([...kinds].sort()).toEqual([...CHECKSUMMED].sort());
      const refusals = h5pyRefusals(halfway.map((m) => m.path));
      const missed = halfway.filter(({ bytes }, i) => refusals[i] !== null && walk(bytes) === undefined);
      expect(missed.map((m) => m.description)).toEqual([]);
    });

    it("refuses a huge attribute (no checksum) whose name no longer matches its index's hash, as libhdf5 does", () => {
      const original = bytesOf('huge_attributes.h5');
      // The name is stored in the huge objects only (the index holds its hash).
      const name = Buffer.from(original).indexOf('huge_attribute');
      const bytes = original.slice();
      bytes[name] = 'H'.charCodeAt(0);
      const mutation = writeMutation(dir, bytes, 'renamed-huge-attribute.h5', 'huge attribute renamed');
      expect(h5pyRefusals([mutation.path])[0]).toMatch(/can't locate attribute/);
      expect(() => readWeights(bytes, mutation.path)).toThrow(/does not match the hash of its name/);
    });
  },
);

describe.skipIf(h5pySkipReason !== undefined)('fletcher32 on chunks of the default format (the chunks jsfive reads)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'h5-fletcher32-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['uncompressed', ''],
    ['gzip and shuffle before it', ", compression='gzip', shuffle=True"],
  ])('%s: the weights load; a changed chunk byte is refused as h5py refuses it', (_, options) => {
    const path = join(dir, `fletcher32${options === '' ? '' : '_gzip'}.h5`);
    const chunks = runH5py<[number, number][]>(
      String.raw`
import h5py, json, sys, numpy as np
with h5py.File(sys.argv[1], 'w') as f:
    f.attrs['layer_names'] = np.array([b'dense'])
    group = f.create_group('dense')
    group.attrs['weight_names'] = np.array([b'dense/kernel:0'])
    dataset = group.create_dataset('dense/kernel:0', data=np.arange(33 * 7, dtype='<f4').reshape(33, 7), chunks=(8, 7), fletcher32=True${options})
    print(json.dumps([[c.byte_offset, c.size] for c in map(dataset.id.get_chunk_info, range(dataset.id.get_num_chunks()))]))
`,
      [path],
    );
    const original = new Uint8Array(readFileSync(path));
    const [kernel] = readWeights(original, path).layers[0]!.weights;
    expect(Array.from(kernel!.data)).toEqual(Array.from({ length: 33 * 7 }, (_, i) => i));
    const [offset, size] = chunks[2]!;
    const bytes = original.slice();
    bytes[offset + Math.floor(size / 2)] ^= 0x01;
    const mutation = writeMutation(dir, bytes, 'changed-chunk.h5', 'chunk byte changed');
    expect(h5pyRefusals([mutation.path])[0]).toMatch(/Fletcher32/);
    expect(() => readWeights(bytes, mutation.path)).toThrow(WeightsFileError);
    expect(() => readWeights(bytes, mutation.path)).toThrow(`the data chunk at address ${offset} fails its fletcher32 checksum`);
  });
});
