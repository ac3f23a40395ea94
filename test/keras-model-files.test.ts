// loadKerasModel against the whole-model files real Keras 3.16 wrote (test/fixtures/keras-ref/models, read its
// README section "Whole-model files"): each model from its .keras and its .h5 gives Keras's outputs on the
// JSON's input, with Keras's layer names and trainable flags; bad files are refused with our errors.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { UnsupportedModelError, WeightsFileError, WeightsMismatchError } from '../src/errors';
import { loadKerasModel } from '../src/index';
import { CustomScaleLayer } from '../src/layers/custom-scale-layer';
import { GroupedConv2D } from '../src/layers/grouped-conv2d';
import { LayerScale } from '../src/layers/layer-scale';
import { Normalization } from '../src/layers/normalization';
import { buildKerasLayer } from '../src/models/keras-layers';
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

/** A layer as the comparisons see it, from Keras's table or from the tfjs model. */
interface LayerRow {
  name: string;
  trainable: boolean;
  isInput: boolean;
  inner?: LayerRow[];
}

/** Name → trainable of every layer but the InputLayers (Keras's configs give those no flag), nested models by path. */
function trainableFlags(layers: LayerRow[], prefix = ''): Record<string, boolean> {
  return Object.assign(
    {},
    ...layers.map((layer) => ({
      ...(layer.isInput ? {} : { [prefix + layer.name]: layer.trainable }),
      ...(layer.inner ? trainableFlags(layer.inner, `${prefix}${layer.name}/`) : {}),
    })),
  );
}

function kerasLayers(layers: ReferenceLayer[]): LayerRow[] {
  return layers.map((layer) => ({
    name: layer.name,
    trainable: layer.trainable,
    isInput: layer.class_name === 'InputLayer',
    inner: layer.layers && kerasLayers(layer.layers),
  }));
}

function tfjsLayers(layers: tfl.layers.Layer[]): LayerRow[] {
  return layers.map((layer) => {
    const inner = (layer as tfl.LayersModel).layers;
    return { name: layer.name, trainable: layer.trainable, isInput: layer.getClassName() === 'InputLayer', inner: inner && tfjsLayers(inner) };
  });
}

function layerNames(layers: LayerRow[], keepInputs: boolean): string[] {
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
  const withEditedLayer = (layerName: string, edit: (entry: { class_name: string; module: string; config: Record<string, unknown>; inbound_nodes: unknown[] }) => void): Uint8Array => {
    const members = unzipSync(readFileSync(`${DIR}/functional_multi.keras`));
    const config = JSON.parse(new TextDecoder().decode(members['config.json'])) as { config: { layers: { name: string }[] } };
    edit(config.config.layers.find((layer) => layer.name === layerName) as never);
    return zipSync({ ...members, 'config.json': new TextEncoder().encode(JSON.stringify(config)) });
  };

  it('a missing file', async () => {
    await expect(loadKerasModel(`${DIR}/no_such_model.keras`)).rejects.toThrow(
      new WeightsFileError(`Cannot read Keras model file ${DIR}/no_such_model.keras: no such file`),
    );
  });

  it('weights that do not fit the config: the layer and both shapes', async () => {
    const bytes = withEditedLayer('logits', (entry) => {
      entry.config.units = 5;
    });
    await expect(loadKerasModel(bytes)).rejects.toThrow(
      new WeightsMismatchError(
        "The weights in the given bytes do not fit the model of its config: layer 'logits' expects [32, 5] for 'logits/kernel', " +
          "the file's 'vars/0' is [32, 4].",
      ),
    );
  });

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

  it("a layer called with tf.keras's nested-list inbound node loads as the Keras 3 call", async () => {
    const bytes = withEditedLayer('scale', (entry) => {
      entry.inbound_nodes = [[['image', 0, 0, {}]]];
    });
    const model = await loadKerasModel(bytes);
    expect(model.getLayer('scale').inboundNodes[0]!.inboundLayers.map((layer) => layer.name)).toEqual(['image']);
    model.dispose();
  });

  it('a call keyword argument it does not support', async () => {
    const bytes = withEditedLayer('scale', (entry) => {
      entry.inbound_nodes = [[['image', 0, 0, { mask: [['image', 0, 0]] }]]];
    });
    await expect(loadKerasModel(bytes)).rejects.toThrow(
      new UnsupportedModelError(
        `Layer 'scale' in the given bytes is called with mask=[["image",0,0]]; supported call arguments: training, and mask=null.`,
      ),
    );
  });
});

describe('the keras.applications layers load as this package\'s layers', () => {
  const build = (class_name: string, module: string, config: Record<string, unknown>): tfl.layers.Layer =>
    buildKerasLayer({ class_name, module, config: { name: 'x', trainable: false, ...config } }, 'a test config');

  it('Conv2D with groups → GroupedConv2D, frozen as configured', () => {
    const layer = build('Conv2D', 'keras.layers', { filters: 8, kernel_size: [3, 3], groups: 2, data_format: 'channels_last' });
    expect(layer).toBeInstanceOf(GroupedConv2D);
    expect((layer as GroupedConv2D).groups).toBe(2);
    expect(layer.trainable).toBe(false);
  });

  it("Normalization with Keras's tuple axis and broadcast statistics", () => {
    const layer = build('Normalization', 'keras.layers', { axis: [-1], invert: false, mean: [[[1, 2, 3]]], variance: [[[4, 5, 6]]] });
    expect(layer).toBeInstanceOf(Normalization);
    expect([(layer as Normalization).axis, (layer as Normalization).mean, (layer as Normalization).variance]).toEqual([-1, [1, 2, 3], [4, 5, 6]]);
  });

  it('LayerScale and CustomScaleLayer from their applications modules', () => {
    const scale = build('LayerScale', 'keras.src.applications.convnext', { init_values: 1e-6, projection_dim: 96 });
    expect(scale).toBeInstanceOf(LayerScale);
    expect([(scale as LayerScale).initValues, (scale as LayerScale).projectionDim]).toEqual([1e-6, 96]);
    const residual = build('CustomScaleLayer', 'keras.src.applications.inception_resnet_v2', { scale: 0.17 });
    expect(residual).toBeInstanceOf(CustomScaleLayer);
    expect((residual as CustomScaleLayer).scale).toBe(0.17);
  });
});
