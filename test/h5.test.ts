import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm, { type File as H5File, type Group as H5Group } from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeightsFileError } from '../src/errors';
import { readWeights, readWeightsFile, readWeightsFileDeferred } from '../src/weights/h5';
import type { WeightsFile } from '../src/weights/types';
import { generatedWeight } from './helpers/generator';
import { seededRandom } from '../src/data/seeded-random';

const H5_DIR = 'test/fixtures/keras-ref/h5';
const MOBILENET = 'test/data/weights/mobilenet_2_5_224_tf_no_top.h5';
const NOT_HDF5 = 'test/data/weights/invalid/resnet50_weights_tf_dim_ordering_tf_kernels.h5';

interface TinyWeight {
  layer: string;
  path: string;
  owner_class: string;
  shape: number[];
}
interface TinyFixture {
  weights_in_legacy_order: TinyWeight[];
  files: Record<string, { root_attrs: Record<string, unknown>; datasets: [string, number[], string][] }>;
}
const tiny = JSON.parse(readFileSync(join(H5_DIR, 'tiny.json'), 'utf8')) as TinyFixture;
const tinyLayerNames = tiny.files['tiny_legacy.h5']!.root_attrs.layer_names as string[];

/** `{ layer: [[weight, shape], …] }`, for comparing structures in one assertion. */
function structure(weights: WeightsFile): Record<string, [string, number[]][]> {
  return Object.fromEntries(
    weights.layers.map((l) => [l.name, l.weights.map((w): [string, number[]] => [w.name, w.shape])]),
  );
}

/** All values as one byte string (faster to compare than many Float32Arrays). */
function valueBytes(weights: WeightsFile): Buffer {
  const tensors = weights.layers.flatMap((l) => l.weights);
  return Buffer.concat(tensors.map(({ data }) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
}

function read(path: string): WeightsFile {
  return readWeights(readFileSync(path), path);
}

describe.each([
  ['tiny_legacy.h5', 'legacy', ''],
  ['tiny_full_model.h5', 'full-model', 'model_weights/'],
] as const)('Keras-written %s', (file, format, prefix) => {
  const weights = read(join(H5_DIR, file));

  it(`is read as ${format}, with every layer of layer_names in order`, () => {
    expect(weights.format).toBe(format);
    expect(weights.layers.map((l) => l.name)).toEqual(tinyLayerNames);
    expect(weights.attributes).toMatchObject({ keras_version: '3.16.0', backend: 'torch' });
  });

  it('has the datasets tiny.json lists, at <layer>/<weight name>', () => {
    const listed = Object.fromEntries(tiny.files[file]!.datasets.map(([path, shape]) => [path, shape]));
    const read = Object.fromEntries(
      weights.layers.flatMap((l) => l.weights.map((w) => [`${prefix}${l.name}/${w.name}`, w.shape])),
    );
    expect(read).toEqual(listed);
  });

  it("holds the generator's values in legacy order", () => {
    const flat = weights.layers.flatMap((l) => l.weights.map((w) => ({ layer: l.name, ...w })));
    expect(flat.map((w) => [w.layer, w.name, w.shape])).toEqual(
      tiny.weights_in_legacy_order.map((w) => [w.layer, w.path, w.shape]),
    );
    tiny.weights_in_legacy_order.forEach((w, i) => {
      expect(flat[i]!.data).toEqual(generatedWeight(w.path, w.shape, w.owner_class));
    });
  });
});

describe('Keras-written tiny.weights.h5 (Keras 3)', () => {
  const weights = read(join(H5_DIR, 'tiny.weights.h5'));
  // Keras 3 names the groups after the layers' classes; tiny.json lists the layers' own names.
  const LAYER_OF_GROUP: Record<string, string> = {
    conv2d: 'conv1',
    batch_normalization: 'bn1',
    depthwise_conv2d: 'dw',
    separable_conv2d: 'sep',
    'sequential/layers/dense': 'head_block/fc1',
    'sequential/layers/dense_1': 'head_block/fc2',
  };

  it('has one layer per vars group with weights, named by its path below layers/', () => {
    expect(weights.format).toBe('keras3');
    const expected: Record<string, [string, number[]][]> = {};
    for (const [path, shape] of tiny.files['tiny.weights.h5']!.datasets) {
      const [, layer, index] = /^layers\/(.+)\/vars\/(\d+)$/.exec(path)!;
      (expected[layer!] ??= [])[Number(index)] = [`vars/${index}`, shape];
    }
    expect(structure(weights)).toEqual(expected);
  });

  it("holds the generator's values", () => {
    for (const layer of weights.layers) {
      const owned = tiny.weights_in_legacy_order.filter((w) => w.path.startsWith(`${LAYER_OF_GROUP[layer.name]}/`));
      expect(layer.weights.map((w) => w.data)).toEqual(owned.map((w) => generatedWeight(w.path, w.shape, w.owner_class)));
    }
  });

  it('sorts vars numerically', () => {
    expect(weights.layers.find((l) => l.name === 'batch_normalization')!.weights.map((w) => w.name)).toEqual([
      'vars/0',
      'vars/1',
      'vars/2',
      'vars/3',
    ]);
  });
});

describe('official keras.applications file (Keras 2.0.4, h5py 2)', () => {
  const bytes = readFileSync(MOBILENET);
  const weights = readWeights(bytes, MOBILENET);
  const byName = new Map(weights.layers.map((l) => [l.name, l]));
  const tensors = weights.layers.flatMap((l) => l.weights);

  it('lists all 83 layers in order, 54 of them with weights', () => {
    expect(weights.format).toBe('legacy');
    expect(weights.layers).toHaveLength(83);
    expect(weights.layers[0]!.name).toBe('input_1');
    expect(weights.layers.at(-1)!.name).toBe('global_average_pooling2d_1');
    expect(weights.layers.filter((l) => l.weights.length > 0)).toHaveLength(54);
    expect(tensors).toHaveLength(135);
    expect(tensors.reduce((sum, t) => sum + t.data.length, 0)).toBe(218_544);
  });

  it('reads the values and names as Keras wrote them, without NUL padding', () => {
    const [kernel] = byName.get('conv1')!.weights;
    expect(kernel!.name).toBe('conv1/kernel:0');
    expect(kernel!.shape).toEqual([3, 3, 3, 8]);
    expect(Array.from(kernel!.data.subarray(0, 4))).toEqual(
      [0.65657097, 0.48606479, -7.3817413e-5, 4.2979278e-15].map(Math.fround),
    );
    expect(byName.get('conv1_bn')!.weights.map((w) => w.name)).toEqual([
      'conv1_bn/gamma:0',
      'conv1_bn/beta:0',
      'conv1_bn/moving_mean:0',
      'conv1_bn/moving_variance:0',
    ]);
    expect(byName.get('conv_pw_13_bn')!.weights.map((w) => w.shape)).toEqual([[256], [256], [256], [256]]);
    expect(weights.attributes).toEqual({ keras_version: '2.0.4', backend: 'tensorflow' });
    expect(JSON.stringify(structure(weights))).not.toContain('\\u0000');
  });

  it("returns views of the file's buffer, not copies", () => {
    for (const tensor of tensors) expect(tensor.data.buffer).toBe(bytes.buffer);
  });

  it('reads an ArrayBuffer, and a Uint8Array that starts inside its buffer, alike', () => {
    const fromArrayBuffer = readWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const padded = new Uint8Array(bytes.byteLength + 3);
    padded.set(bytes, 3);
    const fromSubarray = readWeights(padded.subarray(3));
    for (const other of [fromArrayBuffer, fromSubarray]) {
      expect(structure(other)).toEqual(structure(weights));
      expect(Buffer.compare(valueBytes(other), valueBytes(weights))).toBe(0);
    }
  });

  it('reads a file with a user block before the superblock', () => {
    const withUserBlock = new Uint8Array(512 + bytes.byteLength);
    withUserBlock.set(bytes, 512);
    expect(structure(readWeights(withUserBlock))).toEqual(structure(weights));
  });

  it('reads the file from disk', async () => {
    expect(structure(await readWeightsFile(MOBILENET))).toEqual(structure(weights));
  });

  it('reads the file from disk deferred: the values come from the file again, into JS memory or a given target', async () => {
    const deferred = await readWeightsFileDeferred(MOBILENET);
    expect(structure(deferred)).toEqual(structure(weights));
    expect(Buffer.compare(valueBytes(deferred), valueBytes(weights))).toBe(0);
    const readable = deferred.layers.flatMap((l) => l.weights).filter((w) => w.readInto);
    expect(readable.length).toBeGreaterThan(100);
    for (const weight of readable) {
      const target = new Uint8Array(weight.data.byteLength);
      weight.readInto!(target);
      expect(Buffer.compare(target, new Uint8Array(weight.data.buffer))).toBe(0);
    }
  });

  it('refuses to read a deferred weight from a file replaced or changed since it was parsed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keras-apps-deferred-'));
    const path = join(dir, 'weights.h5');
    const changed = new WeightsFileError(`Cannot read weights file ${path}: it was replaced or changed while it was being loaded`);
    copyFileSync(MOBILENET, path);
    const truncated = await readWeightsFileDeferred(path);
    truncateSync(path, 1024);
    expect(() => truncated.layers.flatMap((l) => l.weights).at(-1)!.data).toThrow(changed);
    // An atomic replacement (a new download renamed over it) with a file of the same size.
    copyFileSync(MOBILENET, path);
    const replaced = await readWeightsFileDeferred(path);
    copyFileSync(MOBILENET, `${path}.new`);
    renameSync(`${path}.new`, path);
    expect(() => replaced.layers.flatMap((l) => l.weights).at(-1)!.data).toThrow(changed);
    rmSync(dir, { recursive: true });
  });
});

describe('files written with h5wasm', () => {
  let dir: string;
  beforeAll(async () => {
    await h5wasm.ready;
    dir = mkdtempSync(join(tmpdir(), 'keras-apps-h5-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  type Values = Float32Array | Float64Array | Int32Array;
  interface WeightSpec {
    name: string;
    data: Values;
    shape: number[];
    chunks?: number[];
  }

  /** A legacy layer group as Keras writes it: `weight_names`, datasets at `<layer>/<weight name>`. */
  function addLayer(parent: H5Group, layer: string, weights: WeightSpec[]): void {
    const group = parent.create_group(layer);
    group.create_attribute('weight_names', weights.map((w) => w.name), [weights.length], 'S32');
    for (const { name, data, shape, chunks } of weights) {
      const parts = name.split('/');
      let holder = group;
      for (const part of parts.slice(0, -1)) {
        holder = holder.keys().includes(part) ? (holder.get(part) as H5Group) : holder.create_group(part);
      }
      holder.create_dataset({ name: parts.at(-1)!, data, shape, ...(chunks && { chunks, compression: 'gzip' }) });
    }
  }

  function write(name: string, build: (file: H5File) => void, libver?: 'latest'): string {
    const path = join(dir, name);
    const file = new h5wasm.File(path, 'w', libver && { libver });
    build(file);
    file.close();
    return path;
  }

  const kernel = Float32Array.from({ length: 20 }, (_, i) => i / 7 - 1);

  it('joins layer_names0, layer_names1, … and reads chunked, gzip-compressed and non-float32 data', () => {
    const path = write('split.h5', (file) => {
      file.create_attribute('layer_names0', ['dense_a', 'act'], [2], 'S16');
      file.create_attribute('layer_names1', ['dense_b'], [1], 'S16');
      file.create_attribute('keras_version', '2.1.6');
      addLayer(file, 'dense_a', [
        { name: 'dense_a/kernel:0', data: kernel, shape: [4, 5], chunks: [3, 2] },
        { name: 'dense_a/bias:0', data: Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5]), shape: [5] },
      ]);
      addLayer(file, 'act', []);
      addLayer(file, 'dense_b', [{ name: 'dense_b/kernel:0', data: Int32Array.from([7, -8, 9, 10]), shape: [2, 2] }]);
    });
    const weights = readWeights(readFileSync(path), path);
    expect(weights.format).toBe('legacy');
    expect(weights.attributes).toEqual({ keras_version: '2.1.6' });
    expect(structure(weights)).toEqual({
      dense_a: [
        ['dense_a/kernel:0', [4, 5]],
        ['dense_a/bias:0', [5]],
      ],
      act: [],
      dense_b: [['dense_b/kernel:0', [2, 2]]],
    });
    const [a, bias] = weights.layers[0]!.weights;
    expect(a!.data).toEqual(kernel);
    expect(bias!.data).toEqual(Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5]));
    expect(weights.layers[2]!.weights[0]!.data).toEqual(Float32Array.from([7, -8, 9, 10]));
  });

  it("rejects chunked data written with libver='latest', which jsfive cannot read", () => {
    const path = write(
      'latest.h5',
      (file) => {
        file.create_attribute('layer_names', ['dense'], [1], 'S16');
        addLayer(file, 'dense', [{ name: 'dense/kernel:0', data: kernel, shape: [4, 5], chunks: [2, 5] }]);
      },
      'latest',
    );
    expect(() => readWeights(readFileSync(path), path)).toThrow(
      new WeightsFileError(
        `Cannot read weights file ${path}: dataset /dense/dense/kernel:0: uses data layout version 5 (HDF5 1.10+ ` +
          "with libver='latest'), which jsfive cannot read; re-save the weights with h5py's default libver",
      ),
    );
  });

  it('rejects an HDF5 file in none of the three layouts, saying what it expected', () => {
    const path = write('other.h5', (file) => {
      file.create_attribute('author', 'someone');
      file.create_group('images').create_dataset({ name: 'first', data: kernel, shape: [20] });
    });
    expect(() => readWeights(readFileSync(path), path)).toThrow(
      new WeightsFileError(
        `Cannot read weights file ${path}: it is not a Keras weights file: expected a root attribute layer_names ` +
          '(Keras 2 weights), a group model_weights (a whole model saved to .h5) or a group layers (Keras 3 ' +
          '.weights.h5); the root has members: images; attributes: author',
      ),
    );
  });

  it('rejects a layer group whose weight_names miss some of its datasets', () => {
    const path = write('unlisted.h5', (file) => {
      file.create_attribute('layer_names', ['dense'], [1], 'S16');
      addLayer(file, 'dense', [{ name: 'dense/kernel:0', data: kernel, shape: [20] }]);
      (file.get('dense') as H5Group).create_dataset({ name: 'extra', data: kernel, shape: [20] });
    });
    expect(() => readWeights(readFileSync(path), path)).toThrow(
      `Cannot read weights file ${path}: group /dense holds datasets its weight_names attribute does not list: extra`,
    );
  });

  // Writes > 2 GiB (fs.readFile's limit) and reads it back; opt in with KERAS_APPS_BIG_H5=1.
  it.runIf(process.env.KERAS_APPS_BIG_H5 === '1')(
    'reads a legacy file over 2 GiB',
    async () => {
      const count = 160 * 2 ** 20; // 640 MiB of float32 per dataset, four datasets
      const layers = ['big_0', 'big_1', 'big_2', 'big_3'];
      const path = write('big.h5', (file) => {
        file.create_attribute('layer_names', layers, [layers.length], 'S16');
        for (const [i, layer] of layers.entries()) {
          const data = new Float32Array(count);
          for (let j = 0; j < count; j++) data[j] = i * 1000 + (j % 1000);
          addLayer(file, layer, [{ name: `${layer}/kernel:0`, data, shape: [count / 1024, 1024] }]);
        }
      });
      expect(statSync(path).size).toBeGreaterThan(2 ** 31);
      const started = performance.now();
      const weights = await readWeightsFile(path);
      console.log(`read ${statSync(path).size} bytes in ${Math.round(performance.now() - started)} ms`);
      for (const [i, layer] of weights.layers.entries()) {
        const { shape, data } = layer.weights[0]!;
        expect(shape).toEqual([count / 1024, 1024]);
        const last = Array.from(data.subarray(count - 3));
        expect(last).toEqual([count - 3, count - 2, count - 1].map((j) => i * 1000 + (j % 1000)));
      }
      rmSync(path);
    },
    600_000,
  );
});

describe('invalid input', () => {
  const mobilenet = readFileSync(MOBILENET);

  it('rejects a file that is not HDF5, naming it', () => {
    expect(() => read(NOT_HDF5)).toThrow(
      new WeightsFileError(
        `Cannot read weights file ${NOT_HDF5}: it is not an HDF5 file (it starts with "<?xml ve", not the HDF5 signature)`,
      ),
    );
  });

  it.each([0, 7, 100, 2048, 500_000, mobilenet.byteLength - 1])('rejects the MobileNet file cut to %i bytes', (length) => {
    expect(() => readWeights(mobilenet.subarray(0, length), 'cut.h5')).toThrow(WeightsFileError);
  });

  it('says that a long enough cut file is truncated', () => {
    expect(() => readWeights(mobilenet.subarray(0, 500_000), 'cut.h5')).toThrow(
      'Cannot read weights file cut.h5: it is truncated: 500000 bytes, but its HDF5 superblock records ' +
        String(mobilenet.byteLength),
    );
  });

  it('rejects empty data and random bytes, with or without the HDF5 signature', () => {
    const random = seededRandom(42);
    const noise = Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256));
    expect(() => readWeights(new Uint8Array(0))).toThrow(/^Cannot read weights data: it is not an HDF5 file/);
    expect(() => readWeights(noise)).toThrow(/not an HDF5 file/);
    const signed = noise.slice();
    signed.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
    for (const version of [0, 2, 3]) {
      signed[8] = version;
      expect(() => readWeights(signed)).toThrow(WeightsFileError);
    }
  });

  it('rejects a missing file, naming it', async () => {
    const path = join(tmpdir(), 'keras-apps-no-such-file.h5');
    await expect(readWeightsFile(path)).rejects.toThrow(WeightsFileError);
    await expect(readWeightsFile(path)).rejects.toThrow(`Cannot read weights file ${path}: no such file`);
  });
});
