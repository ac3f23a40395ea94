import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { efficientNetB0 } from '../src/applications/efficientnet';
import type { WeightsFile } from '../src/weights/types';
import { writeLegacyWeights } from './helpers/h5-writer';
import { fixtureInput, generatedWeightsFile, loadFixture } from './helpers/keras-ref';

// The official files cannot be downloaded here: an official-looking file made from the fixture's generated
// weights stands in for them, written as Keras 2 wrote them (DepthwiseConv2D's kernel is `depthwise_kernel`).
const officialFile = join(mkdtempSync(join(tmpdir(), 'efficientnet-')), 'efficientnetb0_notop.h5');
const getFile = vi.hoisted(() => vi.fn(async () => ''));
vi.mock('../src/weights/download', async (original) => ({
  ...(await original<typeof import('../src/weights/download')>()),
  getFile,
}));

const notop = loadFixture('EfficientNetB0').configs.find((config) => config.id === 'notop_avg_128x160')!;

beforeAll(async () => {
  const file: WeightsFile = generatedWeightsFile(notop);
  for (const layer of file.layers) {
    if (layer.name.endsWith('dwconv')) layer.weights = layer.weights.map((w) => ({ ...w, name: 'depthwise_kernel' }));
  }
  await writeLegacyWeights(officialFile, file);
  getFile.mockResolvedValue(officialFile);
});

describe("EfficientNet with 'imagenet' weights", () => {
  it("adds Keras's per-channel Rescaling after the Normalization and loads the official file by the builder, whatever the name", async () => {
    const model = await efficientNetB0({ includeTop: false, pooling: 'avg', inputShape: [128, 160, 3], name: 'custom' });
    try {
      const [fileName] = getFile.mock.calls[0] as unknown as [string];
      expect(fileName).toBe('efficientnetb0_notop.h5');
      expect(model.name).toBe('custom');
      expect(model.layers.slice(0, 5).map((layer) => layer.name)).toEqual(['input_layer', 'rescaling', 'normalization', 'rescaling_1', 'stem_conv_pad']);

      const probe = tfl.model({ inputs: model.inputs, outputs: ['normalization', 'rescaling_1'].map((name) => model.getLayer(name).output as tfl.SymbolicTensor) });
      const difference = tf.tidy(() => {
        const [normalized, rescaled] = probe.predict(fixtureInput(notop)) as tf.Tensor[];
        const expected = tf.mul(normalized!, [0.229, 0.224, 0.225].map((stddev) => 1 / Math.sqrt(stddev)));
        return tf.max(tf.abs(tf.sub(rescaled!, expected))).dataSync()[0]!;
      });
      expect(difference).toBeLessThan(1e-6);

      // The whole model, its per-channel Rescaling and Normalization included, survives tfjs's JSON round trip.
      const restored = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.serialization.ConfigDict });
      restored.setWeights(model.getWeights());
      const roundTripDifference = tf.tidy(() => {
        const input = fixtureInput(notop);
        return tf.max(tf.abs(tf.sub(model.predict(input) as tf.Tensor, restored.predict(input) as tf.Tensor))).dataSync()[0]!;
      });
      expect(roundTripDifference).toBe(0);
      restored.dispose();

      const dwconv = notop.structure.layers.find(([name]) => name === 'block2a_dwconv')!;
      const loaded = model.getLayer('block2a_dwconv').getWeights()[0]!;
      expect(loaded.shape).toEqual(dwconv[4][0]![1]);
      expect(Array.from(loaded.dataSync())).toEqual(Array.from(generatedWeightsFile(notop).layers.find((l) => l.name === 'block2a_dwconv')!.weights[0]!.data));
    } finally {
      model.dispose();
    }
  });
});
