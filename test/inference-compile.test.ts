import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { ArgumentError, UnsupportedModelError } from '../src/errors';
import { fusedPredictor } from '../src/inference/fused';
import { compileForInference, ENGINE_ENV_VAR, type EngineChoice } from '../src/inference/index';
import { exportOnnx } from '../src/inference/onnx-export';
import { onnxPredictor } from '../src/inference/onnx-runtime';
import { relativeError } from './helpers/keras-ref';

/** A layer no exporter knows: the fused engine must run it as itself. */
class TimesTwo extends tfl.layers.Layer {
  static className = 'TimesTwo';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, 2);
  }
}

function smallModel(extra?: tfl.layers.Layer): tfl.LayersModel {
  const input = tfl.input({ shape: [16, 16, 3] });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }).apply(input);
  x = tfl.layers.batchNormalization().apply(x);
  x = tfl.layers.activation({ activation: 'relu' }).apply(x);
  if (extra) x = extra.apply(x);
  x = tfl.layers.globalAveragePooling2d({}).apply(x);
  const output = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'small' });
}

/** Any image size: a 3×3 'valid' convolution then a 2×2 pool need at least 4×4. */
function openSizeModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [null, null, 3] });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv' }).apply(input);
  x = tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(x);
  const output = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'open' });
}

function twoInputModel(): tfl.LayersModel {
  const [a, b] = [tfl.input({ shape: [4] }), tfl.input({ shape: [4] })];
  return tfl.model({ inputs: [a, b], outputs: tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor, name: 'pair' });
}

const onnxRuntimeLoads = await import('onnxruntime-node').then(() => true, () => false);

beforeAll(() => ensureBackend());
afterEach(() => {
  delete process.env[ENGINE_ENV_VAR];
});

describe('compileForInference', () => {
  it(`'auto' picks onnxruntime when onnxruntime-node loads (here: ${onnxRuntimeLoads}), else tfjs-fused`, async () => {
    const predictor = await compileForInference(smallModel());
    expect(predictor.engine).toBe(onnxRuntimeLoads ? 'onnxruntime' : 'tfjs-fused');
    predictor.dispose();
  });

  it("'auto' falls back to tfjs-fused for a model ONNX cannot express, which runs the unknown layer as itself", async () => {
    const model = smallModel(new TimesTwo({}));
    const predictor = await compileForInference(model, { engine: 'auto' });
    expect(predictor.engine).toBe('tfjs-fused');
    const x = tf.randomUniform([2, 16, 16, 3], -1, 1, 'float32', 7);
    const ours = (await predictor.predict(x)) as tf.Tensor;
    const reference = model.predict(x) as tf.Tensor;
    expect(relativeError(await ours.data(), await reference.data())).toBeLessThan(1e-6);
    predictor.dispose();
  });

  it('uses the engine named in options, then the environment variable', async () => {
    process.env[ENGINE_ENV_VAR] = 'tfjs';
    const model = smallModel();
    expect((await compileForInference(model)).engine).toBe('tfjs');
    expect((await compileForInference(model, { engine: 'tfjs-fused' })).engine).toBe('tfjs-fused');
  });

  it('rejects an unknown engine, in options or in the environment, and unknown options', async () => {
    const model = smallModel();
    await expect(compileForInference(model, { engine: 'fast' as never })).rejects.toThrow(ArgumentError);
    await expect(compileForInference(model, { engine: 'fast' as never })).rejects.toThrow(/engine: unknown engine 'fast'. Allowed: auto, onnxruntime, tfjs-fused, tfjs/);
    await expect(compileForInference(model, { backend: 'wasm' } as never)).rejects.toThrow('Unknown option `backend` for compileForInference. Allowed: engine');
    process.env[ENGINE_ENV_VAR] = 'onnx';
    await expect(compileForInference(model)).rejects.toThrow(`${ENGINE_ENV_VAR}: unknown engine 'onnx'. Allowed: auto, onnxruntime, tfjs-fused, tfjs`);
  });

  it('rejects what is not a LayersModel, on every entry point', async () => {
    const notAModel = (caller: string, received: string) =>
      new ArgumentError(`${caller}: \`model\` must be a tfjs LayersModel (what the builders and loadModel return). Received: ${received}`);
    await expect(compileForInference(undefined as never)).rejects.toThrow(notAModel('compileForInference', 'undefined'));
    expect(() => fusedPredictor({} as never)).toThrow(notAModel('fusedPredictor', 'Object'));
    expect(() => exportOnnx('model.onnx' as never)).toThrow(notAModel('exportOnnx', 'string'));
    await expect(onnxPredictor(null as never)).rejects.toThrow(notAModel('onnxPredictor', 'null'));
  });
});

const ENGINES: EngineChoice[] = onnxRuntimeLoads ? ['tfjs', 'tfjs-fused', 'onnxruntime'] : ['tfjs', 'tfjs-fused'];

describe('every engine refuses what the user got wrong with our error classes', () => {
  it.each(ENGINES)('%s: a tensor of the wrong rank or size, or not a tensor', async (engine) => {
    const model = smallModel();
    const predictor = await compileForInference(model, { engine });
    for (const shape of [[1, 8, 8, 3], [1, 16, 16, 1], [16, 16, 3]]) {
      const x = tf.ones(shape);
      await expect(predictor.predict(x)).rejects.toThrow(
        new ArgumentError(`predict: \`x\` must have the shape model 'small' takes, [null,16,16,3] (null: any size). Received: shape ${JSON.stringify(shape)}`),
      );
      x.dispose();
    }
    await expect(predictor.predict([[1, 2, 3]] as never)).rejects.toThrow(new ArgumentError('predict: `x` must be a tf.Tensor. Received: Array'));
    predictor.dispose();
    model.dispose();
  });

  it.each(ENGINES)('%s: an image too small for a model of open size, naming the layer it vanishes in', async (engine) => {
    const model = openSizeModel();
    const predictor = await compileForInference(model, { engine });
    const [small, enough] = [tf.ones([1, 3, 3, 3]), tf.ones([1, 4, 5, 3])];
    await expect(predictor.predict(small)).rejects.toThrow(
      new ArgumentError("predict: `x` of shape [1,3,3,3] does not fit model 'open': layer 'pool' would output shape [1,0,0,4]: the input is too small for the model"),
    );
    const output = (await predictor.predict(enough)) as tf.Tensor;
    expect(output.shape).toEqual([1, 4]);
    tf.dispose([small, enough, output]);
    predictor.dispose();
    model.dispose();
  });

  it.each(ENGINES.filter((engine) => engine !== 'tfjs'))('%s: predicting after dispose()', async (engine) => {
    const model = smallModel();
    const predictor = await compileForInference(model, { engine });
    predictor.dispose();
    const x = tf.ones([1, 16, 16, 3]);
    await expect(predictor.predict(x)).rejects.toThrow(new ArgumentError(`predict: this ${engine} predictor was disposed; compile the model again to predict`));
    x.dispose();
    model.dispose();
  });
});

describe('an engine refuses a model it cannot run with an UnsupportedModelError', () => {
  it.each(ENGINES.filter((engine) => engine !== 'tfjs'))('%s: a model with two inputs, naming the model', async (engine) => {
    const model = twoInputModel();
    await expect(compileForInference(model, { engine })).rejects.toThrow(
      new UnsupportedModelError(`model: the ${engine} engine runs models with one input; 'pair' has 2`),
    );
    model.dispose();
  });

  it.skipIf(!onnxRuntimeLoads)('onnxruntime: a layer it has no translation for, naming the layer and its type', async () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const model = tfl.model({ inputs: input, outputs: tfl.layers.upSampling2d({ size: [2, 2], name: 'upsample' }).apply(input) as tfl.SymbolicTensor });
    const refusal = compileForInference(model, { engine: 'onnxruntime' });
    await expect(refusal).rejects.toThrow(UnsupportedModelError);
    await expect(refusal).rejects.toThrow(/layer 'upsample' of type UpSampling2D has no ONNX translation/);
    model.dispose();
  });
});
