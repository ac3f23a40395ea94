// The official MobileNet α=0.25 128×128 classifier ships in models/: `weights: 'imagenet'` for that configuration uses
// it with no cache and no network, and gives Keras's predictions (test/fixtures/keras-ref/real/mobilenet_025_128_predictions.json).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { classify, clearModelCache } from '../src/classify';
import { DownloadError } from '../src/errors';

const keras = JSON.parse(await readFile('test/fixtures/keras-ref/real/mobilenet_025_128_predictions.json', 'utf8')) as {
  images: Record<string, [classId: string, className: string, probability: number][]>;
};
let kerasHome: string;

beforeEach(async () => {
  kerasHome = await mkdtemp(path.join(os.tmpdir(), 'keras-bundled-'));
  vi.stubEnv('KERAS_HOME', kerasHome);
  vi.stubEnv('KERAS_APPLICATIONS_OFFLINE', '1');
});

afterEach(async () => {
  await clearModelCache();
  vi.unstubAllEnvs();
  await rm(kerasHome, { recursive: true, force: true });
});

describe('the bundled MobileNet α=0.25 128×128 classifier', () => {
  it("is used for weights: 'imagenet' offline with an empty cache, and gives Keras's top 5", async () => {
    const predictions = await classify('test/data/images/elephant.jpg', { model: 'MobileNet', modelOptions: { alpha: 0.25, inputShape: [128, 128, 3] } });
    const expected = keras.images['elephant.jpg']!;
    expect(predictions.map((p) => p.className)).toEqual(expected.map(([, className]) => className));
    predictions.forEach((p, i) => expect(Math.abs(p.probability - expected[i]![2])).toBeLessThan(1e-4 * expected[i]![2] + 1e-7));
    // Nothing was downloaded or copied into the cache.
    expect(await readdir(kerasHome)).toEqual([]);
  });

  it('covers only its own file: another MobileNet still needs the cache or the network', async () => {
    const other = classify('test/data/images/elephant.jpg', { model: 'MobileNet', modelOptions: { alpha: 0.25, inputShape: [160, 160, 3] } });
    await expect(other).rejects.toThrow(DownloadError);
    await expect(other).rejects.toThrow(/mobilenet_2_5_160_tf\.h5/);
  });
});
