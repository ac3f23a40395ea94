// The fine-tuning example's data: the repository's test photos, one class each, turned into as many samples
// as asked for by seeded augmentation (crop, flip, brightness, contrast). Pixels stay in [0, 255]; the model's
// preprocessing comes after.
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { imageDatasetFromDirectory, randomBrightness, randomContrast, randomCrop, randomFlip, seededRandom } from '../src/index';

export const PHOTOS_DIR = fileURLToPath(new URL('../test/data/images/', import.meta.url));

export interface PhotoDataset {
  /** [samples, size, size, 3], the photos in turn, `perPhoto` samples each. */
  images: tf.Tensor4D;
  /** One-hot, [samples, classes]. */
  labels: tf.Tensor2D;
  /** The photos' file names without extension, in label order. */
  classNames: string[];
}

export interface PhotoDatasetOptions {
  perPhoto: number;
  /** Side of the square samples. Each is a crop of 64% of the photo's area (its sides at 80%) before jitter. */
  size: number;
  seed: number;
}

export async function augmentedPhotos({ perPhoto, size, seed }: PhotoDatasetOptions): Promise<PhotoDataset> {
  // The photos one by one, in file order, no labels: each photo is its own class.
  const loadSize = Math.round(size / 0.8);
  const photos = await imageDatasetFromDirectory(PHOTOS_DIR, {
    labels: null, imageSize: loadSize, cropToAspectRatio: true, batchSize: null, shuffle: false, verbose: false,
  });
  const random = seededRandom(seed);
  const perClass: tf.Tensor4D[] = [];
  for (const { xs: photo } of await photos.toArray()) {
    perClass.push(
      tf.tidy(() => {
        const copies = tf.tile(tf.expandDims(photo, 0), [perPhoto, 1, 1, 1]) as tf.Tensor4D;
        const cropped = randomCrop(copies, { height: size, width: size, random });
        const flipped = randomFlip(cropped, { mode: 'horizontal', random });
        return randomContrast(randomBrightness(flipped, { factor: 0.15, random }), { factor: 0.3, random });
      }),
    );
    photo.dispose();
  }
  const images = tf.concat(perClass) as tf.Tensor4D;
  tf.dispose(perClass);
  const classIds = perClass.flatMap((_, classId) => Array<number>(perPhoto).fill(classId));
  const labels = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(classIds, 'int32'), perClass.length), 'float32') as tf.Tensor2D);
  return { images, labels, classNames: photos.filePaths.map((path) => basename(path, extname(path))) };
}
