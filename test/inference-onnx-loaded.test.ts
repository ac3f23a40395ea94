// Models a user loads from Keras files (loadKerasModel) on the 'onnxruntime' engine: Keras 3 operation nodes,
// inference-time identities (RandomFlip, RandomRotation, StochasticDepth), Dropout with noise_shape, Rescaling and
// Normalization must all be exported, and give the Keras outputs the fixtures hold (as
// test/keras-model-files.test.ts and test/keras-model-configs.test.ts compare them on tfjs).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { compileForInference, loadKerasModel } from '../src/index';
import { exportOnnx } from '../src/inference/onnx-export';
import { KerasOperation } from '../src/models/keras-operations';
import { uniform } from './helpers/generator';
import { writeFullModelH5 } from './helpers/h5-writer';
import { fixtureConfig, fixtureInput, generatedWeightsFile, outputError, relativeError } from './helpers/keras-ref';

const ort = await import('onnxruntime-node').catch((error: Error) => error);
const ortError = ort instanceof Error ? ort.message : undefined;
if (ortError && process.env.CI) throw new Error(`onnxruntime-node does not load: ${ortError}`);
if (ortError) console.warn(`inference-onnx-loaded.test.ts skipped: onnxruntime-node does not load (${ortError})`);

const TOLERANCE = 1e-4;
const FILES = 'test/fixtures/keras-ref/models';
const CONFIGS = 'test/fixtures/keras-configs';

interface Reference {
  operations?: string[];
  inputs: { shape: number[]; values?: number[]; generator?: { seed: string; lo: number; hi: number } }[];
  outputs: { name: string; shape: number[]; values: number[] }[];
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

let folder: string;
beforeAll(async () => {
  await ensureBackend();
  folder = mkdtempSync(path.join(tmpdir(), 'onnx-loaded-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** The model on the 'onnxruntime' engine (no fallback: a layer without translation fails the call). */
async function onOnnxRuntime(model: tfl.LayersModel, input: tf.Tensor): Promise<Float32Array> {
  const predictor = await compileForInference(model, { engine: 'onnxruntime', device: 'cpu' });
  try {
    expect(predictor.engine).toBe('onnxruntime');
    const output = (await predictor.predict(input)) as tf.Tensor;
    const values = (await output.data()) as Float32Array;
    output.dispose();
    return values;
  } finally {
    predictor.dispose();
  }
}

/**
 * A model with several inputs, which the engines take one at a time: its exported graph run by ONNX Runtime
 * directly: its inputs and outputs are the model's, in order.
 */
async function exportedOutputs(model: tfl.LayersModel, inputs: tf.Tensor[]): Promise<Float32Array[]> {
  if (ort instanceof Error) throw ort;
  const session = await ort.InferenceSession.create(exportOnnx(model), { intraOpNumThreads: 1 });
  try {
    const feeds = Object.fromEntries(
      await Promise.all(inputs.map(async (x, i) => [session.inputNames[i]!, new ort.Tensor('float32', (await x.data()) as Float32Array, x.shape)] as const)),
    );
    const results = await session.run(feeds);
    return session.outputNames.map((name) => results[name]!.data as Float32Array);
  } finally {
    await session.release();
  }
}

function referenceInputs(ref: Reference): tf.Tensor[] {
  return ref.inputs.map(({ shape, values, generator }) => tf.tensor(values ?? uniform(generator!.seed, shape, generator!.lo, generator!.hi), shape));
}

describe.skipIf(ortError)('loaded Keras model files on onnxruntime', () => {
  // merge_graph: feature maps held channels-first meet in Average, Maximum, Minimum and in operations.
  it.each([
    `${FILES}/sequential_aug.keras`,
    `${FILES}/sequential_aug.h5`,
    `${FILES}/mobilenetv2_head.keras`,
    `${FILES}/mobilenetv2_head.h5`,
    `${CONFIGS}/merge_graph.keras`,
  ])(
    "%s gives Keras's output",
    async (file) => {
      const ref = readJson<Reference>(`${file.slice(0, file.lastIndexOf('.'))}.json`);
      const model = await loadKerasModel(file);
      const [input] = referenceInputs(ref);
      const error = relativeError(await onOnnxRuntime(model, input!), ref.outputs[0]!.values);
      console.log(`${file} on onnxruntime: max relative error ${error.toExponential(2)} against Keras`);
      expect(error).toBeLessThan(TOLERANCE);
      input!.dispose();
      model.dispose();
    },
  );

  // Two inputs: the export itself, run by ONNX Runtime. ops_graph's every_op output concatenates each operation's result.
  it.each([
    ['functional_multi.keras', `${FILES}/functional_multi`],
    ['ops_graph.keras', `${CONFIGS}/ops_graph`],
    ['ops_graph.h5', `${CONFIGS}/ops_graph`],
  ])("%s exported to ONNX gives Keras's outputs", async (file, base) => {
    const ref = readJson<Reference>(`${base}.json`);
    const model = await loadKerasModel(`${path.dirname(base)}/${file}`);
    if (ref.operations) {
      const operations = model.layers.filter((layer): layer is KerasOperation => layer instanceof KerasOperation);
      expect([...new Set(operations.map((layer) => `keras.src.ops.${layer.operation}`))].sort()).toEqual(ref.operations);
    }
    const inputs = referenceInputs(ref);
    const outputs = await exportedOutputs(model, inputs);
    for (const [i, expected] of ref.outputs.entries()) {
      const error = relativeError(outputs[i]!, expected.values);
      console.log(`${file} output '${expected.name}' on onnxruntime: max relative error ${error.toExponential(2)} against Keras`);
      expect(outputs[i]!.length).toBe(expected.values.length);
      expect(error).toBeLessThan(TOLERANCE);
    }
    if (ref.operations) {
      // every_op is each operation's [batch, 6] result side by side: each compared on its own scale.
      const [batch, width] = ref.outputs[0]!.shape as [number, number];
      const columns = width / ref.operations.length;
      const block = (values: ArrayLike<number>, j: number) =>
        Array.from({ length: batch }, (_, row) => Array.from(values).slice(row * width + j * columns, row * width + (j + 1) * columns)).flat();
      for (let j = 0; j < ref.operations.length; j++) {
        expect(relativeError(block(outputs[0]!, j), block(ref.outputs[0]!.values, j)), `every_op's operation ${j}`).toBeLessThan(TOLERANCE);
      }
    }
    tf.dispose(inputs);
    model.dispose();
  });

  // keras.applications configs Keras wrote, with the keras-ref generated weights in a full-model .h5 (as
  // test/keras-model-configs.test.ts builds them): ConvNeXt's LayerScale and `x + y` nodes, MobileNetV3's
  // `x + 3` and `x * (1/6)` nodes, EfficientNet's Dropout with noise_shape.
  it.each([
    ['ConvNeXtTiny', 'notop_avg_128x160'],
    ['MobileNetV3Small', 'top_default'],
    ['EfficientNetB0', 'notop_avg_128x160'],
  ])("%s (%s) loaded from Keras's config gives Keras's output", async (builder, id) => {
    const config = fixtureConfig(builder, id);
    const weights = generatedWeightsFile(config);
    weights.layers.forEach((layer, i) => {
      layer.name = config.structure.layers[i]![0];
    });
    const file = path.join(folder, `${builder}.h5`);
    await writeFullModelH5(file, readJson(`${CONFIGS}/${builder}-${id}.config.json`), weights, '3.15.1');
    const model = await loadKerasModel(file);
    const input = fixtureInput(config);
    const error = outputError(config, await onOnnxRuntime(model, input));
    console.log(`${builder} (${id}) on onnxruntime: max relative error ${error.toExponential(2)} against Keras`);
    expect(error).toBeLessThan(TOLERANCE);
    input.dispose();
    model.dispose();
  }, 60_000);
});
