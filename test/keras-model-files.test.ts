// loadKerasModel against the whole-model files real Keras 3.16 wrote (test/fixtures/keras-ref/models, read its
// README section "Whole-model files"): each model from its .keras and its .h5 gives Keras's outputs on the
// JSON's input, with Keras's layer names and trainable flags; bad files are refused with our errors.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { UnsupportedModelError, WeightsFileError } from '../src/errors';
import { loadKerasModel } from '../src/index';
import { uniform } from './helpers/generator';
import { relativeError } from './helpers/keras-ref';

const DIR = 'test/fixtures/keras-ref/models';
const MODELS = ['functional_multi', 'sequential_aug', 'mobilenetv2_head'] as const;
const FORMATS = ['keras', 'h5'] as const;

interface ReferenceLayer {
  name: string;
  class_name: string;
  trainable: boolean;
  layers?: ReferenceLayer[];
}

interface Reference {
  model: { name: string };
  layers: ReferenceLayer[];
  inputs: { name: string; shape: number[]; generator: { seed: string; lo: number; hi: number } }[];
  outputs: { name: string; shape: number[]; values: number[] }[];
}

function reference(name: string): Reference {
  return JSON.parse(readFileSync(`${DIR}/${name}.json`, 'utf8')) as Reference;
}

/** Name → trainable of every layer but the InputLayers (Keras's configs give those no flag), nested models by path. */
function trainableFlags(layers: { name: string; trainable: boolean; isInput: boolean; inner?: unknown[] }[], prefix = ''): Record<string, boolean> {
  return Object.assign(
    {},
    ...layers.map((layer) => ({
      ...(layer.isInput ? {} : { [prefix + layer.name]: layer.trainable }),
      ...(layer.inner ? trainableFlags(layer.inner as never, `${prefix}${layer.name}/`) : {}),
    })),
  );
}

function kerasLayers(layers: ReferenceLayer[]): Parameters<typeof trainableFlags>[0] {
  return layers.map((layer) => ({
    name: layer.name,
    trainable: layer.trainable,
    isInput: layer.class_name === 'InputLayer',
    inner: layer.layers && kerasLayers(layer.layers),
  }));
}

function tfjsLayers(layers: tfl.layers.Layer[]): Parameters<typeof trainableFlags>[0] {
  return layers.map((layer) => {
    const inner = (layer as tfl.LayersModel).layers;
    return { name: layer.name, trainable: layer.trainable, isInput: layer.getClassName() === 'InputLayer', inner: inner && tfjsLayers(inner) };
  });
}

function layerNames(layers: Parameters<typeof trainableFlags>[0], keepInputs: boolean): string[] {
  return layers.filter((layer) => keepInputs || !layer.isInput).map((layer) => layer.name).sort();
}

beforeAll(async () => {
  await ensureBackend();
});

describe.each(MODELS)('%s', (name) => {
  const ref = reference(name);

  it.each(FORMATS)(`loads from .%s with Keras's outputs, names and trainable flags`, async (format) => {
    const model = await loadKerasModel(`${DIR}/${name}.${format}`);
    expect(model.name).toBe(ref.model.name);
    // A Keras Sequential's layers leave out its InputLayer; tfjs's list it.
    const isSequential = model.getClassName() === 'Sequential';
    expect(layerNames(tfjsLayers(model.layers), !isSequential)).toEqual(layerNames(kerasLayers(ref.layers), !isSequential));
    expect(trainableFlags(tfjsLayers(model.layers))).toEqual(trainableFlags(kerasLayers(ref.layers)));

    const inputs = ref.inputs.map(({ shape, generator: { seed, lo, hi } }) => tf.tensor(uniform(seed, shape, lo, hi), shape));
    const predicted = model.predict(inputs.length === 1 ? inputs[0]! : inputs);
    const outputs = Array.isArray(predicted) ? predicted : [predicted];
    expect(outputs).toHaveLength(ref.outputs.length);
    for (const [i, expected] of ref.outputs.entries()) {
      expect(outputs[i]!.shape).toEqual(expected.shape);
      const error = relativeError(await outputs[i]!.data(), expected.values);
      console.log(`${name}.${format} output '${expected.name}': max relative error ${error.toExponential(2)}`);
      expect(error).toBeLessThan(1e-4);
    }
    tf.dispose([...inputs, ...outputs]);
    model.dispose();
  });
});

describe('refused files', () => {
  const archive = (members: Record<string, string>): Uint8Array =>
    zipSync(Object.fromEntries(Object.entries(members).map(([path, text]) => [path, new TextEncoder().encode(text)])));
  /** The real functional_multi.keras with `edit` applied to the config of its layer `layerName`. */
  const withEditedLayer = (layerName: string, edit: (entry: { class_name: string; config: Record<string, unknown> }) => void): Uint8Array => {
    const members = unzipSync(readFileSync(`${DIR}/functional_multi.keras`));
    const config = JSON.parse(new TextDecoder().decode(members['config.json'])) as { config: { layers: { name: string }[] } };
    edit(config.config.layers.find((layer) => layer.name === layerName) as never);
    return zipSync({ ...members, 'config.json': new TextEncoder().encode(JSON.stringify(config)) });
  };

  it('a .weights.h5: no architecture, and what to do', async () => {
    await expect(loadKerasModel(`${DIR}/functional_multi.weights.h5`)).rejects.toThrow(WeightsFileError);
    await expect(loadKerasModel(`${DIR}/functional_multi.weights.h5`)).rejects.toThrow(
      /holds weights only, no architecture .*call loadWeights\(model, file\)/,
    );
  });

  it('a zip that is not a Keras archive', async () => {
    await expect(loadKerasModel(archive({ 'readme.txt': 'hello' }))).rejects.toThrow(
      new WeightsFileError(
        'the given bytes is a zip archive but not a Keras model archive: a .keras file holds config.json, metadata.json and ' +
          'model.weights.h5; this one holds readme.txt.',
      ),
    );
  });

  it('a truncated archive', async () => {
    const bytes = readFileSync(`${DIR}/functional_multi.keras`);
    await expect(loadKerasModel(bytes.subarray(0, bytes.length - 100))).rejects.toThrow(WeightsFileError);
    await expect(loadKerasModel(bytes.subarray(0, bytes.length - 100))).rejects.toThrow(/cannot be unpacked .*is it truncated\?/);
  });

  it('a Lambda layer is refused, never run', async () => {
    const bytes = withEditedLayer('gap', (entry) => {
      entry.class_name = 'Lambda';
      entry.config = { name: 'gap', function: { class_name: '__lambda__', config: { code: 'print(1)' } } };
    });
    await expect(loadKerasModel(bytes)).rejects.toThrow(UnsupportedModelError);
    await expect(loadKerasModel(bytes)).rejects.toThrow(/^Layer 'gap' \(Lambda\) in the given bytes is a Lambda layer: its Python code is never loaded or run/);
  });

  it('a layer class it does not know: the layer, the class and the supported ones', async () => {
    const bytes = withEditedLayer('gap', (entry) => {
      entry.class_name = 'GlobalAveragePooling3D';
    });
    await expect(loadKerasModel(bytes)).rejects.toThrow(
      /^Layer 'gap' \(GlobalAveragePooling3D\) in the given bytes: loadKerasModel does not support the class 'GlobalAveragePooling3D' from module 'keras.layers'. Supported classes: Dense, Conv2D, .*, InputLayer, and nested Functional and Sequential models.$/,
    );
  });

  it('an option it does not support: the layer, its class, the option and what loads', async () => {
    const bytes = withEditedLayer('conv', (entry) => {
      entry.config.data_format = 'channels_first';
    });
    await expect(loadKerasModel(bytes)).rejects.toThrow(
      new UnsupportedModelError(
        "Layer 'conv' (Conv2D) in the given bytes: option 'data_format' = 'channels_first' is not supported. Conv2D loads with the " +
          "options filters, groups, kernel_size, strides, padding, dilation_rate, activation, use_bias, and only data_format='channels_last'; " +
          'regularizers and constraints only as null.',
      ),
    );
  });
});
