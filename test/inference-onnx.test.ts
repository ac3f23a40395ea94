import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InputShape } from '../src/applications/types';
import { getApplication } from '../src/applications/registry';
import { ensureBackend } from '../src/backend';
import { ArgumentError, UnsupportedModelError } from '../src/errors';
import { exportOnnx, OnnxExportError } from '../src/inference/onnx-export';
import { onnxPredictor, OnnxRuntimeUnavailableError } from '../src/inference/onnx-runtime';
import { loadWeights } from '../src/weights/apply';
import { describeEngineReference, REPRESENTATIVE_CONFIGS } from './helpers/engine-ref-suite';
import { generatedInput } from './helpers/generator';
import { builderOptions, fixtureConfig, fixtureInput, generatedWeightsFile, outputError, relativeError } from './helpers/keras-ref';
import { buildTiny, H5_DIR, tinyReference } from './helpers/tiny';

// The 'onnxruntime' engine: our models exported to ONNX and run by ONNX Runtime must give Keras's numbers
// (test/fixtures/keras-ref), one config per family, so every layer type the builders use is translated.

const ortError = await import('onnxruntime-node').then(
  () => undefined,
  (error: Error) => error.message,
);
if (ortError && process.env.CI) throw new Error(`onnxruntime-node does not load: ${ortError}`);
if (ortError) console.warn(`inference-onnx.test.ts skipped: onnxruntime-node does not load (${ortError})`);

const TOLERANCE = 1e-4;

/** A model with a layer ONNX export has no translation for. */
function upsamplingModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3] });
  return tfl.model({ inputs: input, outputs: tfl.layers.upSampling2d({ size: [2, 2], name: 'upsample' }).apply(input) as tfl.SymbolicTensor });
}
/** One thread: the test workers already share the machine's cores. */
const compile = (model: tfl.LayersModel) => onnxPredictor(model, { intraOpNumThreads: 1 });

beforeAll(ensureBackend);

describe.skipIf(ortError)('onnxruntime', () => {
  // Besides one config per family: VGG16's top, whose Flatten must keep Keras's NHWC order.
  describeEngineReference('onnxruntime', compile, [...REPRESENTATIVE_CONFIGS, ['VGG16', 'top_default']], TOLERANCE);

  it('fails on a layer it cannot translate, so compileForInference falls back to another engine', async () => {
    const model = upsamplingModel();
    await expect(onnxPredictor(model)).rejects.toThrow(OnnxExportError);
    model.dispose();
  });

  it('drops execution providers that do not start, in order, and fails naming them when none does', async () => {
    const input = tfl.input({ shape: [4] });
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(input) as tfl.SymbolicTensor });
    // 'cuda' starts only where onnxruntime-node's install script fetched the CUDA provider; 'cpu' always does.
    const predictor = await onnxPredictor(model, { executionProviders: ['cuda', 'cpu'] });
    expect([['cuda', 'cpu'], ['cpu']]).toContainEqual(predictor.executionProviders);
    predictor.dispose();
    await expect(onnxPredictor(model, { executionProviders: ['no-such-provider'] })).rejects.toThrow(OnnxRuntimeUnavailableError);
    await expect(onnxPredictor(model, { executionProviders: ['no-such-provider'] })).rejects.toThrow(/none of the execution providers \["no-such-provider"\]: no-such-provider: /);
    model.dispose();
  });

  it.each([
    ['ResNet50', 'notop_avg_128x160'],
    ['Xception', 'notop_avg_160x192'],
  ])("%s built for any image size runs the fixture's %s input as Keras does", async (builder, id) => {
    const config = fixtureConfig(builder, id);
    const options = { ...builderOptions(config.kwargs), inputShape: [null, null, 3] as InputShape, weights: generatedWeightsFile(config) };
    const model = await getApplication(builder).build(options);
    const predictor = await compile(model);
    model.dispose();
    const input = fixtureInput(config);
    const output = (await predictor.predict(input)) as tf.Tensor;
    expect(outputError(config, await output.data())).toBeLessThanOrEqual(TOLERANCE);
    tf.dispose([input, output]);
    predictor.dispose();
  });

  it('applies per-channel Rescaling to a feature map held channels-first (EfficientNet with ImageNet weights)', async () => {
    // A 1×1 identity convolution puts the map in ONNX's channels-first layout; Keras's Rescaling then
    // multiplies channel c by scale[c] and adds the offset: x·[1, 2, 3] + 0.5 by hand.
    const input = tfl.input({ shape: [2, 2, 3] });
    const identity = tfl.layers.conv2d({ filters: 3, kernelSize: 1, useBias: false, weights: [tf.reshape(tf.eye(3), [1, 1, 3, 3])] });
    const rescale = tfl.layers.rescaling({ scale: [1, 2, 3] as unknown as number, offset: 0.5 });
    const model = tfl.model({ inputs: input, outputs: rescale.apply(identity.apply(input)) as tfl.SymbolicTensor });
    const predictor = await compile(model);
    const x = tf.tensor4d([1, 10, 100, 2, 20, 200, 3, 30, 300, 4, 40, 400], [1, 2, 2, 3]);
    const y = (await predictor.predict(x)) as tf.Tensor;
    expect(Array.from(await y.data())).toEqual([1.5, 20.5, 300.5, 2.5, 40.5, 600.5, 3.5, 60.5, 900.5, 4.5, 80.5, 1200.5]);
    tf.dispose([x, y]);
    predictor.dispose();
    model.dispose();
  });

  it("keeps ZeroPadding2D's zeros in the max of the pool after it (ONNX Runtime would fold them away)", async () => {
    // Every window of the padded 4×4 map holds one −1 and three padding zeros: Keras's max is 0.
    const input = tfl.input({ shape: [2, 2, 1] });
    const padded = tfl.layers.zeroPadding2d({ padding: 1 }).apply(input);
    const model = tfl.model({ inputs: input, outputs: tfl.layers.maxPooling2d({ poolSize: 2 }).apply(padded) as tfl.SymbolicTensor });
    const predictor = await compile(model);
    const x = tf.fill([1, 2, 2, 1], -1);
    const y = (await predictor.predict(x)) as tf.Tensor;
    expect(Array.from(await y.data())).toEqual([0, 0, 0, 0]);
    tf.dispose([x, y]);
    predictor.dispose();
    model.dispose();
  });

  it('runs a batch of two through a nested Sequential with weights Keras wrote (tiny_legacy.h5)', async () => {
    const model = buildTiny();
    await loadWeights(model, `${H5_DIR}tiny_legacy.h5`);
    const predictor = await compile(model);
    const input = tf.tensor(generatedInput(tinyReference.input.shape), tinyReference.input.shape);
    const output = (await predictor.predict(input)) as tf.Tensor;
    const rows = (await output.array()) as number[][];
    tinyReference.output.values.forEach((row, i) => expect(relativeError(rows[i]!, row)).toBeLessThan(TOLERANCE));
    tf.dispose([input, output]);
    predictor.dispose();
    model.dispose();
  });
});

describe('ONNX export refuses what it cannot translate', () => {
  it('names a layer type it has no translation for', () => {
    const model = upsamplingModel();
    expect(() => exportOnnx(model)).toThrow(OnnxExportError);
    expect(() => exportOnnx(model)).toThrow(/layer 'upsample' of type UpSampling2D has no ONNX translation/);
    model.dispose();
  });

  it('names the layer and the setting for a configuration it does not translate', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const output = tfl.layers.batchNormalization({ axis: 1, name: 'bn_rows' }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    expect(() => exportOnnx(model)).toThrow(/layer 'bn_rows' of type BatchNormalization: axis 1 \(only the last axis is translated\)/);
    model.dispose();
  });

  it('names an activation it has no translation for', () => {
    const input = tfl.input({ shape: [4] });
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2, activation: 'gelu_new', name: 'scores' }).apply(input) as tfl.SymbolicTensor });
    expect(() => exportOnnx(model)).toThrow(new OnnxExportError("ONNX export: layer 'scores' of type Dense: activation 'gelu_new' has no ONNX translation"));
    model.dispose();
  });
});

describe('onnxPredictor arguments', () => {
  const model = () => {
    const input = tfl.input({ shape: [4] });
    return tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(input) as tfl.SymbolicTensor });
  };

  it.each([0, 1.5, '2'])('rejects intraOpNumThreads=%j', async (threads) => {
    await expect(onnxPredictor(model(), { intraOpNumThreads: threads as number })).rejects.toThrow(
      new ArgumentError(`\`intraOpNumThreads\` must be an integer >= 1. Received: intraOpNumThreads=${typeof threads === 'string' ? `'${threads}'` : threads}`),
    );
  });

  it.each([[[]], ['cpu'], [[1]]])('rejects executionProviders=%j', async (providers) => {
    await expect(onnxPredictor(model(), { executionProviders: providers as unknown as string[] })).rejects.toThrow(/`executionProviders` must be a non-empty list/);
  });

  it('rejects a threadSpinning that is not a boolean', async () => {
    await expect(onnxPredictor(model(), { threadSpinning: 'yes' as never })).rejects.toThrow(
      new ArgumentError("`threadSpinning` must be true or false. Received: threadSpinning='yes'"),
    );
  });

  it('rejects a model with two inputs (a predictor takes one tensor)', async () => {
    const [a, b] = [tfl.input({ shape: [4], name: 'a' }), tfl.input({ shape: [4], name: 'b' })];
    const model = tfl.model({ inputs: [a, b], outputs: tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor, name: 'pair' });
    await expect(onnxPredictor(model)).rejects.toThrow(new UnsupportedModelError("model: the onnxruntime engine runs models with one input; 'pair' has 2"));
  });

  it('rejects an unknown option', async () => {
    await expect(onnxPredictor(model(), { intra_op_num_threads: 2 } as never)).rejects.toThrow(ArgumentError);
    await expect(onnxPredictor(model(), { intra_op_num_threads: 2 } as never)).rejects.toThrow(/Unknown option `intra_op_num_threads` for onnxPredictor/);
  });
});
