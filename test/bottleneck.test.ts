import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfd from '@tensorflow/tfjs-data';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { ArgumentError, FileWriteError, WeightsFileError } from '../src/errors';
import { imageDatasetFromDirectory } from '../src/data/dataset';
import { loadImageBatch } from '../src/image/image';
import { computeFeatures, loadFeatures, saveFeatures, type BottleneckFeatures } from '../src/transfer/bottleneck';
import { loadWeights } from '../src/weights/apply';
import { uniform } from './helpers/generator';
import { describeH5, h5pySkipReason } from './helpers/h5py';
import { writeImage } from './helpers/image-folder';
import { mountSmallDisk, smallDiskSkipReason, type SmallDisk } from './helpers/small-disk';
import { buildTiny, H5_DIR } from './helpers/tiny';

// Six 24 × 24 photos-to-be (generated noise) in two classes; `tiny` with Keras's weights is the frozen base.
const root = mkdtempSync(join(tmpdir(), 'bottleneck-images-'));
const dir = mkdtempSync(join(tmpdir(), 'bottleneck-'));
const QUIET = { verbose: false, imageSize: 24, shuffle: false } as const;
let base: tfl.LayersModel;
let computed: BottleneckFeatures;

beforeAll(async () => {
  await ensureBackend();
  for (const [folder, files] of [['cats', ['a.png', 'b.png', 'c.png']], ['dogs', ['d.png', 'e.png', 'f.png']]] as const) {
    for (const file of files) await writeImage(join(root, folder, file), Uint8Array.from(uniform(file, [24, 24, 3], 0, 255)), 24, 24);
  }
  base = buildTiny();
  await loadWeights(base, `${H5_DIR}tiny_legacy.h5`);
  computed = await computeFeatures(base, await imageDatasetFromDirectory(root, { ...QUIET, batchSize: 4 }));
});

describe('computeFeatures', () => {
  it("gives the base's outputs for every image, with the dataset's labels and class names", async () => {
    expect(computed.features.shape).toEqual([6, 10]);
    expect(computed.labels!.dtype).toBe('float32');
    expect(Array.from(computed.labels!.dataSync())).toEqual([0, 0, 0, 1, 1, 1]);
    expect(computed.classNames).toEqual(['cats', 'dogs']);
    const files = ['a', 'b', 'c', 'd', 'e', 'f'].map((name, i) => join(root, i < 3 ? 'cats' : 'dogs', `${name}.png`));
    const images = await loadImageBatch(files);
    const direct = base.predict(images) as tf.Tensor;
    const [ours, expected] = [computed.features.dataSync(), direct.dataSync()];
    expected.forEach((value, i) => expect(ours[i]).toBeCloseTo(value, 4));
    tf.dispose([images, direct]);
  });

  it('reports progress and leaves no tensor behind but its result', async () => {
    const dataset = await imageDatasetFromDirectory(root, { ...QUIET, batchSize: 4, labelMode: 'categorical' });
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const result = await computeFeatures(base, dataset, { onBatch: (done) => progress.push(done) });
    expect(progress).toEqual([4, 6]);
    expect(result.labels!.shape).toEqual([6, 2]);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([result.features, result.labels!]);
  });

  it('frees the batch when the model rejects it (an unbatched dataset)', async () => {
    const dataset = await imageDatasetFromDirectory(root, { ...QUIET, batchSize: null });
    const before = tf.memory().numTensors;
    await expect(computeFeatures(base, dataset)).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects datasets that are not { xs, ys? } batches, or are empty', async () => {
    await expect(computeFeatures(base, tfd.array([{ images: tf.zeros([1, 24, 24, 3]) }]) as never)).rejects.toThrow(ArgumentError);
    await expect(computeFeatures(base, tfd.array([{ images: tf.zeros([1, 24, 24, 3]) }]) as never)).rejects.toThrow(/\{ xs, ys\? \} batches.*\["images"\]/);
    await expect(computeFeatures(base, tfd.array([]) as never)).rejects.toThrow(/yielded no batches/);
  });
});

describe('saveFeatures / loadFeatures', () => {
  const path = join(dir, 'features.h5');
  beforeAll(() => saveFeatures(path, computed));

  it('loads back the same features, labels and class names', async () => {
    const loaded = await loadFeatures(path);
    expect(loaded.features.shape).toEqual([6, 10]);
    expect(loaded.features.dataSync()).toEqual(computed.features.dataSync());
    expect(loaded.labels!.dtype).toBe('float32');
    expect(loaded.labels!.dataSync()).toEqual(computed.labels!.dataSync());
    expect(loaded.classNames).toEqual(['cats', 'dogs']);
    // The recipe's second half: train the head on the saved features.
    const head = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [10], activation: 'softmax' })] });
    head.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const history = await head.fit(loaded.features, loaded.labels!, { epochs: 1, verbose: 0 });
    expect(Number.isFinite(history.history.loss![0])).toBe(true);
    head.dispose();
    tf.dispose([loaded.features, loaded.labels!]);
  });

  it('keeps int32 labels int32 and one-hot rows as they are, and writes no labels or names when there are none', async () => {
    const oneHot = join(dir, 'one-hot.h5');
    await saveFeatures(oneHot, { features: tf.ones([2, 3]), labels: tf.tensor2d([[1, 0], [0, 1]]), classNames: null });
    const loaded = await loadFeatures(oneHot);
    expect([loaded.labels!.dtype, loaded.labels!.arraySync()]).toEqual(['float32', [[1, 0], [0, 1]]]);
    expect(loaded.classNames).toBeNull();
    const indices = join(dir, 'indices.h5');
    await saveFeatures(indices, { features: tf.ones([2, 3]), labels: tf.tensor1d([3, 1], 'int32'), classNames: ['é', 'b', 'c', 'd'] });
    const reloaded = await loadFeatures(indices);
    expect([reloaded.labels!.dtype, reloaded.labels!.arraySync(), reloaded.classNames]).toEqual(['int32', [3, 1], ['é', 'b', 'c', 'd']]);
    const bare = join(dir, 'bare.h5');
    await saveFeatures(bare, { features: tf.ones([2, 3]), labels: null, classNames: null });
    expect((await loadFeatures(bare)).labels).toBeNull();
  });

  it('leaves an existing file as it was, and no partial file, when the features cannot be written', async () => {
    const folder = mkdtempSync(join(dir, 'failed-'));
    const existing = join(folder, 'existing.h5');
    await saveFeatures(existing, computed);
    const labels = tf.tensor1d([0, 1]);
    labels.dispose();
    const features = tf.ones([2, 3]);
    await expect(saveFeatures(existing, { features, labels, classNames: null })).rejects.toThrow(/disposed/);
    features.dispose();
    expect(readdirSync(folder)).toEqual(['existing.h5']);
    const loaded = await loadFeatures(existing);
    expect(loaded.features.dataSync()).toEqual(computed.features.dataSync());
    tf.dispose([loaded.features, loaded.labels!]);
  });

  it('rejects a bad path, a missing folder, a missing file, a file that is not HDF5 and an .h5 without features', async () => {
    await expect(saveFeatures('', computed)).rejects.toThrow(ArgumentError);
    await expect(saveFeatures(join(dir, 'missing', 'features.h5'), computed)).rejects.toThrow(FileWriteError);
    await expect(saveFeatures(join(dir, 'missing', 'features.h5'), computed)).rejects.toThrow(/'.*features\.h5': its folder does not exist \(ENOENT\)/);
    await expect(loadFeatures(join(dir, 'missing.h5'))).rejects.toThrow(WeightsFileError);
    await expect(loadFeatures(join(dir, 'missing.h5'))).rejects.toThrow(/Cannot read feature file '.*missing\.h5': no such file/);
    const text = join(dir, 'text.h5');
    writeFileSync(text, 'not HDF5');
    await expect(loadFeatures(text)).rejects.toThrow(WeightsFileError);
    await expect(loadFeatures(text)).rejects.toThrow(/not an HDF5 file/);
    await expect(loadFeatures(`${H5_DIR}tiny_legacy.h5`)).rejects.toThrow(/has no 'features' dataset/);
  });
});

describe.skipIf(smallDiskSkipReason !== undefined)(`saveFeatures where it cannot write${smallDiskSkipReason ? ` (skipped: ${smallDiskSkipReason})` : ''}`, () => {
  let disk: SmallDisk | undefined;
  afterEach(() => {
    disk?.unmount();
    disk = undefined;
  });
  const previous = join(dir, 'previous.h5');
  beforeAll(() => saveFeatures(previous, { features: tf.ones([2, 3]), labels: null, classNames: ['only'] }));

  // Features of 64 KiB: with 8 KiB free HDF5 writes part of them.
  it.each([0, 8 * 1024])('on a full disk (%i bytes free) throws FileWriteError and keeps the previous file', async (free) => {
    disk = mountSmallDisk(256 * 1024, { populate: (folder) => copyFileSync(previous, join(folder, 'features.h5')) });
    disk.fill(free);
    const path = join(disk.dir, 'features.h5');
    const features = tf.randomUniform([16, 1024], 0, 1, 'float32', 7);
    const failure = saveFeatures(path, { features, labels: null, classNames: null });
    await expect(failure).rejects.toThrow(FileWriteError);
    await expect(failure).rejects.toThrow(new RegExp(`Cannot write '${path}': .*Nothing was replaced`));
    expect(readdirSync(disk.dir).sort()).toEqual(['features.h5', 'filler']);
    expect(readFileSync(path).equals(readFileSync(previous))).toBe(true);
    features.dispose();
  });

  it('throws FileWriteError for a read-only folder', async () => {
    disk = mountSmallDisk(64 * 1024, { readOnly: true });
    await expect(saveFeatures(join(disk.dir, 'features.h5'), computed)).rejects.toThrow(FileWriteError);
    await expect(saveFeatures(join(disk.dir, 'features.h5'), computed)).rejects.toThrow(/the file system is read-only \(EROFS\)/);
  });
});

describe.skipIf(h5pySkipReason !== undefined)(`saveFeatures as h5py reads it${h5pySkipReason ? ` (skipped: ${h5pySkipReason})` : ''}`, () => {
  it('has float32 features and labels, and the class names as strings', async () => {
    const path = join(dir, 'for-h5py.h5');
    await saveFeatures(path, computed);
    const file = describeH5(path);
    expect(Object.keys(file.datasets).sort()).toEqual(['features', 'labels']);
    expect([file.datasets.features!.dtype, file.datasets.features!.shape]).toEqual(['<f4', [6, 10]]);
    expect([file.datasets.labels!.dtype, file.datasets.labels!.values]).toEqual(['<f4', [0, 0, 0, 1, 1, 1]]);
    expect((file.datasets.features!.values as number[][]).flat()).toEqual(Array.from(computed.features.dataSync()));
    expect(file.attributes['/class_names']).toMatchObject({ variable: true, charset: 'utf-8', shape: [2], value: ['cats', 'dogs'] });
  });
});
