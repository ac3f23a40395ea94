import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify, clearModelCache, loadClassifier, type ClassifyOptions } from '../src/classify';
import { ensureBackend } from '../src/backend';
import { ArgumentError, DownloadError } from '../src/errors';
import { writeLegacyWeights } from './helpers/h5-writer';
import { fixtureInput, generatedWeightsFile, fixtureConfig, softmax } from './helpers/keras-ref';

// MobileNetV3Small (its preprocessing is inside the model, so a raw-pixel tensor goes in as Keras fed it) with
// the fixture's deterministic weights, written as a legacy .h5 file: classify() must rank Keras's logits.
const config = fixtureConfig('MobileNetV3Small', 'top_default');
const classIndex = JSON.parse(readFileSync('src/applications/imagenet_class_index.json', 'utf8')) as Record<string, [string, string]>;
const dir = mkdtempSync(join(tmpdir(), 'keras-classify-one-line-'));
const weights = join(dir, 'mobilenet_v3_small.h5');
const ELEPHANT = 'test/data/images/elephant.jpg';
const CAT = 'test/data/images/cat.jpg';
// The bundled official file for MobileNet α=0.25 at 128×128, with what Keras 3 gives with it on the test photos.
const BUNDLED = {
  model: 'MobileNet' as const,
  weights: 'models/mobilenet_2_5_128_tf.h5',
  modelOptions: { alpha: 0.25, inputShape: [128, 128, 3] },
} satisfies ClassifyOptions;
const kerasBundled = JSON.parse(readFileSync('test/fixtures/keras-ref/real/mobilenet_025_128_predictions.json', 'utf8')) as {
  images: Record<string, [string, string, number][]>;
};
const saved = { ...process.env };

beforeAll(async () => {
  await ensureBackend();
  await writeLegacyWeights(weights, generatedWeightsFile(config));
  process.env.KERAS_HOME = join(dir, 'keras-home');
  process.env.KERAS_APPLICATIONS_OFFLINE = '1';
});
afterAll(async () => {
  await clearModelCache();
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

/** classify()'s top 3 for the fixture's input, checked against Keras's logits. */
async function expectKerasTop3(): Promise<void> {
  const input = fixtureInput(config) as tf.Tensor4D;
  const [predictions] = await classify(input, { model: 'MobileNetV3Small', weights, top: 3 });
  input.dispose();
  const expected = softmax(config.numerics.output.values!)
    .map((p, i) => [p, i] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, 3);
  expect(predictions!.map((p) => p.classId)).toEqual(expected.map(([, i]) => classIndex[i]![0]));
  expect(predictions!.map((p) => p.className)).toEqual(expected.map(([, i]) => classIndex[i]![1]));
  predictions!.forEach((p, k) => expect(Math.abs(p.probability - expected[k]![0])).toBeLessThan(1e-4 * expected[0]![0]));
}

describe('classify', () => {
  it("ranks Keras's classes for a pixel tensor, with Keras's probabilities", expectKerasTop3);

  it('predicts on the engine KERAS_APPLICATIONS_ENGINE forces, with the same numbers on each', async () => {
    for (const engine of ['onnxruntime', 'tfjs-fused', 'tfjs']) {
      await clearModelCache();
      process.env.KERAS_APPLICATIONS_ENGINE = engine;
      await expectKerasTop3();
    }
    await clearModelCache();
    process.env.KERAS_APPLICATIONS_ENGINE = 'pytorch';
    await expect(classify(ELEPHANT, { model: 'MobileNetV3Small', weights })).rejects.toThrow(/KERAS_APPLICATIONS_ENGINE: unknown engine 'pytorch'/);
    delete process.env.KERAS_APPLICATIONS_ENGINE;
  });

  it('builds the model once per process and weights, and clearModelCache disposes it', async () => {
    const first = await loadClassifier('MobileNetV3Small', { weights });
    await classify(ELEPHANT, { model: 'MobileNetV3Small', weights });
    expect(await loadClassifier('MobileNetV3Small', { weights })).toBe(first);
    const random = await loadClassifier('MobileNetV3Small', { weights: null });
    expect(random).not.toBe(first);
    await clearModelCache();
    expect(() => first.predict(tf.zeros([1, 224, 224, 3]))).toThrow(/disposed/);
    expect(await loadClassifier('MobileNetV3Small', { weights })).not.toBe(first);
  });

  it('takes paths, arrays of images and image tensors of any size', async () => {
    const options = { model: 'MobileNetV3Small', weights, top: 4 } as const;
    const one = await classify(ELEPHANT, options);
    expect(one).toHaveLength(4);
    expect(one.map((p) => p.probability)).toEqual([...one.map((p) => p.probability)].sort((a, b) => b - a));
    const both = await classify([ELEPHANT, readFileSync(CAT)], options);
    expect(both).toHaveLength(2);
    expect(both[0]).toEqual(one);
    expect(both[1]).toEqual(await classify(CAT, options));
    const small = tf.randomUniform([97, 130, 3], 0, 255) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    expect(await classify(small, options)).toHaveLength(4);
    expect(tf.memory().numTensors).toBe(before); // no tensor left behind
    small.dispose();
  });

  it.each([
    [ELEPHANT, { top: 0 }, '`top` must be a positive integer. Received: top=0'],
    [ELEPHANT, { model: 'ResNet42' }, "Unknown application 'ResNet42'. Known: VGG16, VGG19, ResNet50"],
    [ELEPHANT, { include_top: false }, 'Unknown option `include_top` for classify'],
    [[], {}, '`classify` needs at least one input. Received: []'],
    ['no/such/image.jpg', {}, "Cannot read image 'no/such/image.jpg'"],
    [[224, 224], {}, 'An image tensor must be [height, width, 3] or [batch, height, width, 3] RGB values. Received: shape [224, 224]'],
    [[2, 2], { model: 'MusicTaggerCRNN' }, 'MusicTaggerCRNN classifies mp3 or wav clips: a path or the file\'s bytes.'],
    [ELEPHANT, { modelOptions: [0.25] }, "`modelOptions` must be an object of the builder's options, e.g. { alpha: 0.25, inputShape: [128, 128, 3] }. Received: modelOptions=[0.25]"],
    [ELEPHANT, { modelOptions: { includeTop: false } }, '`modelOptions.includeTop` is not allowed: classify keeps the model\'s top'],
    [ELEPHANT, { modelOptions: { weights: null } }, '`modelOptions.weights` is not allowed'],
    [ELEPHANT, { modelOptions: { alpha: Number.NaN } }, '`modelOptions.alpha` must be a finite number, a string, a boolean, null or an array of them. Received: modelOptions.alpha=NaN'],
    [ELEPHANT, { modelOptions: { inputShape: [0, 128, 3] } }, '`modelOptions.inputShape` must be [height, width, channels] with sizes >= 1 (null: free), e.g. [128, 128, 3]. Received: modelOptions.inputShape=[0,128,3]'],
    [ELEPHANT, { modelOptions: { inputShape: '128x128' } }, "`modelOptions.inputShape` must be [height, width, channels] with sizes >= 1 (null: free), e.g. [128, 128, 3]. Received: modelOptions.inputShape='128x128'"],
    // The builder checks its own options: ResNet50 has no width.
    [ELEPHANT, { model: 'ResNet50', weights: null, modelOptions: { alpha: 0.25 } }, 'Unknown option `alpha` for ResNet50.'],
    [ELEPHANT, { ...BUNDLED, modelOptions: { alpha: 0.25, inputShape: [16, 16, 3] } }, 'Input size must be at least 32x32'],
  ])('rejects %j (a shape: a tensor of it) with %j', async (input, options, message) => {
    // A shape stands for a tensor of it, made here: the backend starts in beforeAll.
    const isShape = Array.isArray(input) && input.length > 0;
    const value = isShape ? tf.zeros(input as number[]) : input;
    const error = await classify(value as never, options as never).catch((e: unknown) => e);
    if (value instanceof tf.Tensor) value.dispose();
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toContain(message);
  });

  it("builds the variant modelOptions ask for, loads images at its size, and gives Keras's classes and probabilities", async () => {
    const images = Object.keys(kerasBundled.images);
    const results = await classify(images.map((name) => `test/data/images/${name}`), BUNDLED);
    results.forEach((predictions, i) => {
      const expected = kerasBundled.images[images[i]!]!;
      expect(predictions.map((p) => [p.classId, p.className])).toEqual(expected.map(([classId, className]) => [classId, className]));
      predictions.forEach((p, k) => expect(Math.abs(p.probability - expected[k]![2])).toBeLessThan(1e-4));
    });
    expect(results[images.indexOf('elephant.jpg')]![0]!.className).toBe('African_elephant');
    const model = await loadClassifier('MobileNet', BUNDLED);
    expect(model.inputs[0]!.shape).toEqual([null, 128, 128, 3]);
  });

  it('keeps one model per set of model options, whatever their order', async () => {
    const { model, weights } = BUNDLED;
    const first = await loadClassifier(model, BUNDLED);
    expect(await loadClassifier(model, { weights, modelOptions: { inputShape: [128, 128, 3], alpha: 0.25, dropout: undefined } })).toBe(first);
    const wider = await loadClassifier(model, { weights: null, modelOptions: { alpha: 0.5, inputShape: [128, 128, 3] } });
    expect(wider).not.toBe(first);
    expect(wider.getLayer('conv1').getWeights()[0]!.shape).toEqual([3, 3, 3, 16]); // Keras: int(32 * alpha) filters
    expect(await loadClassifier(model, { weights: null, modelOptions: { alpha: 0.5, inputShape: [128, 128, 3] } })).toBe(wider);
  });

  it('leaves no tensor behind when one input of several is rejected', async () => {
    const good = tf.zeros([50, 60, 3]) as tf.Tensor3D;
    const bad = tf.zeros([50, 60]) as unknown as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const error = await classify([good, ELEPHANT, bad], { model: 'MobileNetV3Small', weights }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([good, bad]);
  });

  it("offline without the official file, names its URL and where to put it (and keeps no failed build)", async () => {
    const error = await classify(ELEPHANT, { model: 'MobileNetV3Small' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toContain(
      'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float.h5',
    );
    expect((error as Error).message).toContain(join(dir, 'keras-home', 'models', 'weights_mobilenet_v3_small_224_1.0_float.h5'));
    expect(await loadClassifier('MobileNetV3Small').catch((e: unknown) => e)).toBeInstanceOf(DownloadError);
  });
  it('keeps a newer build cached when an older one fails after clearModelCache', async () => {
    // Weights from 127.0.0.1, each request answered (404) when the test says, so the two builds fail in order.
    const waiting: ServerResponse[] = [];
    const server = createServer((_, res) => waiting.push(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow.h5`;
    const requests = async (count: number) => {
      while (waiting.length < count) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    delete process.env.KERAS_APPLICATIONS_OFFLINE;
    try {
      const older = loadClassifier('MobileNetV3Small', { weights: url });
      await requests(1);
      const cleared = clearModelCache();
      const newer = loadClassifier('MobileNetV3Small', { weights: url });
      await requests(2);
      waiting[0]!.writeHead(404).end();
      expect(await older.catch((e: unknown) => e)).toBeInstanceOf(DownloadError);
      await cleared;
      expect(loadClassifier('MobileNetV3Small', { weights: url })).toBe(newer);
      waiting[1]!.writeHead(404).end();
      expect(await newer.catch((e: unknown) => e)).toBeInstanceOf(DownloadError);
    } finally {
      process.env.KERAS_APPLICATIONS_OFFLINE = '1';
      for (const res of waiting) if (!res.writableEnded) res.writeHead(404).end();
      server.close();
    }
  });
});
