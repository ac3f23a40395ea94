import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docExamples, runDocExample } from './helpers/doc-examples';
import { useOfflineKerasHome } from './helpers/offline-arguments';

// docs/feature-extraction.md runs as written, offline: its MobileNet α 0.25 file is the official one, which the
// repository holds (Keras publishes it without a hash, so any complete copy is used as it is).
const examples = docExamples('docs/feature-extraction.md');
const keras = JSON.parse(readFileSync('test/fixtures/keras-ref/real/mobilenet_025_features.json', 'utf8'));
useOfflineKerasHome('keras-features-docs-', (models) =>
  copyFileSync('test/data/weights/mobilenet_2_5_224_tf_no_top.h5', join(models, 'mobilenet_2_5_224_tf_no_top.h5')),
);

describe('docs/feature-extraction.md', () => {
  it('has its three examples', () => expect(examples).toHaveLength(3));

  it('gives the feature vector Keras computes', async () => {
    const [shape, first] = (await runDocExample(examples[0]!)).split(' ').map((v) => JSON.parse(v) as number[]);
    expect(shape).toEqual([1, 256]);
    const expected = keras.images['elephant.jpg'].features.values.slice(0, 3) as number[];
    first!.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-3));
  });

  it("prints the named layers' shapes it documents", async () => {
    expect(await runDocExample(examples[1]!)).toBe('[1,28,28,64] [1,7,7,256]');
  });

  it('prints the pyramid and the map sizes it documents', async () => {
    const [info, ...maps] = (await runDocExample(examples[2]!)).split('\n');
    expect(JSON.parse(info!)).toEqual([
      { index: 2, reduction: 8, layerName: 'conv_pw_5_relu', channels: 64 },
      { index: 3, reduction: 16, layerName: 'conv_pw_11_relu', channels: 128 },
      { index: 4, reduction: 32, layerName: 'conv_pw_13_relu', channels: 256 },
    ]);
    expect(maps).toEqual(['8 [2,12,16,64]', '16 [2,6,8,128]', '32 [2,3,4,256]']);
  });
});
