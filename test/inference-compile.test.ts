import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { ArgumentError } from '../src/errors';
import { compileForInference, ENGINE_ENV_VAR } from '../src/inference/index';
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
  return tfl.model({ inputs: input, outputs: output });
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

  it('rejects a model with two inputs on the fused engine, naming the model', async () => {
    const a = tfl.input({ shape: [4] });
    const b = tfl.input({ shape: [4] });
    const sum = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: [a, b], outputs: sum, name: 'pair' });
    await expect(compileForInference(model, { engine: 'tfjs-fused' })).rejects.toThrow(/'pair' has 2/);
  });
});
