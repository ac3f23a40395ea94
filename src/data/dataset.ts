// Keras's `keras.utils.image_dataset_from_directory` as a tfjs-data Dataset: one sub-folder per class, the
// files listed and split as Keras lists and splits them, images decoded a batch at a time as the dataset is
// iterated, so a folder of any size is never held in memory. Node.js only (it reads folders);
// @tensorflow/tfjs-data (an optional peer) is imported on the first call.
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '@tensorflow/tfjs-data';
import { checkOptionNames, formatValue, validateBoolean } from '../arguments';
import { ensureBackend } from '../backend';
import { isNode } from '../env';
import { ArgumentError, KerasApplicationsError } from '../errors';
import { loadImage, stackImages, type ColorMode, type DataFormat, type DecodedImage, type Interpolation } from '../image/image';
import { seededRandom, shuffled } from './seeded-random';

/** The extensions Keras indexes (ALLOWLIST_FORMATS), compared lower-cased. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.bmp', '.gif', '.jpeg', '.jpg', '.png'];

export type LabelMode = 'int' | 'categorical' | 'binary';
export type Subset = 'training' | 'validation' | 'both';

/**
 * Keras's interpolation names that Pillow's resize (what `loadImage` uses) has: `'area'` is Pillow's box
 * filter, `'lanczos3'` its Lanczos. Keras's `'lanczos5'`, `'gaussian'`, `'mitchellcubic'` have no Pillow twin.
 */
export type DatasetInterpolation = 'bilinear' | 'nearest' | 'bicubic' | 'area' | 'lanczos3';

const PILLOW_FILTERS: Record<DatasetInterpolation, Interpolation> = {
  bilinear: 'bilinear',
  nearest: 'nearest',
  bicubic: 'bicubic',
  area: 'box',
  lanczos3: 'lanczos',
};

export interface ImageDatasetOptions {
  /** `'inferred'` (from the sub-folders, the default), `null` (no labels), or one integer per file in path order. */
  labels?: 'inferred' | readonly number[] | null;
  /**
   * `'int'` (default; class indices `[batch]`, float32 as tfjs's sparse losses need, int32 in Keras), `'categorical'`
   * (one-hot `[batch, classes]`), `'binary'` (`[batch, 1]`), `null` (no labels).
   */
  labelMode?: LabelMode | null;
  /** With `labels: 'inferred'`: which sub-folders are the classes, in this order (default: all, sorted). */
  classNames?: readonly string[] | null;
  /** `'rgb'` (default), `'rgba'` or `'grayscale'`. */
  colorMode?: ColorMode;
  /** Images per batch (default 32); `null` yields single images. */
  batchSize?: number | null;
  /** `[height, width]` (or one number for both) every image is resized to; default `[256, 256]`. */
  imageSize?: number | readonly [number, number];
  /** Shuffle the files (default true), again at every pass; false keeps the alphanumeric path order. */
  shuffle?: boolean;
  /** Seed for the shuffles; required with `validationSplit` and `shuffle`, so the two subsets never overlap. */
  seed?: number | null;
  /** Fraction of the files (after the seeded shuffle) kept for validation: the last `floor(split × n)`. */
  validationSplit?: number | null;
  /** `'training'`, `'validation'` or `'both'` (a `[training, validation]` pair); only with `validationSplit`. */
  subset?: Subset | null;
  /** Resize filter (default `'bilinear'`). */
  interpolation?: DatasetInterpolation;
  /** Descend into sub-folders that are symbolic links (default false). */
  followLinks?: boolean;
  /** Resize the largest centred crop of the target's aspect ratio instead of stretching (default false). */
  cropToAspectRatio?: boolean;
  /** `'channels_last'` (default, `[h, w, c]`) or `'channels_first'`. */
  dataFormat?: 'channels_last' | 'channels_first';
  /** Print "Found N files belonging to K classes." and the split sizes, as Keras does (default true). */
  verbose?: boolean;
}

/** One element: images `xs` (float32, 0–255) and, unless labels are off, their labels `ys`. */
export interface ImageBatch extends tf.TensorContainerObject {
  xs: tf.Tensor;
  ys?: tf.Tensor;
}

/** A tfjs-data Dataset (`model.fitDataset(ds, …)`), with Keras's `class_names` and `file_paths`. */
export type ImageDataset = Dataset<ImageBatch> & {
  /** Class index → name; null without labels. */
  readonly classNames: string[] | null;
  /** The files of this dataset, in the order of the first pass when shuffling. */
  readonly filePaths: string[];
};

const OPTION_NAMES = [
  'labels', 'labelMode', 'classNames', 'colorMode', 'batchSize', 'imageSize', 'shuffle', 'seed', 'validationSplit',
  'subset', 'interpolation', 'followLinks', 'cropToAspectRatio', 'dataFormat', 'verbose',
];

/** Checked options, Keras's defaults filled in. */
interface Settings {
  labels: 'inferred' | readonly number[] | null;
  labelMode: LabelMode | null;
  classNames: readonly string[] | null;
  colorMode: ColorMode;
  batchSize: number | null;
  imageSize: [number, number];
  shuffle: boolean;
  seed: number;
  validationSplit: number | null;
  subset: Subset | null;
  interpolation: Interpolation;
  followLinks: boolean;
  cropToAspectRatio: boolean;
  dataFormat: DataFormat;
  verbose: boolean;
}

/** Files with their class indices (labels null without labels). */
interface Index {
  paths: string[];
  labels: number[] | null;
  classNames: string[] | null;
}

/**
 * Keras's `image_dataset_from_directory`: a Dataset of `{ xs, ys }` batches from `directory`, whose
 * sub-folders are the classes (names sorted; files found at any depth). Files are shuffled with `seed`
 * before the split, so `'training'` and `'validation'` with one seed never share a file.
 * Unlike Keras (which shuffles in a buffer of 8 batches), every pass is a full seeded reshuffle, and images
 * are resized with Pillow's filters as `loadImage` does, not with `tf.image.resize`.
 */
export async function imageDatasetFromDirectory(
  directory: string,
  options: ImageDatasetOptions & { subset: 'both' },
): Promise<[ImageDataset, ImageDataset]>;
export async function imageDatasetFromDirectory(directory: string, options?: ImageDatasetOptions): Promise<ImageDataset>;
export async function imageDatasetFromDirectory(
  directory: string,
  options: ImageDatasetOptions = {},
): Promise<ImageDataset | [ImageDataset, ImageDataset]> {
  if (!isNode()) throw new KerasApplicationsError('imageDatasetFromDirectory reads folders and needs Node.js.');
  if (typeof directory !== 'string' || directory === '') {
    throw new ArgumentError(`\`directory\` must be the path of a folder. Received: directory=${formatValue(directory)}`);
  }
  const settings = validate(options);
  const tfd = await importTfjsData();
  const index = await indexDirectory(directory, settings);
  if (settings.labelMode === 'binary' && index.classNames!.length !== 2) {
    throw new ArgumentError(
      `When passing \`labelMode: 'binary'\`, there must be exactly 2 classNames. Received: classNames=${formatValue(index.classNames)}`,
    );
  }
  const make = (subset: 'training' | 'validation' | null, shuffle: boolean): ImageDataset => {
    const part = splitIndex(index, settings, subset);
    if (part.paths.length === 0) {
      const which = subset === null ? '' : ` ${subset}`;
      throw new ArgumentError(`No${which} images found in directory ${formatValue(directory)}. Allowed formats: ${IMAGE_EXTENSIONS.join(', ')}`);
    }
    return createDataset(tfd, part, index.classNames, { ...settings, shuffle });
  };
  // As Keras: with 'both', the validation half is never shuffled; a lone 'validation' subset is.
  if (settings.subset === 'both') return [make('training', settings.shuffle), make('validation', false)];
  return make(settings.subset, settings.shuffle);
}

async function importTfjsData(): Promise<typeof import('@tensorflow/tfjs-data')> {
  try {
    return await import('@tensorflow/tfjs-data');
  } catch (error) {
    throw new KerasApplicationsError(
      `imageDatasetFromDirectory needs @tensorflow/tfjs-data (npm install @tensorflow/tfjs-data@4): ${(error as Error).message}`,
    );
  }
}

// ---- Arguments, in the order Keras checks them -------------------------------------------------

function validate(options: ImageDatasetOptions): Settings {
  checkOptionNames('imageDatasetFromDirectory', options, OPTION_NAMES);
  const {
    labels = 'inferred', labelMode = 'int', classNames = null, colorMode = 'rgb', batchSize = 32, imageSize = 256,
    shuffle = true, seed = null, validationSplit = null, subset = null, interpolation = 'bilinear',
    followLinks = false, cropToAspectRatio = false, dataFormat = 'channels_last', verbose = true,
  } = options;
  if (labels !== 'inferred' && labels !== null) {
    if (!Array.isArray(labels) || !labels.every((label) => Number.isInteger(label) && label >= 0)) {
      throw new ArgumentError(
        "`labels` must be 'inferred', null (no labels) or an array of non-negative integers, one per image file " +
          `in path order. Received: labels=${formatValue(labels)}`,
      );
    }
    if (classNames !== null) {
      throw new ArgumentError(`You can only pass \`classNames\` if \`labels: 'inferred'\`. Received: labels=${formatValue(labels)}, classNames=${formatValue(classNames)}`);
    }
  }
  if (labelMode !== null && !['int', 'categorical', 'binary'].includes(labelMode)) {
    throw new ArgumentError(`\`labelMode\` must be one of 'int', 'categorical', 'binary', or null. Received: labelMode=${formatValue(labelMode)}`);
  }
  if (classNames !== null && (!Array.isArray(classNames) || !classNames.every((name) => typeof name === 'string'))) {
    throw new ArgumentError(`\`classNames\` must be an array of sub-folder names or null. Received: classNames=${formatValue(classNames)}`);
  }
  if (!['rgb', 'rgba', 'grayscale'].includes(colorMode)) {
    throw new ArgumentError(`\`colorMode\` must be one of 'rgb', 'rgba', 'grayscale'. Received: colorMode=${formatValue(colorMode)}`);
  }
  const size: unknown[] = typeof imageSize === 'number' ? [imageSize, imageSize] : Array.isArray(imageSize) ? imageSize : [];
  if (size.length !== 2 || !size.every((n) => Number.isInteger(n) && (n as number) > 0)) {
    throw new ArgumentError(`\`imageSize\` must be [height, width] (two positive integers) or one. Received: imageSize=${formatValue(imageSize)}`);
  }
  if (!(interpolation in PILLOW_FILTERS)) {
    throw new ArgumentError(
      `\`interpolation\` must be one of ${Object.keys(PILLOW_FILTERS).map(formatValue).join(', ')} (Keras's 'lanczos5', ` +
        `'gaussian' and 'mitchellcubic' have no Pillow filter). Received: interpolation=${formatValue(interpolation)}`,
    );
  }
  if (batchSize !== null && (!Number.isInteger(batchSize) || batchSize < 1)) {
    throw new ArgumentError(`\`batchSize\` must be a positive integer or null (no batching). Received: batchSize=${formatValue(batchSize)}`);
  }
  for (const [name, value] of Object.entries({ shuffle, followLinks, cropToAspectRatio, verbose })) validateBoolean(name, value);
  if (dataFormat !== 'channels_last' && dataFormat !== 'channels_first') {
    throw new ArgumentError(`\`dataFormat\` must be 'channels_last' or 'channels_first'. Received: dataFormat=${formatValue(dataFormat)}`);
  }
  if (seed !== null && !Number.isInteger(seed)) {
    throw new ArgumentError(`\`seed\` must be an integer or null. Received: seed=${formatValue(seed)}`);
  }
  checkValidationSplit(validationSplit, subset, shuffle, seed);
  const noLabels = labels === null || labelMode === null;
  return {
    labels: noLabels ? null : labels,
    labelMode: noLabels ? null : labelMode,
    classNames,
    colorMode,
    batchSize,
    imageSize: size as [number, number],
    shuffle,
    seed: seed ?? Math.floor(Math.random() * 1e6),
    validationSplit,
    subset,
    interpolation: PILLOW_FILTERS[interpolation],
    followLinks,
    cropToAspectRatio,
    dataFormat,
    verbose,
  };
}

/** Keras's check_validation_split_arg. */
function checkValidationSplit(validationSplit: unknown, subset: unknown, shuffle: boolean, seed: unknown): void {
  if (validationSplit !== null && (typeof validationSplit !== 'number' || !(validationSplit > 0 && validationSplit < 1))) {
    throw new ArgumentError(`\`validationSplit\` must be between 0 and 1 (exclusive) or null. Received: validationSplit=${formatValue(validationSplit)}`);
  }
  if ((validationSplit === null) !== (subset === null)) {
    throw new ArgumentError(
      `If \`subset\` is set, \`validationSplit\` must be set, and inversely. Received: validationSplit=${formatValue(validationSplit)}, subset=${formatValue(subset)}`,
    );
  }
  if (subset !== null && !['training', 'validation', 'both'].includes(subset as string)) {
    throw new ArgumentError(`\`subset\` must be 'training', 'validation', 'both' or null. Received: subset=${formatValue(subset)}`);
  }
  if (validationSplit !== null && shuffle && seed === null) {
    throw new ArgumentError(
      'If using `validationSplit` and shuffling the data, you must provide a `seed`, so that the training and ' +
        'validation subsets do not overlap. Received: seed=null',
    );
  }
}

// ---- Listing the files (Keras's index_directory) -----------------------------------------------

async function indexDirectory(directory: string, settings: Settings): Promise<Index> {
  const { readdir, stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const entries = await readdir(directory, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new ArgumentError(`\`directory\` must be a readable folder. Received: directory=${formatValue(directory)} (${error.code ?? error.message})`);
  });
  let classNames: string[] | null = null;
  let folders = [''];
  if (settings.labels === 'inferred') {
    // Sub-folders (or links to folders), hidden ones left out, sorted.
    const isFolder = async (name: string) => stat(join(directory, name)).then((s) => s.isDirectory(), () => false);
    const names = entries.map((entry) => entry.name).filter((name) => !name.startsWith('.')).sort(compareNames);
    const subdirs = (await Promise.all(names.map(async (name) => ((await isFolder(name)) ? name : undefined)))).filter(
      (name): name is string => name !== undefined,
    );
    if (settings.classNames !== null) {
      const missing = settings.classNames.filter((name) => !subdirs.includes(name));
      if (missing.length > 0) {
        throw new ArgumentError(
          'The `classNames` passed did not match the names of the sub-folders of the target directory. ' +
            `Expected: ${formatValue(subdirs)} (or a subset of it), but received: classNames=${formatValue(settings.classNames)}`,
        );
      }
    }
    classNames = settings.classNames ? [...settings.classNames] : subdirs;
    folders = classNames;
  } else if (settings.classNames !== null) {
    throw new ArgumentError('When `labels` is null or `labelMode` is null (no labels), `classNames` cannot be specified.');
  }
  const perFolder = await Promise.all(folders.map((folder) => listImages(join(directory, folder), settings.followLinks)));
  const paths = perFolder.flat();
  let labels: number[] | null = null;
  if (settings.labels === 'inferred') {
    labels = perFolder.flatMap((files, classIndex) => files.map(() => classIndex));
  } else if (settings.labels !== null) {
    if (settings.labels.length !== paths.length) {
      throw new ArgumentError(
        `Expected the length of \`labels\` to match the number of files in the target directory. ` +
          `labels.length is ${settings.labels.length} while we found ${paths.length} files in directory ${formatValue(directory)}.`,
      );
    }
    labels = [...settings.labels];
    classNames = [...new Set(labels)].sort((a, b) => a - b).map(String);
  }
  if (settings.verbose) {
    console.log(labels === null ? `Found ${paths.length} files.` : `Found ${paths.length} files belonging to ${classNames!.length} classes.`);
  }
  if (!settings.shuffle) return { paths, labels, classNames: labels === null ? null : classNames };
  // Keras shuffles paths and labels with the same seed, i.e. with one permutation.
  const order = shuffled(paths.map((_, i) => i), seededRandom(settings.seed));
  return {
    paths: order.map((i) => paths[i]!),
    labels: labels && order.map((i) => labels[i]!),
    classNames: labels === null ? null : classNames,
  };
}

/**
 * Image files under `folder` at any depth, as Keras walks them: folders in sorted order of their full path,
 * files sorted within each; links to folders are entered only with `followLinks` (os.walk's rule).
 */
async function listImages(folder: string, followLinks: boolean): Promise<string[]> {
  const { readdir, stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const walked: { root: string; files: string[] }[] = [];
  const walk = async (root: string): Promise<void> => {
    const entries = await readdir(root, { withFileTypes: true });
    const files: string[] = [];
    const folders: string[] = [];
    for (const entry of entries) {
      const path = join(root, entry.name);
      const isFolder = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(path).then((s) => s.isDirectory(), () => false)));
      if (!isFolder) files.push(entry.name);
      else if (followLinks || !entry.isSymbolicLink()) folders.push(path);
    }
    walked.push({ root, files: files.filter(isImageName).sort(compareNames) });
    for (const sub of folders) await walk(sub);
  };
  await walk(folder);
  return walked.sort((a, b) => compareNames(a.root, b.root)).flatMap(({ root, files }) => files.map((file) => join(root, file)));
}

function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((extension) => lower.endsWith(extension));
}

/** Python's string order (by code point), which `sorted` uses. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Keras's get_training_or_validation_split: the last `floor(split × n)` files are the validation subset. */
function splitIndex(index: Index, settings: Settings, subset: 'training' | 'validation' | null): Index {
  if (subset === null || settings.validationSplit === null) return index;
  const validationCount = Math.floor(settings.validationSplit * index.paths.length);
  const start = subset === 'training' ? 0 : index.paths.length - validationCount;
  const end = subset === 'training' ? index.paths.length - validationCount : index.paths.length;
  if (settings.verbose) console.log(`Using ${end - start} files for ${subset}.`);
  return { ...index, paths: index.paths.slice(start, end), labels: index.labels && index.labels.slice(start, end) };
}

// ---- The dataset --------------------------------------------------------------------------------

function createDataset(
  tfd: typeof import('@tensorflow/tfjs-data'),
  part: Index,
  classNames: string[] | null,
  settings: Settings,
): ImageDataset {
  const count = part.paths.length;
  const batchSize = settings.batchSize ?? 1;
  let pass = 0;
  const dataset = tfd.generator(async function* () {
    // Each iteration (each epoch of fitDataset) is a new pass: the first keeps the index's order, later
    // ones reshuffle with a seed of their own.
    const thisPass = pass++;
    const order = settings.shuffle && thisPass > 0 ? shuffled(range(count), seededRandom(settings.seed + thisPass)) : range(count);
    await ensureBackend();
    for (let start = 0; start < count; start += batchSize) {
      const members = order.slice(start, start + batchSize);
      const images = await Promise.all(members.map((i) => loadPixels(part.paths[i]!, settings)));
      const labels = part.labels && members.map((i) => part.labels![i]!);
      yield toElement(images, labels, classNames, settings);
    }
  });
  // tfjs-data cannot know a generator's length; fitDataset and `take` use it.
  (dataset as { size: number }).size = Math.ceil(count / batchSize);
  return Object.assign(dataset as Dataset<ImageBatch>, { classNames, filePaths: part.paths });
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

function loadPixels(path: string, settings: Settings): Promise<DecodedImage> {
  return loadImage(path, {
    targetSize: settings.imageSize,
    interpolation: settings.interpolation,
    keepAspectRatio: settings.cropToAspectRatio,
    colorMode: settings.colorMode,
  });
}

/** Stacks the images (and labels) of a batch; without batching, the one image's `[h, w, c]` and its label. */
function toElement(images: DecodedImage[], labels: number[] | null, classNames: string[] | null, settings: Settings): ImageBatch {
  const batched = settings.batchSize !== null;
  return tf.tidy(() => {
    const xs = stackImages(images, { dtype: 'float32', dataFormat: settings.dataFormat });
    if (labels === null) return { xs: batched ? xs : tf.squeeze(xs, [0]) };
    const ys = labelTensor(labels, classNames!.length, settings.labelMode!);
    return batched ? { xs, ys } : { xs: tf.squeeze(xs, [0]), ys: tf.squeeze(ys, [0]) };
  });
}

/**
 * Keras's labels_to_dataset: class indices `[n]`, one-hot rows `[n, k]`, or zeros and ones `[n, 1]`, all float32:
 * Keras gives indices as int32, but tfjs's sparseCategoricalCrossentropy takes float32 labels only.
 */
function labelTensor(labels: number[], classCount: number, labelMode: LabelMode): tf.Tensor {
  if (labelMode === 'int') return tf.tensor1d(labels, 'float32');
  if (labelMode === 'binary') return tf.tensor2d(labels, [labels.length, 1], 'float32');
  return tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), classCount), 'float32');
}
