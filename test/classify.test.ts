import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePredictions, DownloadError, resnet50 } from '../src/index';
import { writeLegacyWeights } from './helpers/h5-writer';
import { fixtureInput, generatedWeightsFile, fixtureConfig, relativeError, softmax } from './helpers/keras-ref';

// Classification end to end with files the test writes: the official top-1000 file cannot be had here,
// so ResNet50 gets the fixture's deterministic weights as a Keras-2-style legacy .h5 file.
const config = fixtureConfig('ResNet50', 'top_default');
const classIndex = JSON.parse(readFileSync('src/applications/imagenet_class_index.json', 'utf8')) as Record<string, [string, string]>;
const dir = mkdtempSync(join(tmpdir(), 'keras-classify-'));
const weightsPath = join(dir, 'resnet50_weights_tf_dim_ordering_tf_kernels.h5');
const saved = { ...process.env };

beforeAll(async () => {
  await writeLegacyWeights(weightsPath, generatedWeightsFile(config));
});
afterAll(() => {
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('classification with a weights file', () => {
  it("gives Keras's probabilities and decodes its top classes", async () => {
    const model = await resnet50({ weights: weightsPath });
    const input = fixtureInput(config);
    const probabilities = model.predict(input) as tf.Tensor;
    const expected = softmax(config.numerics.output.values!);
    expect(relativeError(await probabilities.data(), expected)).toBeLessThan(1e-4);
    const [top] = decodePredictions(probabilities, 3);
    const ranked = expected.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
    expect(top!.map((p) => p.classId)).toEqual(ranked.slice(0, 3).map(([, i]) => classIndex[i]![0]));
    expect(top![0]!.className).toBe(classIndex[ranked[0]![1]]![1]);
    expect(top![0]!.probability).toBeCloseTo(ranked[0]![0], 4);
    tf.dispose([input, probabilities]);
    model.dispose();
  });
});

describe('a model built from a weights file', () => {
  it('saves and loads back with tfjs, giving the same outputs', async () => {
    const model = await resnet50({ weights: weightsPath });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    expect(JSON.stringify(saved!.modelTopology)).not.toContain('FileValue');
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const input = fixtureInput(config);
    const [a, b] = [model.predict(input) as tf.Tensor, reloaded.predict(input) as tf.Tensor];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([input, a, b]);
    model.dispose();
    reloaded.dispose();
  });
});

describe("weights: 'imagenet'", () => {
  let server: Server;
  const requested: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requested.push(req.url!);
      res.end(readFileSync(weightsPath));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches the official file name from the official path and checks its official hash', async () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    process.env.KERAS_APPLICATIONS_MIRROR = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    delete process.env.KERAS_APPLICATIONS_OFFLINE;
    const error = await resnet50({ weights: 'imagenet', cacheDir: cache }).catch((e: unknown) => e);
    expect(requested).toEqual(['/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5']);
    // The file served is not Keras's, so its md5 cannot be the one Keras publishes.
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toContain('2cb95161c43110f7111970584f804107');
    delete process.env.KERAS_APPLICATIONS_MIRROR;
  });

  it('offline without a cached file, names the URL and where to put the file', async () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    const error = await resnet50({ weights: 'imagenet', includeTop: false, cacheDir: cache, offline: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    const message = (error as Error).message;
    expect(message).toContain(
      'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5',
    );
    expect(message).toContain(join(cache, 'models', 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5'));
  });
});
