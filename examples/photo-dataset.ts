// The fine-tuning example's data: the repository's test photos, one class each, turned into as many samples
// as asked for by seeded augmentation (crop, flip, brightness, contrast). Pixels stay in [0, 255]; the model's
// preprocessing comes after.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { loadImageTensor, randomBrightness, randomContrast, randomCrop, randomFlip, seededRandom } from '../src/index';

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

function photoFiles(): string[] {
  return readdirSync(PHOTOS_DIR)
    .filter((file) => /\.(jpe?g|png)$/i.test(file))
    .sort();
}

export async function augmentedPhotos({ perPhoto, size, seed }: PhotoDatasetOptions): Promise<PhotoDataset> {
  const files = photoFiles();
  const random = seededRandom(seed);
  const loadSize = Math.round(size / 0.8);
  const perClass: tf.Tensor4D[] = [];
  for (const file of files) {
    const photo = await loadImageTensor(`${PHOTOS_DIR}${file}`, { targetSize: [loadSize, loadSize], keepAspectRatio: true });
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
  const classIds = files.flatMap((_, classId) => Array<number>(perPhoto).fill(classId));
  const labels = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(classIds, 'int32'), files.length), 'float32') as tf.Tensor2D);
  return { images, labels, classNames: files.map((file) => file.replace(/\.[^.]+$/, '')) };
}
