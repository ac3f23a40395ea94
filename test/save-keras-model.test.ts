// saveKerasModel against what Keras itself writes. The reference models (test/fixtures/keras-ref/models, written by
// Keras 3.16): loaded, saved by us, and our archive compared member by member with Keras's: config.json equal but
// for compile_config, metadata.json's keys, model.weights.h5's groups, attributes and datasets (through Debian's
// h5py and through our reader), and the reloaded model computes exactly what the reference does. Builder models,
// withNewHead and layer zoos: our config.json against the one real Keras writes for the same model
// (test/fixtures/keras-save, made by its generate.py). Bad input: our errors, and no file replaced.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { unzipSync } from 'fflate';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { FileWriteError, UnsupportedModelError } from '../src/errors';
import {
  inceptionResNetV2, inceptionV3, kerasModelBytes, loadKerasModel, mobilenet, mobilenetV2, mobilenetV3Small, nasnetMobile, readWeights,
  readWeightsFile, resnet50, resnet50V2, saveKerasModel, vgg16, withNewHead, xception, densenet121,
} from '../src/index';
import { buildKerasModel } from '../src/models/keras-config';
import { kerasModelConfig } from '../src/models/keras-serialize';
import { uniform } from './helpers/generator';
import { writeFullModelH5 } from './helpers/h5-writer';
import { keras2Functional } from './helpers/keras2-layout';
import { describeH5, h5pySkipReason, type H5Description } from './helpers/h5py';
import { configDifferences, type Allowances } from './helpers/keras-config-diff';
import { mountSmallDisk, smallDiskSkipReason, type SmallDisk } from './helpers/small-disk';

const REF = 'test/fixtures/keras-ref/models';
const KERAS = 'test/fixtures/keras-save';
const CONFIGS = 'test/fixtures/keras-configs';

interface SavedAgain {
  name: string;
  /** Keras's .keras file. */
  file: string;
  inputs(): tf.Tensor[];
}

/** ops_graph.json's inputs (the values Keras was given). */
function opsGraphInputs(): tf.Tensor[] {
  const ref = JSON.parse(readFileSync(`${CONFIGS}/ops_graph.json`, 'utf8')) as { inputs: { shape: number[]; values: number[] }[] };
  return ref.inputs.map(({ shape, values }) => tf.tensor(values, shape));
}

const MODELS: SavedAgain[] = [
  ...['functional_multi', 'sequential_aug', 'mobilenetv2_head'].map((name) => ({ name, file: `${REF}/${name}.keras`, inputs: () => referenceInputs(name) })),
  // Keras operations (`x + y`, `2.0 - p`, keras.ops.relu …): nodes of keras.src.ops.*, with no weights group.
  { name: 'ops_graph', file: `${CONFIGS}/ops_graph.keras`, inputs: opsGraphInputs },
];
/** Keras writes these members, in this order. */
const MEMBERS = ['metadata.json', 'config.json', 'model.weights.h5'];

let dir: string;
beforeAll(async () => {
  await ensureBackend();
  dir = mkdtempSync(join(tmpdir(), 'save-keras-model-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);
const kerasConfigOf = (name: string): unknown => JSON.parse(readFileSync(`${KERAS}/${name}.config.json`, 'utf8'));

/** Zip members by name, in the archive's order. */
function members(bytes: Uint8Array): [string, Uint8Array][] {
  return Object.entries(unzipSync(bytes));
}

/** The reference JSON's inputs, made by the generator spec. */
function referenceInputs(name: string): tf.Tensor[] {
  const ref = JSON.parse(readFileSync(`${REF}/${name}.json`, 'utf8')) as { inputs: { shape: number[]; generator: { seed: string; lo: number; hi: number } }[] };
  return ref.inputs.map(({ shape, generator: { seed, lo, hi } }) => tf.tensor(uniform(seed, shape, lo, hi), shape));
}

async function outputs(model: tfl.LayersModel, inputs: tf.Tensor[]): Promise<number[][]> {
  const predicted = model.predict(inputs.length === 1 ? inputs[0]! : inputs);
  const list = Array.isArray(predicted) ? predicted : [predicted];
  const values = await Promise.all(list.map(async (tensor) => Array.from(await tensor.data())));
  tf.dispose(list);
  return values;
}

/** An h5 description without the optimizer's variables (Keras saves Adam's; a tfjs model has no optimizer to save). */
function withoutOptimizer(description: H5Description): H5Description {
  const keep = (path: string): boolean => !/^\/?optimizer(\/|$)/.test(path);
  const pick = <T>(record: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(record).filter(([path]) => keep(path)));
  return { attributes: pick(description.attributes), groups: description.groups.filter(keep), datasets: pick(description.datasets) };
}

describe.each(MODELS)('$name: loaded from Keras’s .keras and saved again', ({ name, file, inputs: modelInputs }) => {
  let ours: [string, Uint8Array][];
  let keras: [string, Uint8Array][];
  const path = (): string => join(dir, `${name}.keras`);

  beforeAll(async () => {
    const model = await loadKerasModel(file);
    await saveKerasModel(model, path());
    model.dispose();
    ours = members(readFileSync(path()));
    keras = members(readFileSync(file));
  });

  it('holds the members Keras writes, in its order; metadata.json has its keys and date format', () => {
    expect(ours.map(([member]) => member)).toEqual(MEMBERS);
    expect(keras.map(([member]) => member)).toEqual(MEMBERS);
    const metadata = JSON.parse(text(ours[0]![1])) as Record<string, string>;
    expect(Object.keys(metadata)).toEqual(Object.keys(JSON.parse(text(keras[0]![1])) as object));
    expect(metadata.keras_version).toBe('3.16.0');
    expect(metadata.date_saved).toMatch(/^\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d$/);
  });

  it('config.json equals Keras’s but for compile_config', () => {
    expect(configDifferences(JSON.parse(text(ours[1]![1])), JSON.parse(text(keras[1]![1])))).toEqual({ differences: [], allowed: 0 });
  });

  it.skipIf(h5pySkipReason !== undefined)('model.weights.h5 has Keras’s groups, attributes and datasets (h5py), the same values', () => {
    const files = [ours, keras].map((archive, i) => {
      const file = join(dir, `${name}.${i}.weights.h5`);
      writeFileSync(file, archive[2]![1]);
      return file;
    });
    const [ourFile, kerasFile] = files.map((file) => describeH5(file));
    expect(ourFile).toEqual(withoutOptimizer(kerasFile!));
  });

  it('model.weights.h5 reads with our reader as Keras’s does', () => {
    const summary = (bytes: Uint8Array): unknown[] =>
      readWeights(bytes).layers.filter((layer) => !layer.name.startsWith('optimizer')).map((layer) => [layer.name, layer.weights.map((w) => [w.shape, Array.from(w.data)])]);
    const ourFile = readWeights(ours[2]![1]);
    expect(ourFile.format).toBe('keras3');
    expect(summary(ours[2]![1])).toEqual(summary(keras[2]![1]));
  });

  it('loads back (loadKerasModel) to outputs identical to the reference model’s', async () => {
    const [reloaded, reference] = await Promise.all([loadKerasModel(path()), loadKerasModel(file)]);
    const inputs = modelInputs();
    expect(await outputs(reloaded, inputs)).toEqual(await outputs(reference, inputs));
    tf.dispose(inputs);
    [reloaded, reference].forEach((model) => model.dispose());
  });
});

describe('config.json of models Keras built, loaded and saved by us', () => {
  it.each(['zoo_sequential', 'zoo_functional'])('%s: equal to Keras’s', (name) => {
    const model = buildKerasModel(kerasConfigOf(name), name).layer;
    expect(configDifferences(kerasModelConfig(model), kerasConfigOf(name), { keras315: true })).toEqual({ differences: [], allowed: 0 });
    model.dispose();
  });

  // Keras 3.15.1's keras.applications configs (config only): ConvNeXt's `x + y` and MobileNetV3's `x + 3.0` are
  // operation nodes that load as KerasOperation and must be written back as the same nodes. A loaded model keeps
  // its calls' `training: false` (so no 3.15 allowance for the Dropouts); ConvNeXt's LayerNormalization axes are
  // written as 3.16 does.
  it.each([
    ['ConvNeXtTiny-notop_avg_128x160', { keras315: true }],
    ['MobileNetV3Small-top_default', {}],
    ['EfficientNetB0-notop_avg_128x160', {}],
  ] as [string, Allowances][])('%s: equal to Keras’s', (name, allow) => {
    const config = JSON.parse(readFileSync(`${CONFIGS}/${name}.config.json`, 'utf8')) as unknown;
    const model = buildKerasModel(config, name).layer;
    expect(configDifferences(kerasModelConfig(model), config, allow)).toEqual({ differences: [], allowed: 0 });
    model.dispose();
  });
});

describe("a Keras 2 model (tf.keras's layout) loaded and saved as Keras 3", () => {
  // functional_multi (a shared layer, two inputs, merges) as tf.keras 2.x writes it into a full-model .h5.
  it('is the archive Keras 3 writes for the same model and reads back to identical outputs', async () => {
    const keras3 = JSON.parse(text(unzipSync(readFileSync(`${REF}/functional_multi.keras`))['config.json'])) as Parameters<typeof keras2Functional>[0];
    const file = join(dir, 'functional_multi-keras2.h5');
    await writeFullModelH5(file, keras2Functional(keras3), await readWeightsFile(`${REF}/functional_multi.h5`), '2.15.0');
    const model = await loadKerasModel(file);
    const path = join(dir, 'functional_multi-keras2.keras');
    await saveKerasModel(model, path);
    const archive = members(readFileSync(path));
    expect(archive.map(([member]) => member)).toEqual(MEMBERS);
    // The config Keras 3 writes for that model, but with tf.keras's listed output kept as Keras 3 keeps it on
    // loading the .h5 (test/integration/keras-python.test.ts compares with Keras's own save of this file).
    const listedOutput = { ...keras3, config: { ...keras3.config, output_layers: [keras3.config.output_layers] } };
    expect(configDifferences(JSON.parse(text(archive[1]![1])), listedOutput)).toEqual({ differences: [], allowed: 0 });
    expect(readWeights(archive[2]![1]).format).toBe('keras3');
    const reloaded = await loadKerasModel(path);
    const inputs = referenceInputs('functional_multi');
    expect(await outputs(reloaded, inputs)).toEqual(await outputs(model, inputs));
    tf.dispose(inputs);
    [model, reloaded].forEach((m) => m.dispose());
  });
});

/**
 * Our builders against Keras's (weights=None): equal but for tfjs's default Glorot-normal kernel initializers
 * (counted), and the builder's own known differences: `axisDiffers`, the BatchNormalization axis our builder gives
 * (3 or -1, the same axis of a feature map) where Keras's builder gives the other form; `known`, others listed.
 */
const BUILDERS: [string, () => Promise<tfl.LayersModel>, { axisDiffers?: boolean; known?: string[] }][] = [
  ['mobilenet_025_128_head', async () => withNewHead(await mobilenet({ alpha: 0.25, inputShape: [128, 128, 3], includeTop: false, weights: null }), { classes: 5, dropout: 0.2, seed: 7 }), { axisDiffers: true }],
  ['ResNet50', () => resnet50({ weights: null }), {}],
  ['ResNet50V2', () => resnet50V2({ weights: null }), {}],
  ['VGG16_notop', () => vgg16({ includeTop: false, weights: null }), {}],
  ['InceptionV3', () => inceptionV3({ weights: null }), {}],
  ['InceptionResNetV2', () => inceptionResNetV2({ weights: null }), {}],
  ['MobileNet', () => mobilenet({ weights: null }), { axisDiffers: true }],
  // Conv_1, a 1×1 convolution with stride 1: 'same' and 'valid' compute the same.
  ['MobileNetV2', () => mobilenetV2({ weights: null }), { axisDiffers: true, known: ['$.config.layers[151].config.padding: "same", Keras "valid"'] }],
  // Its `x + 3.0` and `x * (1 / 6)` are Keras operations (ScalarOperation here), not layers.
  ['MobileNetV3Small', () => mobilenetV3Small({ weights: null }), { axisDiffers: true }],
  ['Xception', () => xception({ weights: null }), { axisDiffers: true }],
  ['NASNetMobile', () => nasnetMobile({ weights: null }), { axisDiffers: true }],
  ['DenseNet121', () => densenet121({ weights: null }), { axisDiffers: true }],
];

describe('config.json of builder models against Keras’s builders', () => {
  const allow: Allowances = { keras315: true, tfjsDefaultInitializers: true };
  it.each(BUILDERS)('%s', async (name, build, { axisDiffers, known = [] }) => {
    const model = await build();
    const { differences, allowed } = configDifferences(kerasModelConfig(model), kerasConfigOf(name), allow, Infinity);
    model.dispose();
    const axis = /\.config\.axis: (3, Keras -1|-1, Keras 3)$/;
    const others = differences.filter((difference) => !(axisDiffers && axis.test(difference)));
    console.log(`${name}: ${differences.length - others.length} BatchNormalization axis forms, ${allowed} tfjs default initializers`);
    expect(others).toEqual(known);
  });
});

describe('refused models and failed writes', () => {
  let disk: SmallDisk | undefined;
  afterEach(() => {
    disk?.unmount();
    disk = undefined;
  });

  const small = (): tfl.LayersModel =>
    tfl.sequential({ name: 'small', layers: [tfl.layers.dense({ units: 2, inputShape: [3], name: 'fc' })] });

  it('a layer with no Keras 3 class: UnsupportedModelError naming the layer and its class; nothing written', async () => {
    const input = tfl.input({ shape: [4], name: 'x' });
    const model = tfl.model({ inputs: input, outputs: tfl.layers.repeatVector({ n: 2, name: 'repeat' }).apply(input) as tfl.SymbolicTensor });
    const path = join(dir, 'refused.keras');
    await expect(saveKerasModel(model, path)).rejects.toThrow(UnsupportedModelError);
    await expect(kerasModelBytes(model)).rejects.toThrow(/^Layer 'repeat' \(RepeatVector\): saveKerasModel has no Keras 3 class for it\. Supported: Dense, /);
    expect(() => readFileSync(path)).toThrow(/ENOENT/);
    model.dispose();
  });

  it('a missing folder: FileWriteError naming the path', async () => {
    const model = small();
    const path = join(dir, 'no-such-folder', 'm.keras');
    await expect(saveKerasModel(model, path)).rejects.toThrow(new FileWriteError(`Cannot write '${path}': its folder does not exist (ENOENT). Nothing was replaced; create the folder first.`));
    model.dispose();
  });

  it.skipIf(smallDiskSkipReason !== undefined)('a read-only folder or a full disk: FileWriteError, the previous file untouched', async () => {
    const previous = `${REF}/functional_multi.keras`;
    const model = small();
    disk = mountSmallDisk(64 * 1024, { readOnly: true, populate: (folder) => copyFileSync(previous, join(folder, 'm.keras')) });
    await expect(saveKerasModel(model, join(disk.dir, 'm.keras'))).rejects.toThrow(/the file system is read-only \(EROFS\)/);
    expect(readFileSync(join(disk.dir, 'm.keras'))).toEqual(readFileSync(previous));
    disk.unmount();
    disk = mountSmallDisk(64 * 1024, { populate: (folder) => copyFileSync(previous, join(folder, 'm.keras')) });
    disk.fill(0);
    await expect(saveKerasModel(model, join(disk.dir, 'm.keras'))).rejects.toThrow(FileWriteError);
    expect(readFileSync(join(disk.dir, 'm.keras'))).toEqual(readFileSync(previous));
    model.dispose();
  });
});
