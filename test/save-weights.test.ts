import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { ArgumentError, FileWriteError, WeightsFileError } from '../src/errors';
import { LayerScale } from '../src/layers/layer-scale';
import { Normalization } from '../src/layers/normalization';
import { loadWeights } from '../src/weights/apply';
import { readWeightsFile } from '../src/weights/h5';
import { loadModel, modelFiles, saveModel } from '../src/weights/model-files';
import { saveWeights } from '../src/weights/save';
import { generatedInput } from './helpers/generator';
import { relativeError } from './helpers/keras-ref';
import { describeH5, h5pySkipReason, type H5Description } from './helpers/h5py';
import { mountSmallDisk, smallDiskSkipReason, type SmallDisk } from './helpers/small-disk';
import { buildTiny, H5_DIR, tinyReference } from './helpers/tiny';

const KERAS_FILE = `${H5_DIR}tiny_legacy.h5`;
const dir = mkdtempSync(join(tmpdir(), 'save-weights-'));

function tinyInput(): tf.Tensor {
  return tf.tensor(generatedInput(tinyReference.input.shape), tinyReference.input.shape);
}

async function outputOf(model: tfl.LayersModel, input: tf.Tensor): Promise<Float32Array> {
  const output = model.predict(input) as tf.Tensor;
  const values = (await output.data()) as Float32Array;
  output.dispose();
  return values;
}

/** `tiny` with the fixture's deterministic weights (Keras's own file), saved by saveWeights. */
let tiny: tfl.LayersModel;
const ourFile = join(dir, 'tiny.h5');

beforeAll(async () => {
  await ensureBackend();
  tiny = buildTiny();
  await loadWeights(tiny, KERAS_FILE);
  await saveWeights(tiny, ourFile);
});

describe('saveWeights: the tiny model', () => {
  it('reads back with our reader as the layers and weights of Keras\'s file, names and values included', async () => {
    const [ours, keras] = await Promise.all([readWeightsFile(ourFile), readWeightsFile(KERAS_FILE)]);
    expect(ours.format).toBe('legacy');
    expect(ours.attributes).toEqual({ backend: 'tensorflow', keras_version: '3.16.0' });
    expect(ours.layers).toEqual(keras.layers);
  });

  it("has Keras's superblock version (0, as h5py writes by default)", () => {
    const superblockVersion = (path: string) => readFileSync(path)[8];
    expect(superblockVersion(ourFile)).toBe(superblockVersion(KERAS_FILE));
  });

  it('loads back into a fresh tiny with identical outputs (and Keras\'s)', async () => {
    const reloaded = buildTiny();
    await loadWeights(reloaded, ourFile);
    const input = tinyInput();
    const [before, after] = [await outputOf(tiny, input), await outputOf(reloaded, input)];
    expect(after).toEqual(before);
    const width = tinyReference.output.shape[1]!;
    tinyReference.output.values.forEach((row, i) => expect(relativeError(after.subarray(i * width, (i + 1) * width), row)).toBeLessThan(1e-5));
    input.dispose();
    reloaded.dispose();
  });

  it('writes each layer\'s weights in Keras\'s legacy order: trainable first, also across a nested model', async () => {
    const model = buildTiny();
    await loadWeights(model, KERAS_FILE);
    const head = model.getLayer('head_block') as tfl.LayersModel;
    head.getLayer('fc1').trainable = false;
    const path = join(dir, 'frozen-fc1.h5');
    await saveWeights(model, path);
    const saved = (await readWeightsFile(path)).layers.find((layer) => layer.name === 'head_block')!;
    // Keras's _legacy_weights: layer.trainable_weights + layer.non_trainable_weights.
    expect(saved.weights.map((w) => w.name)).toEqual(['head_block/fc2/kernel', 'head_block/fc2/bias', 'head_block/fc1/kernel', 'head_block/fc1/bias']);
    const sameFreeze = buildTiny();
    (sameFreeze.getLayer('head_block') as tfl.LayersModel).getLayer('fc1').trainable = false;
    await loadWeights(sameFreeze, path);
    const input = tinyInput();
    expect(await outputOf(sameFreeze, input)).toEqual(await outputOf(tiny, input));
    tf.dispose([input]);
    model.dispose();
    sameFreeze.dispose();
  });

  it('leaves the file at the path as it was when a layer cannot be read, and no partial file beside it', async () => {
    const model = buildTiny();
    await loadWeights(model, KERAS_FILE);
    // A weight of the last layer with weights, read after the others have been written.
    const broken = model.layers.filter((layer) => layer.weights.length > 0).at(-1)!.weights[0]!;
    broken.dispose();
    const folder = mkdtempSync(join(dir, 'failed-'));
    const existing = join(folder, 'existing.h5');
    copyFileSync(ourFile, existing);
    await expect(saveWeights(model, existing)).rejects.toThrow(/disposed/);
    expect(readFileSync(existing).equals(readFileSync(ourFile))).toBe(true);
    await expect(saveWeights(model, join(folder, 'new.h5'))).rejects.toThrow(/disposed/);
    expect(readdirSync(folder)).toEqual(['existing.h5']);
    expect(existsSync(join(folder, 'new.h5'))).toBe(false);
    // model.dispose() would stop at the disposed weight: the others one by one.
    const rest = model.weights.filter((weight) => weight !== broken);
    for (const weight of rest) weight.dispose();
  });

  it('rejects a path that is not a non-empty string', async () => {
    await expect(saveWeights(tiny, '')).rejects.toThrow(ArgumentError);
    await expect(saveWeights(tiny, '')).rejects.toThrow(/Invalid path: "".*path of the \.h5 file/);
    await expect(saveWeights(tiny, 42 as unknown as string)).rejects.toThrow(/Invalid path: 42/);
  });
});

describe.skipIf(h5pySkipReason !== undefined)(`saveWeights as h5py reads it${h5pySkipReason ? ` (skipped: ${h5pySkipReason})` : ''}`, () => {
  let ours: H5Description;
  let keras: H5Description;
  beforeAll(() => {
    ours = describeH5(ourFile);
    keras = describeH5(KERAS_FILE);
  });

  it("has Keras's groups and datasets (names, shapes, float32, contiguous)", () => {
    expect(ours.groups.sort()).toEqual(keras.groups.sort());
    const layout = (d: H5Description) => Object.entries(d.datasets).map(([name, { shape, dtype, chunks }]) => [name, shape, dtype, chunks]);
    expect(layout(ours).sort()).toEqual(layout(keras).sort());
    expect(Object.values(ours.datasets).every((d) => d.dtype === '<f4')).toBe(true);
  });

  it("has Keras's attributes with the same types (variable-length ASCII strings, empty float64 lists)", () => {
    const types = (d: H5Description) => Object.fromEntries(Object.entries(d.attributes).map(([name, { value, ...type }]) => [name, type]));
    expect(types(ours)).toEqual(types(keras));
    const values = (d: H5Description) => Object.fromEntries(Object.entries(d.attributes).map(([name, { value }]) => [name, value]));
    const { '/backend': backend, '/keras_version': version, ...rest } = values(ours);
    const { '/backend': _b, '/keras_version': _v, ...kerasRest } = values(keras);
    expect(rest).toEqual(kerasRest);
    expect([backend, version]).toEqual(['tensorflow', '3.16.0']);
  });

  it("holds the model's values, as Keras's file does", () => {
    // The i-th of a layer's weight_names (as h5py reads them) holds the layer's i-th weight.
    const modelValues = Object.fromEntries(
      tiny.layers.flatMap((layer) => {
        const names = ours.attributes[`${layer.name}/weight_names`]!.value as string[];
        return layer.getWeights().map((w, i) => [`${layer.name}/${names[i]}`, Array.from(w.dataSync())]);
      }),
    );
    const flat = (d: H5Description) => Object.fromEntries(Object.entries(d.datasets).map(([name, { values }]) => [name, [values].flat(4)]));
    expect(flat(ours)).toEqual(modelValues);
    expect(flat(ours)).toEqual(flat(keras));
  });
});

describe.skipIf(h5pySkipReason !== undefined)('saveWeights: long name lists', () => {
  it('splits layer_names over 64512 bytes into layer_names0, layer_names1 as Keras does, and reads them back', async () => {
    // 300 names of 230 bytes: 69000 bytes as NumPy's |S230 array, so Keras writes two chunks of 150.
    const names = Array.from({ length: 300 }, (_, i) => `dense_${String(i).padStart(3, '0')}_${'x'.repeat(220)}`);
    const input = tfl.input({ shape: [1] });
    let x: tfl.SymbolicTensor = input;
    for (const name of names) x = tfl.layers.dense({ units: 1, name }).apply(x) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    const path = join(dir, 'long.h5');
    await saveWeights(model, path);
    const attributes = describeH5(path).attributes;
    expect(attributes['/layer_names']).toBeUndefined();
    const chunk = (i: number) => attributes[`/layer_names${i}`]!;
    expect([chunk(0).variable, chunk(0).size, chunk(0).shape, chunk(1).shape]).toEqual([false, 230, [151], [150]]);
    expect(attributes['/layer_names2']).toBeUndefined();
    expect((await readWeightsFile(path)).layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    model.dispose();
  });
});

describe('saveModel / loadModel: tfjs format on disk', () => {
  it('round-trips a model with the package\'s custom layers to the same outputs', async () => {
    const input = tfl.input({ shape: [4, 4, 3] });
    let x = new Normalization({ axis: -1, mean: [1, 2, 3], variance: [4, 5, 6] }).apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 5, kernelSize: 3, name: 'conv' }).apply(x) as tfl.SymbolicTensor;
    x = new LayerScale({ initValues: 0.5, projectionDim: 5, name: 'scale' }).apply(x) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    const folder = join(dir, 'model');
    const result = await saveModel(model, folder);
    expect(result.modelArtifactsInfo.weightDataBytes).toBeGreaterThan(0);
    const reloaded = await loadModel(folder);
    expect(reloaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
    const sample = tf.randomUniform([2, 4, 4, 3], 0, 10, 'float32', 1);
    expect(await outputOf(reloaded, sample)).toEqual(await outputOf(model, sample));
    // The same files load through the handler with tfjs's own loader.
    const again = await tfl.loadLayersModel(modelFiles(folder));
    expect(again.countParams()).toBe(model.countParams());
    tf.dispose(sample);
    [model, reloaded, again].forEach((m) => m.dispose());
  });

  it('rejects a folder that is not a non-empty string', () => {
    expect(() => modelFiles('')).toThrow(ArgumentError);
    expect(() => modelFiles('')).toThrow(/Invalid dir: "".*path of a folder/);
  });
});

/** The files of every folder below `dir` but `skip`, as `folder/name`, each with its bytes. */
function snapshot(dir: string, skip = 'filler'): Map<string, Buffer> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile() && entry.name !== skip);
  return new Map(files.map((entry) => [join(entry.parentPath, entry.name).slice(dir.length + 1), readFileSync(join(entry.parentPath, entry.name))]));
}

describe.skipIf(smallDiskSkipReason !== undefined)(`saving where the files cannot be written${smallDiskSkipReason ? ` (skipped: ${smallDiskSkipReason})` : ''}`, () => {
  let disk: SmallDisk | undefined;
  afterEach(() => {
    disk?.unmount();
    disk = undefined;
  });

  /** tiny with weights other than those of `ourFile` (tfjs's initializers). */
  const otherTiny = (): tfl.LayersModel => buildTiny();

  // With nothing left HDF5 writes nothing; with some space it writes part of the file.
  it.each([0, 12 * 1024])('saveWeights on a full disk (%i bytes free) throws FileWriteError and keeps the previous file', async (free) => {
    disk = mountSmallDisk(256 * 1024, { populate: (dir) => copyFileSync(ourFile, join(dir, 'tiny.h5')) });
    disk.fill(free);
    const before = snapshot(disk.dir);
    const model = otherTiny();
    const path = join(disk.dir, 'tiny.h5');
    const failure = saveWeights(model, path);
    await expect(failure).rejects.toThrow(FileWriteError);
    await expect(failure).rejects.toThrow(new RegExp(`Cannot write '${path}': .*Nothing was replaced`));
    expect(snapshot(disk.dir)).toEqual(before);
    model.dispose();
  });

  it('saveModel on a full disk throws FileWriteError and keeps the previous model, which still loads', async () => {
    disk = mountSmallDisk(256 * 1024);
    const folder = join(disk.dir, 'model');
    await saveModel(tiny, folder);
    const before = snapshot(disk.dir);
    disk.fill(8 * 1024);
    // 64 KiB of weights, more than the free space and the previous weights.bin together.
    const larger = tfl.sequential({ layers: [tfl.layers.dense({ units: 256, inputShape: [64] })] });
    const failure = saveModel(larger, folder);
    await expect(failure).rejects.toThrow(FileWriteError);
    await expect(failure).rejects.toThrow(/Cannot write '.*model\/weights\.bin': the disk is full \(ENOSPC\)/);
    expect(snapshot(disk.dir)).toEqual(before);
    const reloaded = await loadModel(folder);
    const input = tinyInput();
    expect(await outputOf(reloaded, input)).toEqual(await outputOf(tiny, input));
    tf.dispose(input);
    [larger, reloaded].forEach((m) => m.dispose());
  });

  it('throws FileWriteError for a read-only folder, leaving what is there', async () => {
    disk = mountSmallDisk(256 * 1024, { readOnly: true, populate: (dir) => copyFileSync(ourFile, join(dir, 'tiny.h5')) });
    const before = snapshot(disk.dir);
    await expect(saveWeights(tiny, join(disk.dir, 'tiny.h5'))).rejects.toThrow(FileWriteError);
    await expect(saveWeights(tiny, join(disk.dir, 'tiny.h5'))).rejects.toThrow(/the file system is read-only \(EROFS\)/);
    await expect(saveModel(tiny, join(disk.dir, 'model'))).rejects.toThrow(/Cannot write '.*model': the file system is read-only/);
    expect(snapshot(disk.dir)).toEqual(before);
  });
});

describe('saving into a missing folder, loading a missing or broken model', () => {
  it('saveWeights throws FileWriteError naming the path', async () => {
    const path = join(dir, 'no-such-folder', 'tiny.h5');
    await expect(saveWeights(tiny, path)).rejects.toThrow(FileWriteError);
    await expect(saveWeights(tiny, path)).rejects.toThrow(`Cannot write '${path}': its folder does not exist (ENOENT)`);
  });

  it('loadModel throws WeightsFileError naming the file', async () => {
    const folder = mkdtempSync(join(dir, 'broken-model-'));
    await expect(loadModel(folder)).rejects.toThrow(WeightsFileError);
    await expect(loadModel(folder)).rejects.toThrow(`Cannot load ${join(folder, 'model.json')}: no such file`);
    writeFileSync(join(folder, 'model.json'), '{"modelTopology": ');
    await expect(loadModel(folder)).rejects.toThrow(/model\.json: it is not JSON/);
  });
});
