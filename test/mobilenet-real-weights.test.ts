import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mobilenet, type MobileNetOptions } from '../src/applications/mobilenet';
import { DownloadError } from '../src/errors';
import { preprocessInput } from '../src/applications/registry';
import { loadWeights } from '../src/weights/apply';
import { loadImageTensor } from '../src/image/image';
import { relativeError } from './helpers/keras-ref';

// Real ImageNet weights (MobileNet α=0.25, 224, no top, written by Keras 2) on real photos: the pixels Keras
// fed the model and the 256 pooled features it computed (test/fixtures/keras-ref/README.md, "Real weights").
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const WEIGHTS = here('data/weights/mobilenet_2_5_224_tf_no_top.h5');
const REAL = here('fixtures/keras-ref/real/');
const IMAGES = here('data/images/');

interface RealImage {
  loaded_pixels: { png: string; sum: number };
  preprocessed_input: { sum: number; first5: number[] };
  features: { values: number[] };
}
const expected = JSON.parse(readFileSync(`${REAL}mobilenet_025_features.json`, 'utf8')) as { images: Record<string, RealImage> };

const sum = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0);

describe('MobileNet α=0.25 with the official Keras 2 file gives Keras features on real photos', () => {
  const options: MobileNetOptions = { alpha: 0.25, includeTop: false, pooling: 'avg', inputShape: [224, 224, 3] };
  let model: tfl.LayersModel;
  /** The same model built empty, then given the file by Keras's legacy rule (weighted layers in order). */
  let byOrder: tfl.LayersModel;
  beforeAll(async () => {
    model = await mobilenet({ ...options, weights: WEIGHTS });
    byOrder = await mobilenet({ ...options, weights: null });
    await loadWeights(byOrder, WEIGHTS);
  });
  afterAll(() => {
    model.dispose();
    byOrder.dispose();
  });

  /** The model's pooled features for a batch of one, and their relative error against Keras's. */
  async function featureError(built: tfl.LayersModel, input: tf.Tensor, keras: RealImage): Promise<number> {
    const features = built.predict(input) as tf.Tensor;
    expect(features.shape).toEqual([1, 256]);
    const error = relativeError(await features.data(), keras.features.values);
    features.dispose();
    return error;
  }

  for (const [image, keras] of Object.entries(expected.images)) {
    it(image, async () => {
      const pixels = await loadImageTensor(`${REAL}${keras.loaded_pixels.png}`);
      expect(sum(await pixels.data())).toBe(keras.loaded_pixels.sum);
      const batch = tf.expandDims(pixels, 0);
      const input = preprocessInput(batch, 'tf');
      const values = await input.data();
      expect(sum(values)).toBeCloseTo(keras.preprocessed_input.sum, 2);
      expect(Array.from(values.subarray(0, 5))).toEqual(keras.preprocessed_input.first5.map(Math.fround));
      for (const built of [model, byOrder]) expect(await featureError(built, input, keras)).toBeLessThanOrEqual(1e-4);
      tf.dispose([pixels, batch, input]);
    });

    // End to end from the photo: loadImage gives Keras's pixels exactly (test/image.test.ts), so the
    // features match as closely as from Keras's own pixels (the issue asks for 1e-3).
    it(`${image} end to end: the JPEG through loadImageTensor and preprocessInput('MobileNet')`, async () => {
      const pixels = await loadImageTensor(`${IMAGES}${image}`, { targetSize: [224, 224] });
      expect(sum(await pixels.data())).toBe(keras.loaded_pixels.sum);
      const batch = tf.expandDims(pixels, 0);
      const input = preprocessInput(batch, 'MobileNet');
      expect(await featureError(model, input, keras)).toBeLessThanOrEqual(1e-4);
      tf.dispose([pixels, batch, input]);
    });
  }

  it("weights: 'imagenet' loads the same file from the Keras cache; a truncated copy is refused (Keras publishes no hash)", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'keras-mobilenet-'));
    mkdirSync(join(cacheDir, 'models'));
    const cached = join(cacheDir, 'models', 'mobilenet_2_5_224_tf_no_top.h5');
    copyFileSync(WEIGHTS, cached);
    const official = await mobilenet({ ...options, cacheDir, offline: true });
    model.getWeights().forEach((weight, i) => expect(weight.dataSync()).toEqual(official.getWeights()[i]!.dataSync()));
    official.dispose();
    writeFileSync(cached, readFileSync(WEIGHTS).subarray(0, 100_000));
    const refused = mobilenet({ ...options, cacheDir, offline: true });
    await expect(refused).rejects.toThrow(DownloadError);
    await expect(refused).rejects.toThrow(/it is truncated: 100000 bytes/);
  });
});
