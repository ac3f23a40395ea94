// HDF5 files that carry checksums, written by h5py with libver='latest' (superblock v3, v2 object headers), and
// h5py's verdict on files: whether libhdf5 refuses to read them. Used by test/h5-checksums.test.ts.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { python, runH5py } from './h5py';

/**
 * One file per kind of checksummed structure a reader meets. The Keras-layout files use fixed-length strings, as
 * h5py 2 wrote Keras 2's files: variable-length ones would add a global heap, which has no checksum.
 */
const WRITE_FILES = String.raw`
import ctypes, json, os, sys
import h5py, numpy as np
out = sys.argv[1]
path = lambda name: os.path.join(out, name)

def keras_layers(f, count, dataset_attributes=0, huge_attribute=False):
    names = [f'layer{i}' for i in range(count)]
    f.attrs['layer_names'] = np.array([n.encode() for n in names])
    f.attrs['backend'] = np.bytes_(b'tensorflow')
    f.attrs['keras_version'] = np.bytes_(b'2.2.4')
    for i, name in enumerate(names):
        group = f.create_group(name)
        group.attrs['weight_names'] = np.array([f'{name}/kernel:0'.encode(), f'{name}/bias:0'.encode()])
        for weight, shape in (('kernel:0', (3, 2)), ('bias:0', (2,))):
            dataset = group.create_dataset(f'{name}/{weight}', data=np.arange(np.prod(shape), dtype='<f4').reshape(shape) + i)
            # Over 8 attributes go to dense storage: a fractal heap indexed by v2 B-trees.
            for a in range(dataset_attributes): dataset.attrs[f'note{a}'] = np.int32(a)
            # Densely stored, an attribute over 4 KiB is a huge heap object, outside the heap's blocks.
            if huge_attribute: dataset.attrs['huge_attribute'] = np.zeros(1500, dtype='<f4')

with h5py.File(path('dense_attributes.h5'), 'w', libver='latest') as f: keras_layers(f, 3, dataset_attributes=10)
# 60 links at the root: a fractal heap with an indirect block, name and creation-order B-trees with internal nodes.
with h5py.File(path('dense_links.h5'), 'w', libver='latest', track_order=True) as f: keras_layers(f, 60)
# Persistent free space: a superblock extension listing free-space managers.
with h5py.File(path('free_space.h5'), 'w', libver='latest', fs_strategy='fsm', fs_persist=True) as f: keras_layers(f, 2)
with h5py.File(path('huge_attributes.h5'), 'w', libver='latest') as f: keras_layers(f, 1, dataset_attributes=10, huge_attribute=True)

# Chunk indexes: fixed arrays (one paged), an extensible array, a v2 B-tree, a single chunk; with and without fletcher32.
with h5py.File(path('chunked.h5'), 'w', libver='latest') as f:
    for fletcher32 in (False, True):
        suffix = '_fletcher32' if fletcher32 else ''
        create = lambda name, data, **options: f.create_dataset(name + suffix, data=data, fletcher32=fletcher32, **options)
        create('fixed', np.arange(64, dtype='<f4'), chunks=(8,))
        create('fixed_paged', np.arange(1100, dtype='<f4'), chunks=(1,))
        create('extensible', np.arange(3000, dtype='<f4'), chunks=(4,), maxshape=(None,))
        create('btree', np.arange(4000, dtype='<f4').reshape(40, 100), chunks=(2, 2), maxshape=(None, None))
        create('single', np.arange(12, dtype='<f4').reshape(3, 4), chunks=(3, 4))
        create('gzip', np.arange(100, dtype='<f4'), chunks=(10,), compression='gzip', shuffle=True)
# An extensible array reaches paged super blocks (data blocks over 1024 entries) only past 131056 chunks.
with h5py.File(path('extensible_paged.h5'), 'w', libver='latest') as f:
    f.create_dataset('many_chunks', data=np.arange(140000, dtype='<f4'), chunks=(1,), maxshape=(None,), fletcher32=True)

with h5py.File(path('committed_types.h5'), 'w', libver='latest') as f:
    f['float_type'] = np.dtype('<f4')
    dataset = f.create_dataset('d', data=np.arange(4, dtype='<f4'), dtype=f['float_type'])
    for a in range(10): dataset.attrs.create(f'note{a}', np.float32(a), dtype=f['float_type'])

# Shared object header messages: h5py has no API for them, so the file creation list is set through libhdf5 itself.
libhdf5 = ctypes.CDLL(next(line.split()[-1] for line in open('/proc/self/maps') if '/libhdf5' in line and '_hl' not in line))
fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
fcpl_id = ctypes.c_int64(fcpl.id)
SHARE_DATASPACE, SHARE_DATATYPE, SHARE_FILL_VALUE, SHARE_ATTRIBUTE = 1 << 1, 1 << 3, 1 << 5, 1 << 12
# More than 4 messages in an index turn its list into a v2 B-tree: the one fill value stays in a list.
assert libhdf5.H5Pset_shared_mesg_nindexes(fcpl_id, 2) >= 0
assert libhdf5.H5Pset_shared_mesg_index(fcpl_id, 0, SHARE_FILL_VALUE, 1) >= 0
assert libhdf5.H5Pset_shared_mesg_index(fcpl_id, 1, SHARE_DATASPACE | SHARE_DATATYPE | SHARE_ATTRIBUTE, 1) >= 0
assert libhdf5.H5Pset_shared_mesg_phase_change(fcpl_id, 4, 2) >= 0
fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
with h5py.File(h5py.h5f.create(path('shared_messages.h5').encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)) as f:
    keras_layers(f, 2)
    for i in range(8): f['layer0'].attrs[f'shared{i}'] = np.arange(i + 3, dtype='<i8')
print(json.dumps(sorted(os.listdir(out))))
`;

/** Writes the files into `dir`; returns their names. */
export function writeChecksummedFiles(dir: string): string[] {
  return runH5py<string[]>(WRITE_FILES, [dir]);
}

/** Reads everything in each file as h5py does: every object, attribute and dataset value. */
const READ_ALL = String.raw`
import json, sys
import h5py
h5py._errors.silence_errors()
def read_attributes(o):
    for name in o.attrs: o.attrs[name]
def read_object(name, o):
    read_attributes(o)
    if isinstance(o, h5py.Dataset): o[()]
def refusal(path):
    try:
        with h5py.File(path, 'r') as f:
            read_attributes(f)
            f.visititems(read_object)
        return None
    except Exception as error:
        return f'{type(error).__name__}: {error}'
for path in sys.argv[1:]:
    print(json.dumps(refusal(path)), flush=True)
`;

/**
 * Why h5py refuses each file, or null where it reads it whole. One python process checks them all; libhdf5
 * crashes on some corrupt files (a segmentation fault counts as a refusal), and the next process carries on.
 */
export function h5pyRefusals(paths: string[]): (string | null)[] {
  if (python === undefined) throw new Error('python3 with h5py is required when CI is set (apt install python3-h5py)');
  const verdicts: (string | null)[] = [];
  while (verdicts.length < paths.length) {
    const run = spawnSync(python, ['-c', READ_ALL, ...paths.slice(verdicts.length)], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    const lines = run.stdout.split('\n').filter((line) => line !== '');
    verdicts.push(...lines.map((line) => JSON.parse(line) as string | null));
    if (run.signal !== null) verdicts.push(`libhdf5 crashed (${run.signal})`);
    else if (verdicts.length < paths.length) throw new Error(`h5py failed: ${run.stderr}`);
  }
  return verdicts;
}

/** A changed copy of a file, written for h5py and the reader to read. */
export interface Mutation {
  path: string;
  description: string;
}

export function writeMutation(dir: string, bytes: Uint8Array, name: string, description: string): Mutation {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, description };
}
