import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { regnetY002 } from '../src/applications/regnet';
import { resnetRS50 } from '../src/applications/resnet-rs';
import { resnext50 } from '../src/applications/resnext';
import type { WeightsFile } from '../src/weights/types';
import { writeLegacyWeights } from './helpers/h5-writer';
import { fixtureConfig, fixtureInput, generatedWeightsFile, outputError, type FixtureConfig } from './helpers/keras-ref';

// The official files of these builders cannot be downloaded here: official-looking files made from the fixtures'
// generated weights stand in for them, written as tf.keras / Keras 2 wrote them (weight names `…:0`, the
// depthwise kernel `depthwise_kernel`, tf-keras's operator layers listed among the weightless layers).
const dir = mkdtempSync(join(tmpdir(), 'legacy-official-'));
const getFile = vi.hoisted(() => vi.fn(async (): Promise<string> => ''));
vi.mock('../src/weights/download', async (original) => ({
  ...(await original<typeof import('../src/weights/download')>()),
  getFile,
}));

async function officialLookalike(fileName: string, file: WeightsFile): Promise<void> {
  const path = join(dir, fileName);
  await writeLegacyWeights(path, file);
  getFile.mockResolvedValueOnce(path);
}

async function outputErrorOf(model: Awaited<ReturnType<typeof regnetY002>>, reference: FixtureConfig): Promise<number> {
  const input = fixtureInput(reference);
  const output = model.predict(input) as tf.Tensor;
  const error = outputError(reference, await output.data());
  tf.dispose([input, output]);
  model.dispose();
  return error;
}

describe("legacy builders with 'imagenet' weights", () => {
  it("RegNetY002 loads tf-keras's file, whose layer list also names the TFOpLambda operations", async () => {
    const reference = fixtureConfig('RegNetY002', 'notop_avg_128x160');
    const file = generatedWeightsFile(reference);
    // tf-keras named `x + y` tf.__operators__.add(_k) and `tf.math.multiply` tf.math.multiply(_k).
    const ops = reference.structure.non_layer_ops.map((op) => {
      const name = (op as [string])[0];
      return { name: name.startsWith('add') ? `tf.__operators__.${name}` : `tf.math.${name}`, weights: [] };
    });
    await officialLookalike('regnety002_notop.h5', { ...file, layers: [...file.layers, ...ops] });
    const model = await regnetY002({ includeTop: false, pooling: 'avg', inputShape: [128, 160, 3] });
    const [fileName] = getFile.mock.lastCall as unknown as [string];
    expect(fileName).toBe('regnety002_notop.h5');
    expect(await outputErrorOf(model, reference)).toBeLessThan(1e-4);
  });

  it("ResNeXt50 loads keras_applications' file with Keras 2's `depthwise_kernel`", async () => {
    const reference = fixtureConfig('ResNeXt50', 'notop_avg_128x160');
    const file = generatedWeightsFile(reference);
    for (const layer of file.layers) {
      if (layer.name.endsWith('_2_conv')) layer.weights = layer.weights.map((w) => ({ ...w, name: 'depthwise_kernel' }));
    }
    await officialLookalike('resnext50_weights_tf_dim_ordering_tf_kernels_notop.h5', file);
    const model = await resnext50({ includeTop: false, pooling: 'avg', inputShape: [128, 160, 3] });
    expect(model.getLayer('conv2_block1_2_conv').getWeights()[0]!.dataSync().slice(0, 4)).toEqual(file.layers.find((l) => l.name === 'conv2_block1_2_conv')!.weights[0]!.data.slice(0, 4));
    model.dispose();
  });

  it("ResNetRS50 loads the file of the training size asked for, at the default input size", async () => {
    const reference = fixtureConfig('ResNetRS50', 'top_default');
    await officialLookalike('resnet-rs-50-i160.h5', generatedWeightsFile(reference));
    const model = await resnetRS50({ weights: 'imagenet-i160', classifierActivation: null });
    const [fileName] = getFile.mock.lastCall as unknown as [string];
    expect(fileName).toBe('resnet-rs-50-i160.h5');
    expect(await outputErrorOf(model, reference)).toBeLessThan(1e-4);
  });
});
