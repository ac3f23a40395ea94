import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { ArgumentError } from '../src/errors';
import { imageDatasetFromDirectory, type ImageBatch, type ImageDataset, type ImageDatasetOptions } from '../src/data/dataset';
import { writeImage } from './helpers/image-folder';

// A folder laid out as Keras expects: one sub-folder per class. Every image is one flat grey whose value
// names the file (FILE_VALUES), so a batch's pixels tell which files it holds.
const root = mkdtempSync(join(tmpdir(), 'image-folder-'));
const FILES: Record<string, string[]> = {
  cats: ['c1.png', 'c2.PNG', 'sub/c3.png', 'z.jpg'],
  dogs: ['d1.png', 'd2.png', 'd3.jpeg'],
  birds: ['b1.png', 'b2.png', 'b3.png'],
};
const FILE_VALUES = new Map<string, number>();
const QUIET = { verbose: false } as const;

beforeAll(async () => {
  await ensureBackend();
  let value = 10;
  for (const [folder, files] of Object.entries(FILES)) {
    for (const file of files) {
      const path = join(root, folder, file);
      await writeImage(path, value);
      FILE_VALUES.set(path, value);
      value += 20;
    }
  }
  // Not indexed: a hidden folder, a file that is not an image, a file at the top.
  await writeImage(join(root, '.hidden', 'h.png'), 1);
  writeFileSync(join(root, 'cats', 'notes.txt'), 'not an image');
  await writeImage(join(root, 'top.png'), 2);
});

/** Every element of one pass, as plain arrays; the tensors are disposed. */
async function pass(dataset: ImageDataset): Promise<{ xs: number[][]; shapes: number[][]; ys: unknown[]; dtypes: string[] }> {
  const out = { xs: [] as number[][], shapes: [] as number[][], ys: [] as unknown[], dtypes: [] as string[] };
  await dataset.forEachAsync((element: ImageBatch) => {
    out.shapes.push(element.xs.shape, ...(element.ys ? [element.ys.shape] : []));
    out.xs.push(Array.from(element.xs.dataSync()));
    if (element.ys) {
      out.ys.push(element.ys.arraySync());
      out.dtypes.push(element.ys.dtype);
    }
    tf.dispose(element as tf.TensorContainer);
  });
  return out;
}

/** The file of each image of a batched pass, from its grey value. */
function filesOf(xs: number[][], imageSize: number): string[] {
  const byValue = new Map([...FILE_VALUES].map(([path, value]) => [value, path]));
  return xs.flatMap((batch) => {
    const files: string[] = [];
    for (let i = 0; i < batch.length; i += imageSize) files.push(byValue.get(Math.round(batch[i]!)) ?? `value ${batch[i]}`);
    return files;
  });
}

const SMALL: ImageDatasetOptions = { ...QUIET, imageSize: 4 };
const PIXELS = 4 * 4 * 3;

describe('imageDatasetFromDirectory: files and classes', () => {
  it('lists classes sorted and files as Keras walks them (hidden folders, other files and the top level left out)', async () => {
    const dataset = await imageDatasetFromDirectory(root, { ...SMALL, shuffle: false });
    expect(dataset.classNames).toEqual(['birds', 'cats', 'dogs']);
    // Per class: the folder's own files sorted (upper-case extensions too), then its sub-folders'.
    const expected = ['birds/b1.png', 'birds/b2.png', 'birds/b3.png', 'cats/c1.png', 'cats/c2.PNG', 'cats/z.jpg', 'cats/sub/c3.png',
      'dogs/d1.png', 'dogs/d2.png', 'dogs/d3.jpeg'].map((file) => join(root, file));
    expect(dataset.filePaths).toEqual(expected);
    const { xs, ys } = await pass(dataset);
    expect(filesOf(xs, PIXELS)).toEqual(expected);
    expect(ys.flat()).toEqual([0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
  });

  it('takes the given classNames, in their order', async () => {
    const dataset = await imageDatasetFromDirectory(root, { ...SMALL, shuffle: false, classNames: ['dogs', 'birds'] });
    expect(dataset.classNames).toEqual(['dogs', 'birds']);
    const { ys } = await pass(dataset);
    expect(ys.flat()).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('without labels lists every image under the folder, at any depth, and yields images only', async () => {
    const dataset = await imageDatasetFromDirectory(root, { ...SMALL, shuffle: false, labelMode: null });
    expect(dataset.classNames).toBeNull();
    // As Keras (os.walk from the top): hidden folders are walked too; only class folders starting with '.' are skipped.
    expect(dataset.filePaths).toEqual([join(root, 'top.png'), join(root, '.hidden', 'h.png'), ...(await imageDatasetFromDirectory(root, { ...SMALL, shuffle: false })).filePaths]);
    const { ys, shapes } = await pass(dataset);
    expect(ys).toEqual([]);
    expect(shapes).toEqual([[12, 4, 4, 3]]);
  });

  it('takes explicit labels, one per file in path order, and names the classes after them', async () => {
    const files = (await imageDatasetFromDirectory(root, { ...SMALL, shuffle: false, labelMode: null })).filePaths;
    const labels = files.map((_, i) => (i % 2) * 5);
    const dataset = await imageDatasetFromDirectory(root, { ...SMALL, shuffle: false, labels, batchSize: 4 });
    expect(dataset.classNames).toEqual(['0', '5']);
    expect((await pass(dataset)).ys.flat()).toEqual(labels);
  });

  it('enters linked folders only with followLinks', async () => {
    const linked = mkdtempSync(join(tmpdir(), 'image-folder-links-'));
    await writeImage(join(linked, 'a', 'own.png'), 40);
    symlinkSync(join(root, 'dogs'), join(linked, 'a', 'link'));
    const without = await imageDatasetFromDirectory(linked, { ...SMALL, classNames: ['a'] });
    const withLinks = await imageDatasetFromDirectory(linked, { ...SMALL, classNames: ['a'], followLinks: true });
    expect(without.filePaths).toEqual([join(linked, 'a', 'own.png')]);
    expect(withLinks.filePaths.sort()).toEqual([join(linked, 'a', 'link', 'd1.png'), join(linked, 'a', 'link', 'd2.png'),
      join(linked, 'a', 'link', 'd3.jpeg'), join(linked, 'a', 'own.png')].sort());
  });
});

describe('imageDatasetFromDirectory: batches', () => {
  it('yields float32 images [batch, h, w, 3] and class indices [batch] (float32, for tfjs), the last batch smaller', async () => {
    const { shapes, dtypes } = await pass(await imageDatasetFromDirectory(root, { ...QUIET, imageSize: [5, 3], batchSize: 4, seed: 1 }));
    expect(shapes).toEqual([[4, 5, 3, 3], [4], [4, 5, 3, 3], [4], [2, 5, 3, 3], [2]]);
    expect(dtypes).toEqual(['float32', 'float32', 'float32']);
  });

  it("gives Keras's label encodings: categorical one-hot rows, binary [batch, 1]", async () => {
    const categorical = await pass(await imageDatasetFromDirectory(root, { ...SMALL, shuffle: false, labelMode: 'categorical', batchSize: 3 }));
    expect(categorical.ys[0]).toEqual([[1, 0, 0], [1, 0, 0], [1, 0, 0]]);
    expect(categorical.ys[1]).toEqual([[0, 1, 0], [0, 1, 0], [0, 1, 0]]);
    expect(categorical.dtypes[0]).toBe('float32');
    const binary = await pass(await imageDatasetFromDirectory(root, { ...SMALL, shuffle: false, labelMode: 'binary', classNames: ['birds', 'dogs'] }));
    expect(binary.ys).toEqual([[[0], [0], [0], [1], [1], [1]]]);
    expect(binary.dtypes).toEqual(['float32']);
  });

  it('yields single images without batching, and channels first when asked', async () => {
    const single = await pass(await imageDatasetFromDirectory(root, { ...SMALL, batchSize: null, seed: 3 }));
    expect(single.shapes.slice(0, 2)).toEqual([[4, 4, 3], []]);
    expect(single.xs).toHaveLength(10);
    const first = await pass(await imageDatasetFromDirectory(root, { ...SMALL, batchSize: 2, dataFormat: 'channels_first', colorMode: 'grayscale', seed: 1 }));
    expect(first.shapes[0]).toEqual([2, 1, 4, 4]);
    const rgba = await pass(await imageDatasetFromDirectory(root, { ...SMALL, batchSize: 10, colorMode: 'rgba', seed: 1 }));
    expect(rgba.shapes[0]).toEqual([10, 4, 4, 4]);
  });

  it('keeps every label with its own image while shuffling', async () => {
    const dataset = await imageDatasetFromDirectory(root, { ...SMALL, batchSize: 3, seed: 7 });
    for (let epoch = 0; epoch < 2; epoch++) {
      const { xs, ys } = await pass(dataset);
      const classes = filesOf(xs, PIXELS).map((file) => dataset.classNames!.indexOf(file.slice(root.length + 1).split('/')[0]!));
      expect(ys.flat()).toEqual(classes);
    }
  });

  it('crops to the aspect ratio when asked instead of stretching', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'image-folder-wide-'));
    // 12 × 4: columns 0-3 black, 4-7 grey 100, 8-11 grey 200; the centred 4 × 4 crop is all 100.
    const pixels = new Uint8Array(12 * 4 * 3);
    for (let i = 0; i < 12 * 4; i++) pixels.fill(Math.floor((i % 12) / 4) * 100, i * 3, i * 3 + 3);
    await writeImage(join(folder, 'wide', 'w.png'), pixels, 12, 4);
    const cropped = await pass(await imageDatasetFromDirectory(folder, { ...SMALL, cropToAspectRatio: true }));
    expect(new Set(cropped.xs[0])).toEqual(new Set([100]));
    const stretched = await pass(await imageDatasetFromDirectory(folder, { ...SMALL, interpolation: 'nearest' }));
    expect(new Set(stretched.xs[0])).toEqual(new Set([0, 100, 200]));
  });

  it('trains a model with fitDataset, with int labels and with categorical ones', async () => {
    for (const [labelMode, loss] of [['int', 'sparseCategoricalCrossentropy'], ['categorical', 'categoricalCrossentropy']] as const) {
      const dataset = await imageDatasetFromDirectory(root, { ...SMALL, batchSize: 4, seed: 2, labelMode });
      const model = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [4, 4, 3] }), tfl.layers.dense({ units: 3, activation: 'softmax' })] });
      model.compile({ optimizer: 'sgd', loss, metrics: ['accuracy'] });
      const history = await model.fitDataset(dataset, { epochs: 2, verbose: 0 });
      expect(history.history.loss).toHaveLength(2);
      model.dispose();
    }
  });

  it('leaves no tensor behind but the ones it yields', async () => {
    const dataset = await imageDatasetFromDirectory(root, { ...SMALL, batchSize: 3, seed: 4, labelMode: 'categorical' });
    const before = tf.memory().numTensors;
    await pass(dataset);
    await pass(await imageDatasetFromDirectory(root, { ...SMALL, batchSize: null, seed: 4 }));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('imageDatasetFromDirectory: seeds and splits', () => {
  it('gives the same order for the same seed, another for another seed, and reshuffles every pass', async () => {
    const order = async (seed: number) => filesOf((await pass(await imageDatasetFromDirectory(root, { ...SMALL, seed }))).xs, PIXELS);
    const [a, b, c] = [await order(11), await order(11), await order(12)];
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    expect([...c].sort()).toEqual([...a].sort());
    const dataset = await imageDatasetFromDirectory(root, { ...SMALL, seed: 11 });
    const first = filesOf((await pass(dataset)).xs, PIXELS);
    const second = filesOf((await pass(dataset)).xs, PIXELS);
    expect(first).toEqual(a);
    expect(first).toEqual(dataset.filePaths);
    expect(second).not.toEqual(first);
    expect([...second].sort()).toEqual([...first].sort());
  });

  it('splits the seeded order: the last floor(split × n) files for validation, the rest for training', async () => {
    const options = { ...SMALL, seed: 5, validationSplit: 0.25 } as const;
    const all = await imageDatasetFromDirectory(root, { ...SMALL, seed: 5 });
    const training = await imageDatasetFromDirectory(root, { ...options, subset: 'training' });
    const validation = await imageDatasetFromDirectory(root, { ...options, subset: 'validation' });
    expect(training.filePaths).toEqual(all.filePaths.slice(0, 8));
    expect(validation.filePaths).toEqual(all.filePaths.slice(8));
    const [bothTraining, bothValidation] = await imageDatasetFromDirectory(root, { ...options, subset: 'both' });
    expect(bothTraining.filePaths).toEqual(training.filePaths);
    expect(bothValidation.filePaths).toEqual(validation.filePaths);
    expect(bothValidation.classNames).toEqual(['birds', 'cats', 'dogs']);
    // The validation half of 'both' is not shuffled: every pass is the same.
    const once = filesOf((await pass(bothValidation)).xs, PIXELS);
    expect(filesOf((await pass(bothValidation)).xs, PIXELS)).toEqual(once);
  });
});

describe('imageDatasetFromDirectory: argument rules', () => {
  const rejects = (options: unknown, message: RegExp, directory: string = root) =>
    expect(imageDatasetFromDirectory(directory, { ...QUIET, ...(options as ImageDatasetOptions) })).rejects.toThrow(
      expect.objectContaining({ name: 'ArgumentError', message: expect.stringMatching(message) }),
    );

  it('rejects bad option values, naming the option and the value', async () => {
    await rejects({ labelMode: 'sparse' }, /`labelMode` must be one of 'int', 'categorical', 'binary', or null. Received: labelMode='sparse'/);
    await rejects({ labels: 'folders' }, /`labels` must be 'inferred', null .* Received: labels='folders'/);
    await rejects({ labels: [0, 1], classNames: ['a'] }, /only pass `classNames` if `labels: 'inferred'`/);
    await rejects({ classNames: 'cats' }, /`classNames` must be an array .* Received: classNames='cats'/);
    await rejects({ colorMode: 'bgr' }, /`colorMode` must be one of 'rgb', 'rgba', 'grayscale'. Received: colorMode='bgr'/);
    await rejects({ imageSize: [4] }, /`imageSize` must be \[height, width\].*Received: imageSize=\[4\]/);
    await rejects({ imageSize: 0 }, /Received: imageSize=0/);
    await rejects({ interpolation: 'gaussian' }, /`interpolation` must be one of 'bilinear', .*Received: interpolation='gaussian'/);
    await rejects({ batchSize: 0 }, /`batchSize` must be a positive integer or null .*Received: batchSize=0/);
    await rejects({ shuffle: 'yes' }, /`shuffle` must be true or false. Received: shuffle='yes'/);
    await rejects({ followLinks: 1 }, /`followLinks` must be true or false/);
    await rejects({ cropToAspectRatio: null }, /`cropToAspectRatio` must be true or false/);
    await rejects({ verbose: 'no' }, /`verbose` must be true or false/);
    await rejects({ dataFormat: 'NHWC' }, /`dataFormat` must be 'channels_last' or 'channels_first'. Received: dataFormat='NHWC'/);
    await rejects({ seed: 1.5 }, /`seed` must be an integer or null. Received: seed=1.5/);
    await rejects({ image_size: 4 }, /Unknown option `image_size` for imageDatasetFromDirectory/);
  });

  it("applies Keras's validation-split rules", async () => {
    await rejects({ validationSplit: 1.5, subset: 'training', seed: 1 }, /`validationSplit` must be between 0 and 1.*Received: validationSplit=1.5/);
    await rejects({ validationSplit: 0.2, seed: 1 }, /If `subset` is set, `validationSplit` must be set, and inversely/);
    await rejects({ subset: 'training', seed: 1 }, /If `subset` is set, `validationSplit` must be set, and inversely/);
    await rejects({ validationSplit: 0.2, subset: 'test', seed: 1 }, /`subset` must be 'training', 'validation', 'both' or null. Received: subset='test'/);
    await rejects({ validationSplit: 0.2, subset: 'training' }, /you must provide a `seed`/);
    await rejects({ validationSplit: 0.01, subset: 'validation', seed: 1 }, /No validation images found in directory/);
  });

  it('rejects what the folder does not allow', async () => {
    await rejects({ labelMode: 'binary' }, /there must be exactly 2 classNames. Received: classNames=\["birds","cats","dogs"\]/);
    await rejects({ classNames: ['cats', 'cows'] }, /did not match the names of the sub-folders.*Expected: \["birds","cats","dogs"\]/);
    await rejects({ labelMode: null, classNames: ['cats'] }, /`classNames` cannot be specified/);
    await rejects({ labels: [0, 1, 0] }, /labels.length is 3 while we found 12 files/);
    await rejects({}, /No images found in directory/, mkdtempSync(join(tmpdir(), 'image-folder-empty-')));
    await rejects({}, /`directory` must be a readable folder. Received: directory='\/no\/such\/folder' \(ENOENT\)/, '/no/such/folder');
    await expect(imageDatasetFromDirectory('')).rejects.toThrow(ArgumentError);
  });
});
