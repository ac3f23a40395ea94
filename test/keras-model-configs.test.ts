// loadKerasModel on the configs of test/fixtures/keras-configs (README there): Keras 3 graphs with operation nodes
// (`x + y`, `x * 0.5`, keras.ops.relu …) and tf.keras's Keras 2 layout (the Keras 2.2.4 Xception config). The
// keras.applications configs come without weights: they are written with the keras-ref generated weights into a
// full-model .h5 (the layout Keras's model.save('m.h5') writes) and must give the keras-ref fixture's outputs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { UnsupportedModelError } from '../src/errors';
import { loadKerasModel } from '../src/index';
import { KerasOperation } from '../src/models/keras-operations';
import { readWeightsFile } from '../src/weights/h5';
import { sampleIndices, uniform } from './helpers/generator';
import { writeFullModelH5 } from './helpers/h5-writer';
import { fixtureConfig, fixtureInput, generatedWeightsFile, kerasLayerTable, layerTable, outputError, relativeError, softmax, type FixtureConfig } from './helpers/keras-ref';

const DIR = 'test/fixtures/keras-configs';
let folder: string;

beforeAll(async () => {
  await ensureBackend();
  folder = mkdtempSync(path.join(tmpdir(), 'keras-configs-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const readJson = <T>(file: string): T => JSON.parse(readFileSync(`${DIR}/${file}`, 'utf8')) as T;

/** A layer table row without weight names: Keras 3 names LayerScale's weight per process (`variable_15`), its config does not. */
const withoutWeightNames = (row: unknown): unknown[] => {
  const [name, className, shape, params, weights] = row as [string, string, unknown, number, [string, number[]][]];
  return [name, className, shape, params, weights.map(([, weightShape]) => weightShape)];
};

/**
 * The model of `modelConfig`, rebuilt from a full-model .h5 with the generated weights of the keras-ref `config`,
 * has Keras's layer table (its layers named `layerNames`) and Keras's output. With `softmaxOutput` (the config's
 * classifier has the softmax, the fixture's output is logits) the probabilities are near one-hot, so the last
 * checkpoint before the classifier is compared too.
 */
async function checkAgainstFixture(
  name: string,
  modelConfig: unknown,
  config: FixtureConfig,
  layerNames: string[],
  kerasVersion: string,
  softmaxOutput = false,
): Promise<void> {
  const weights = generatedWeightsFile(config);
  weights.layers.forEach((layer, i) => {
    layer.name = layerNames[i]!;
  });
  const file = path.join(folder, `${name}.h5`);
  await writeFullModelH5(file, modelConfig, weights, kerasVersion);
  const model = await loadKerasModel(file);
  try {
    const expected = kerasLayerTable(config).map((row, i) => [layerNames[i], ...withoutWeightNames(row).slice(1)]);
    expect(layerTable(model, config).map(withoutWeightNames)).toEqual(expected);
    expect(model.countParams()).toBe(config.structure.total_params);
    const input = fixtureInput(config);
    if (softmaxOutput) {
      const checkpoint = config.numerics.checkpoints.at(-2)!;
      const probe = tfl.model({ inputs: model.inputs, outputs: model.getLayer(checkpoint.name).output as tfl.SymbolicTensor });
      const probed = probe.predict(input) as tf.Tensor;
      const features = await probed.data();
      probed.dispose();
      const error = relativeError(sampleIndices(features.length, checkpoint.samples.length).map((i) => features[i]!), checkpoint.samples);
      console.log(`${name}: layer '${checkpoint.name}' max relative error ${error.toExponential(2)} against Keras`);
      expect(error).toBeLessThan(1e-4);
    }
    const output = model.predict(input) as tf.Tensor;
    expect(output.shape).toEqual(config.numerics.output.shape);
    const values = await output.data();
    const logits = config.numerics.output.values!;
    const error = softmaxOutput ? relativeError(values, softmax(logits)) : outputError(config, values);
    console.log(`${name}: max relative error ${error.toExponential(2)} against Keras`);
    expect(error).toBeLessThan(1e-4);
    tf.dispose([input, output]);
  } finally {
    model.dispose();
  }
}

describe("tf.keras's Keras 2 layout: the Keras 2.2.4 Xception config", () => {
  const topology = readJson<{ modelTopology: { keras_version: string; model_config: { config: { layers: { name: string }[] } } } }>(
    'xception_imagenet_tfjs_model.json',
  ).modelTopology;
  const config = fixtureConfig('Xception', 'top_default');

  it("builds Keras's Xception and, with weights from a Keras 2 full-model .h5, gives Keras's outputs", async () => {
    const names = topology.model_config.config.layers.map((layer) => layer.name);
    // Keras numbers the names it generates per process: Keras 2 wrote `conv2d_4` where Keras 3's fixture has `conv2d`.
    const renamed = names.flatMap((name, i) => (name === config.structure.layers[i]![0] ? [] : [[config.structure.layers[i]![0], name]]));
    for (const [keras3, keras2] of renamed) expect(keras2!.replace(/_\d+$/, '')).toBe(keras3!.replace(/_\d+$/, '').replace('input_layer', 'input'));
    // Its classifier keeps Keras 2's softmax; the fixture's output is logits.
    await checkAgainstFixture('xception-keras2', topology.model_config, config, names, topology.keras_version, true);
  }, 120_000);
});

describe("tf.keras's Keras 2 layout: a Sequential without an InputLayer", () => {
  const MODELS = 'test/fixtures/keras-ref/models';
  const reference = JSON.parse(readFileSync(`${MODELS}/sequential_aug.json`, 'utf8')) as {
    inputs: { shape: number[]; generator: { seed: string; lo: number; hi: number } }[];
    outputs: { values: number[] }[];
  };
  interface Entry {
    class_name: string;
    config: Record<string, unknown>;
  }
  /**
   * Keras's sequential_aug config in Keras 2's Sequential form: no InputLayer, the input's shape as the first
   * layer's `batch_input_shape`, dtypes as strings, no modules; Keras 2.2 wrote the layers list as the whole config.
   */
  const keras2Config = (asList: boolean): unknown => {
    const keras3 = JSON.parse(new TextDecoder().decode(unzipSync(readFileSync(`${MODELS}/sequential_aug.keras`))['config.json'])) as {
      config: { name: string; layers: Entry[] };
    };
    const [input, ...layers] = keras3.config.layers;
    const keras2Layers = layers.map((entry, i) => ({
      class_name: entry.class_name,
      config: { ...entry.config, dtype: 'float32', ...(i === 0 ? { batch_input_shape: input!.config.batch_shape } : {}) },
    }));
    return { class_name: 'Sequential', config: asList ? keras2Layers : { name: keras3.config.name, layers: keras2Layers } };
  };

  it.each([
    ['{name, layers}', false],
    ['a list of layers (Keras 2.2)', true],
  ])("with its config as %s: Keras's outputs from a Keras 2 full-model .h5", async (_form, asList) => {
    const file = path.join(folder, `sequential-keras2-${asList}.h5`);
    await writeFullModelH5(file, keras2Config(asList), await readWeightsFile(`${MODELS}/sequential_aug.h5`));
    const model = await loadKerasModel(file);
    const { shape, generator } = reference.inputs[0]!;
    const input = tf.tensor(uniform(generator.seed, shape, generator.lo, generator.hi), shape);
    const output = model.predict(input) as tf.Tensor;
    expect(relativeError(await output.data(), reference.outputs[0]!.values)).toBeLessThan(1e-4);
    expect(model.layers[0]!.getClassName()).toBe('InputLayer');
    expect(model.layers[0]!.batchInputShape).toEqual([null, 32, 32, 3]);
    tf.dispose([input, output]);
    model.dispose();
  });
});

// ConvNeXt's and MobileNetV3's graphs hold Keras operations; EfficientNet's blocks a Dropout with noise_shape.
describe('keras.applications configs written by Keras 3', () => {
  it.each([
    ['ConvNeXtTiny', 'notop_avg_128x160'],
    ['MobileNetV3Small', 'top_default'],
    ['EfficientNetB0', 'notop_avg_128x160'],
  ])("%s (%s) from Keras's config.json, with the keras-ref weights, gives Keras's outputs", async (builder, id) => {
    const config = fixtureConfig(builder, id);
    const modelConfig = readJson(`${builder}-${id}.config.json`);
    await checkAgainstFixture(builder, modelConfig, config, config.structure.layers.map(([name]) => name), '3.15.1');
  }, 120_000);
});

interface OpsReference {
  operations: string[];
  inputs: { name: string; shape: number[]; values: number[] }[];
  outputs: { name: string; shape: number[]; values: number[] }[];
}

describe('a functional model with operations on tensors, saved by Keras (ops_graph)', () => {
  const ref = readJson<OpsReference>('ops_graph.json');

  it.each(['keras', 'h5'])(".%s: every operation gives Keras's values", async (format) => {
    const model = await loadKerasModel(`${DIR}/ops_graph.${format}`);
    const operations = model.layers.filter((layer): layer is KerasOperation => layer instanceof KerasOperation);
    expect([...new Set(operations.map((layer) => `keras.src.ops.${layer.operation}`))].sort()).toEqual(ref.operations);
    expect(operations.every((layer) => layer.weights.length === 0)).toBe(true);
    const inputs = ref.inputs.map(({ shape, values }) => tf.tensor(values, shape));
    const outputs = model.predict(inputs) as tf.Tensor[];
    for (const [i, expected] of ref.outputs.entries()) {
      expect(outputs[i]!.shape).toEqual(expected.shape);
      const error = relativeError(await outputs[i]!.data(), expected.values);
      console.log(`ops_graph.${format} output '${expected.name}': max relative error ${error.toExponential(2)}`);
      expect(error).toBeLessThan(1e-4);
    }
    tf.dispose([...inputs, ...outputs]);
    model.dispose();
  });

  /** ops_graph.keras with `edit` applied to the config entry of the operation `name`. */
  const withEditedOperation = (name: string, edit: (entry: { class_name: string; config: Record<string, unknown> }) => void): Uint8Array => {
    const members = unzipSync(readFileSync(`${DIR}/ops_graph.keras`));
    const config = JSON.parse(new TextDecoder().decode(members['config.json'])) as { config: { layers: { name: string }[] } };
    edit(config.config.layers.find((layer) => layer.name === name) as never);
    return zipSync({ ...members, 'config.json': new TextEncoder().encode(JSON.stringify(config)) });
  };

  it('an operation it does not support: named, with the supported ones', async () => {
    const bytes = withEditedOperation('tanh', (entry) => {
      entry.class_name = 'Arctanh';
    });
    await expect(loadKerasModel(bytes)).rejects.toThrow(UnsupportedModelError);
    await expect(loadKerasModel(bytes)).rejects.toThrow(
      /^Operation 'tanh' \(Arctanh\) in the given bytes is the Keras operation keras\.src\.ops\.numpy\.Arctanh, which loadKerasModel does not support\. Supported operations \(keras\.src\.ops\.\*\): numpy\.Add, .*nn\.HardSilu\.$/,
    );
  });

  it('an operation option it does not support', async () => {
    const bytes = withEditedOperation('relu', (entry) => {
      entry.config.approximate = true;
    });
    await expect(loadKerasModel(bytes)).rejects.toThrow(
      new UnsupportedModelError("Operation 'relu' (Relu) in the given bytes: option 'approximate' = true of the operation Relu is not supported."),
    );
  });
});
