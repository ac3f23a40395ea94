// Reading .h5 files with Python's h5py, the reader Keras uses, to check files we write. h5py comes from
// Debian's python3-h5py, which may sit beside a python3 of its own on PATH (pyenv), so both are tried.
import { execFileSync } from 'node:child_process';

const CANDIDATES = ['python3', '/usr/bin/python3'];

/** A python3 that imports h5py, or undefined. */
function findPython(): string | undefined {
  return CANDIDATES.find((python) => {
    try {
      execFileSync(python, ['-c', 'import h5py'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
}

export const python = findPython();

/** Why h5py tests are skipped; with CI set a missing h5py fails them instead (`.ci/run` installs it). */
export const h5pySkipReason =
  python === undefined && !process.env.CI ? 'python3 with h5py not found (apt install python3-h5py)' : undefined;

/** Runs `script` with the h5py python, `args` as sys.argv[1:], and parses what it prints as JSON. */
export function runH5py<T>(script: string, args: string[]): T {
  if (python === undefined) throw new Error('python3 with h5py is required when CI is set (apt install python3-h5py)');
  return JSON.parse(execFileSync(python, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })) as T;
}

/**
 * A file's structure as h5py sees it: every attribute (type class, string kind, charset and size, shape) and every
 * group and dataset (shape, dtype, layout), and each dataset's values.
 */
export interface H5Description {
  attributes: Record<string, { type: string; variable: boolean | null; charset: string | null; size: number; shape: number[] | null; value: unknown }>;
  groups: string[];
  datasets: Record<string, { shape: number[]; dtype: string; chunks: number[] | null; values: unknown }>;
}

const DESCRIBE = `
import h5py, json, sys
def attribute(obj, name):
    a = obj.attrs.get_id(name)
    t = a.get_type()
    value = obj.attrs[name]
    value = value.tolist() if hasattr(value, 'tolist') else value
    decode = lambda v: v.decode('ascii') if isinstance(v, bytes) else v
    value = [decode(v) for v in value] if isinstance(value, list) else decode(value)
    string = isinstance(t, h5py.h5t.TypeStringID)
    return {'type': type(t).__name__, 'variable': t.is_variable_str() if string else None,
            'charset': ('ascii', 'utf-8')[t.get_cset()] if string else None, 'size': t.get_size(), 'shape': list(a.shape) if a.shape is not None else None, 'value': value}
out = {'attributes': {}, 'groups': [], 'datasets': {}}
f = h5py.File(sys.argv[1], 'r')
for k in f.attrs: out['attributes']['/' + k] = attribute(f, k)
def visit(name, obj):
    for k in obj.attrs: out['attributes'][name + '/' + k] = attribute(obj, k)
    if isinstance(obj, h5py.Dataset):
        out['datasets'][name] = {'shape': list(obj.shape), 'dtype': obj.dtype.str, 'chunks': obj.chunks,
                                 'values': obj[()].tolist()}
    else:
        out['groups'].append(name)
f.visititems(visit)
print(json.dumps(out))
`;

export function describeH5(path: string): H5Description {
  return runH5py<H5Description>(DESCRIBE, [path]);
}
