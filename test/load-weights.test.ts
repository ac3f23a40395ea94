import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { WeightsFileError, WeightsMismatchError } from '../src/errors';
import { loadWeights } from '../src/weights/apply';
import { readWeightsFile } from '../src/weights/h5';
import type { WeightsFile } from '../src/weights/types';
import { generatedInput } from './helpers/generator';
import { relativeError } from './helpers/keras-ref';
import { buildTiny, H5_DIR, tinyReference } from './helpers/tiny';

const MOBILENET = 'test/data/weights/mobilenet_2_5_224_tf_no_top.h5';
const NOT_HDF5 = 'test/data/weights/invalid/resnet50_weights_tf_dim_ordering_tf_kernels.h5';

async function tinyOutput(model: ReturnType<typeof buildTiny>): Promise<number[][]> {
  const input = tf.tensor(generatedInput(tinyReference.input.shape), tinyReference.input.shape);
  const output = model.predict(input) as tf.Tensor;
  const rows = (await output.array()) as number[][];
  tf.dispose([input, output]);
  return rows;
}

function weightValues(model: ReturnType<typeof buildTiny>): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

beforeAll(ensureBackend);

describe('loadWeights: files written by Keras', () => {
  for (const file of ['tiny_legacy.h5', 'tiny_full_model.h5', 'tiny.weights.h5']) {
    it(`${file} gives Keras's outputs`, async () => {
      const model = buildTiny();
      await loadWeights(model, `${H5_DIR}${file}`);
      const rows = await tinyOutput(model);
      tinyReference.output.values.forEach((row, i) => expect(relativeError(rows[i]!, row)).toBeLessThan(1e-5));
      model.dispose();
    });
  }

  it('loads from bytes and from a file: URL', async () => {
    const bytes = new Uint8Array(readFileSync(`${H5_DIR}tiny_legacy.h5`));
    const fromBytes = buildTiny();
    await loadWeights(fromBytes, bytes);
    const fromUrl = buildTiny();
    await loadWeights(fromUrl, `file://${H5_DIR}tiny_legacy.h5`);
    expect(await tinyOutput(fromUrl)).toEqual(await tinyOutput(fromBytes));
    expect(relativeError((await tinyOutput(fromBytes))[0]!, tinyReference.output.values[0]!)).toBeLessThan(1e-5);
    fromBytes.dispose();
    fromUrl.dispose();
  });

  it('loads by name whatever the order of the file', async () => {
    const file = await readWeightsFile(`${H5_DIR}tiny_legacy.h5`);
    const reversed: WeightsFile = { ...file, layers: [...file.layers].reverse() };
    const model = buildTiny();
    await expect(loadWeights(model, reversed)).rejects.toThrow(WeightsMismatchError);
    await loadWeights(model, reversed, { byName: true });
    expect(relativeError((await tinyOutput(model))[1]!, tinyReference.output.values[1]!)).toBeLessThan(1e-5);
    model.dispose();
  });
});

describe('loadWeights: files that do not fit change nothing', () => {
  it('rejects a file for another model, naming both layer counts', async () => {
    const model = buildTiny();
    const before = weightValues(model);
    const error = await loadWeights(model, MOBILENET).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsMismatchError);
    expect((error as Error).message).toMatch(/the model has 5 layers with weights, the file has 54/);
    expect(weightValues(model)).toEqual(before);
    model.dispose();
  });

  it('names the layer, the weight and both shapes, and applies nothing when the last layer is wrong', async () => {
    const file = await readWeightsFile(`${H5_DIR}tiny_legacy.h5`);
    const head = file.layers.find((l) => l.name === 'head_block')!;
    const broken: WeightsFile = {
      ...file,
      layers: file.layers.map((l) =>
        l !== head ? l : { ...l, weights: l.weights.map((w, i) => (i === 2 ? { ...w, shape: [10, 16], data: w.data } : w)) },
      ),
    };
    const model = buildTiny();
    const before = weightValues(model);
    const error = await loadWeights(model, broken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsMismatchError);
    const message = (error as Error).message;
    expect(message).toContain("layer 'head_block'");
    expect(message).toContain("weight 'kernel'");
    expect(message).toContain('[16, 10]');
    expect(message).toContain('[10, 16]');
    expect(weightValues(model)).toEqual(before);
    model.dispose();
  });

  it('skips mismatching layers by name with skipMismatch, loading the rest', async () => {
    const file = await readWeightsFile(`${H5_DIR}tiny_legacy.h5`);
    const broken: WeightsFile = {
      ...file,
      layers: file.layers.map((l) => (l.name !== 'conv1' ? l : { ...l, weights: l.weights.slice(0, 1) })),
    };
    const model = buildTiny();
    await expect(loadWeights(model, broken, { byName: true })).rejects.toThrow(/layer 'conv1' \(Conv2D\) has 2 weights/);
    await loadWeights(model, broken, { byName: true, skipMismatch: true });
    const loaded = model.getLayer('bn1').getWeights()[0]!.dataSync();
    expect(Array.from(loaded)).toEqual(Array.from(file.layers.find((l) => l.name === 'bn1')!.weights[0]!.data));
    expect(Array.from(model.getLayer('conv1').getWeights()[0]!.dataSync()).every((v) => v === 0)).toBe(true);
    model.dispose();
  });

  it('rejects a Keras 3 file whose layers do not fit', async () => {
    const file = await readWeightsFile(`${H5_DIR}tiny.weights.h5`);
    const extra: WeightsFile = { ...file, layers: [...file.layers, { name: 'dense_7', weights: file.layers[0]!.weights }] };
    const model = buildTiny();
    await expect(loadWeights(model, extra)).rejects.toThrow(/does not have: dense_7/);
    model.dispose();
  });

  it('rejects files that are not HDF5 or are truncated, before touching the model', async () => {
    const model = buildTiny();
    const before = weightValues(model);
    await expect(loadWeights(model, NOT_HDF5)).rejects.toThrow(WeightsFileError);
    const bytes = new Uint8Array(readFileSync(`${H5_DIR}tiny_legacy.h5`));
    await expect(loadWeights(model, bytes.subarray(0, bytes.length - 100))).rejects.toThrow(WeightsFileError);
    await expect(loadWeights(model, '/nonexistent/weights.h5')).rejects.toThrow(/nonexistent\/weights\.h5/);
    expect(weightValues(model)).toEqual(before);
    model.dispose();
  });
});
