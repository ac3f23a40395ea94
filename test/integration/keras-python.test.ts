// The direct proof that Python opens what saveKerasModel writes: real Keras 3's `keras.models.load_model` loads
// our .keras files and computes the outputs tfjs computes for the model we saved. Runs only where a Python with
// Keras is at hand: KERAS_PYTHON, or the venv at /tmp/kerasref-venv (KERAS_BACKEND defaults to jax); skipped
// elsewhere, CI included.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../src/backend';
import { efficientNetB0, loadKerasModel, mobilenet, mobilenetV3Small, readWeightsFile, resnet50, saveKerasModel, withNewHead } from '../../src/index';
import { generatedWeight, uniform } from '../helpers/generator';
import { writeFullModelH5 } from '../helpers/h5-writer';
import { configDifferences } from '../helpers/keras-config-diff';
import { keras2Functional } from '../helpers/keras2-layout';
import { relativeError } from '../helpers/keras-ref';

const python = process.env.KERAS_PYTHON ?? ['/tmp/kerasref-venv/bin/python'].find((candidate) => existsSync(candidate));
const REF = 'test/fixtures/keras-ref/models';

/** Loads argv[1] with keras.models.load_model and prints its outputs on the inputs in argv[2] (JSON). */
const PREDICT = `
import json, sys
import numpy as np
import keras
model = keras.models.load_model(sys.argv[1])
inputs = [np.asarray(i['data'], dtype='float32').reshape(i['shape']) for i in json.load(open(sys.argv[2]))]
outputs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
print(json.dumps({'keras_version': keras.__version__, 'outputs': [np.asarray(o).ravel().tolist() for o in outputs]}))
`;

interface Case {
  name: string;
  model: () => Promise<tfl.LayersModel>;
  inputs: () => { shape: number[]; data: Float32Array }[];
}

const referenceCase = (name: string): Case => ({
  name,
  model: () => loadKerasModel(`${REF}/${name}.keras`),
  inputs: () => {
    const ref = JSON.parse(readFileSync(`${REF}/${name}.json`, 'utf8')) as { inputs: { shape: number[]; generator: { seed: string; lo: number; hi: number } }[] };
    return ref.inputs.map(({ shape, generator: { seed, lo, hi } }) => ({ shape, data: uniform(seed, shape, lo, hi) }));
  },
});

/**
 * `model` with the generator's weights (test/fixtures/keras-ref/README.md): a builder's fresh weights make
 * degenerate outputs (every class the same score), which would compare equal whatever the file held.
 */
function withGeneratedWeights(model: tfl.LayersModel): tfl.LayersModel {
  const visit = (layers: tfl.layers.Layer[]): void => {
    for (const layer of layers) {
      const inner = (layer as tfl.LayersModel).layers;
      if (inner) {
        visit(inner);
        continue;
      }
      const className = layer.getClassName();
      const values = layer.weights.map((weight) => {
        const short = weight.originalName.slice(weight.originalName.lastIndexOf('/') + 1).replace('depthwise_kernel', className === 'DepthwiseConv2D' ? 'kernel' : 'depthwise_kernel');
        return tf.tensor(generatedWeight(`${layer.name}/${short}`, weight.shape as number[], className), weight.shape as number[]);
      });
      if (values.length > 0) layer.setWeights(values);
      tf.dispose(values);
    }
  };
  visit(model.layers);
  return model;
}

const imageInput = (size: number) => (): { shape: number[]; data: Float32Array }[] => [
  { shape: [2, size, size, 3], data: uniform('input/image', [2, size, size, 3], -1, 1) },
];

const OPS_GRAPH = 'test/fixtures/keras-configs/ops_graph';

const CASES: Case[] = [
  ...['functional_multi', 'sequential_aug', 'mobilenetv2_head'].map(referenceCase),
  {
    name: 'ops_graph (Keras operations x + y, 2.0 - p, relu …, loaded from Keras’s .keras)',
    model: () => loadKerasModel(`${OPS_GRAPH}.keras`),
    inputs: () =>
      (JSON.parse(readFileSync(`${OPS_GRAPH}.json`, 'utf8')) as { inputs: { shape: number[]; values: number[] }[] }).inputs.map(({ shape, values }) => ({
        shape,
        data: Float32Array.from(values),
      })),
  },
  {
    name: 'mobilenet α=0.25 128 no top + withNewHead',
    model: async () =>
      withGeneratedWeights(withNewHead(await mobilenet({ alpha: 0.25, inputShape: [128, 128, 3], includeTop: false, weights: null }), { classes: 5, dropout: 0.2 })),
    inputs: imageInput(128),
  },
  {
    name: 'mobilenetV3Small 96×96 (Keras operations x + 3, x * 1/6)',
    model: async () => withGeneratedWeights(await mobilenetV3Small({ inputShape: [96, 96, 3], weights: null })),
    inputs: imageInput(96),
  },
  {
    name: 'efficientNetB0 64×64 no top (Normalization, Dropout with a noise shape)',
    model: async () => withGeneratedWeights(await efficientNetB0({ includeTop: false, inputShape: [64, 64, 3], weights: null })),
    inputs: () => [{ shape: [2, 64, 64, 3], data: uniform('input/image', [2, 64, 64, 3], 0, 255) }],
  },
  {
    name: 'resnet50 64×64 no top, avg pooling',
    model: async () => withGeneratedWeights(await resnet50({ includeTop: false, inputShape: [64, 64, 3], pooling: 'avg', weights: null })),
    inputs: imageInput(64),
  },
];

describe.skipIf(python === undefined)(`Python's keras.models.load_model opens our .keras files${python ? ` (${python})` : ' (skipped: no Python with Keras)'}`, () => {
  let dir: string;
  beforeAll(async () => {
    await ensureBackend();
    dir = mkdtempSync(join(tmpdir(), 'keras-python-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(CASES)('$name: the same outputs within 1e-4 relative', async ({ name, model: build, inputs: makeInputs }) => {
    const model = await build();
    const path = join(dir, 'model.keras');
    const started = performance.now();
    await saveKerasModel(model, path);
    const saveSeconds = (performance.now() - started) / 1000;
    const inputs = makeInputs();
    const inputFile = join(dir, 'inputs.json');
    writeFileSync(inputFile, JSON.stringify(inputs.map(({ shape, data }) => ({ shape, data: Array.from(data) }))));
    const tensors = inputs.map(({ shape, data }) => tf.tensor(data, shape));
    const predicted = model.predict(tensors.length === 1 ? tensors[0]! : tensors);
    const ours = await Promise.all((Array.isArray(predicted) ? predicted : [predicted]).map((tensor) => tensor.data()));
    const keras = JSON.parse(
      execFileSync(python!, ['-c', PREDICT, path, inputFile], {
        encoding: 'utf8',
        env: { ...process.env, KERAS_BACKEND: process.env.KERAS_BACKEND ?? 'jax' },
        maxBuffer: 64 * 2 ** 20,
      }),
    ) as { keras_version: string; outputs: number[][] };
    expect(keras.outputs).toHaveLength(ours.length);
    keras.outputs.forEach((expected, i) => {
      const error = relativeError(ours[i]!, expected);
      // Relative to the largest value: a constant output (every class the same score) would prove nothing.
      const spread = (Math.max(...expected) - Math.min(...expected)) / Math.max(...expected.map(Math.abs));
      console.log(`${name}: output ${i} max relative error ${error.toExponential(2)}, relative spread ${spread.toFixed(2)} (Keras ${keras.keras_version}); saved in ${saveSeconds.toFixed(2)} s`);
      expect(spread).toBeGreaterThan(0.01);
      expect(ours[i]!.length).toBe(expected.length);
      expect(error).toBeLessThan(1e-4);
    });
    tf.dispose([...tensors, ...(Array.isArray(predicted) ? predicted : [predicted])]);
    model.dispose();
  });

  it('a tf.keras (Keras 2) model from a full-model .h5: our .keras has the config Keras 3 writes for that .h5, and its outputs', async () => {
    const keras3 = JSON.parse(new TextDecoder().decode(unzipSync(readFileSync(`${REF}/functional_multi.keras`))['config.json'])) as Parameters<typeof keras2Functional>[0];
    const h5 = join(dir, 'keras2.h5');
    await writeFullModelH5(h5, keras2Functional(keras3), await readWeightsFile(`${REF}/functional_multi.h5`), '2.15.0');
    const model = await loadKerasModel(h5);
    const ours = join(dir, 'keras2-ours.keras');
    await saveKerasModel(model, ours);
    model.dispose();
    // Keras 3 opens the .h5 and saves it itself; it opens ours and predicts.
    const script = `
import json, sys, zipfile
import numpy as np
import keras
keras.models.load_model(sys.argv[1]).save(sys.argv[3])
inputs = [np.asarray(i['data'], dtype='float32').reshape(i['shape']) for i in json.load(open(sys.argv[4]))]
outputs = keras.models.load_model(sys.argv[2]).predict(inputs, verbose=0)
print(json.dumps({'config': json.loads(zipfile.ZipFile(sys.argv[3]).read('config.json')), 'outputs': np.asarray(outputs).ravel().tolist()}))
`;
    const { inputs } = referenceCase('functional_multi');
    const inputFile = join(dir, 'keras2-inputs.json');
    writeFileSync(inputFile, JSON.stringify(inputs().map(({ shape, data }) => ({ shape, data: Array.from(data) }))));
    const keras = JSON.parse(
      execFileSync(python!, ['-c', script, h5, ours, join(dir, 'keras2-keras.keras'), inputFile], {
        encoding: 'utf8',
        env: { ...process.env, KERAS_BACKEND: process.env.KERAS_BACKEND ?? 'jax' },
      }),
    ) as { config: unknown; outputs: number[] };
    const ourConfig = JSON.parse(new TextDecoder().decode(unzipSync(readFileSync(ours))['config.json'])) as unknown;
    // Keras gives each layer read from a legacy .h5 its own float32 policy object; we write the one shared policy
    // that a model built in Keras 3 has (the same policy either way).
    const { differences } = configDifferences(ourConfig, keras.config, { keras315: true }, Infinity);
    const ownPolicies = differences.filter((difference) => /\.config\.dtype\.shared_object_id: \d+, Keras has none$/.test(difference));
    console.log(`functional_multi in tf.keras's layout: config.json equals Keras's save of the .h5 but for ${ownPolicies.length} policies Keras does not share`);
    expect(differences.filter((difference) => !ownPolicies.includes(difference))).toEqual([]);
    const reference = JSON.parse(readFileSync(`${REF}/functional_multi.json`, 'utf8')) as { outputs: { values: number[] }[] };
    const error = relativeError(keras.outputs, reference.outputs[0]!.values);
    console.log(`functional_multi in tf.keras's layout: Keras's outputs from our .keras, max relative error ${error.toExponential(2)} against the reference`);
    expect(error).toBeLessThan(1e-4);
  });
});
