// compileForInference's device: a GPU when an engine starts on one, else the CPU; 'gpu' fails naming what is
// missing and how to install it; a combination that cannot run is an ArgumentError. This machine has no GPU, no
// CUDA provider for onnxruntime-node and a CPU tfjs backend (wasm).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBackend } from '../src/backend';
import { ArgumentError } from '../src/errors';
import { compileForInference } from '../src/inference/index';

function denseModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [4] });
  return tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(input) as tfl.SymbolicTensor });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ArgumentError);
  return (error as Error).message;
}

beforeAll(ensureBackend);
afterEach(() => vi.unstubAllEnvs());

describe('compileForInference device', () => {
  it("'gpu' fails here naming each GPU path, what it lacks and how to install it", async () => {
    const model = denseModel();
    const message = await refusal(compileForInference(model, { device: 'gpu' }));
    expect(message).toMatch(/^device 'gpu' cannot run here: onnxruntime on the gpu: onnxruntime-node's CUDA provider is not installed/);
    expect(message).toContain('`ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm install onnxruntime-node`');
    expect(message).toContain("tfjs-fused on the gpu: the tfjs backend 'wasm' computes on the cpu (a GPU needs tfjs-node-gpu");
    expect(message).toContain("tfjs on the gpu: the tfjs backend 'wasm' computes on the cpu");
    vi.stubEnv('KERAS_APPLICATIONS_DEVICE', 'gpu');
    expect(await refusal(compileForInference(model))).toMatch(/^device 'gpu' cannot run here/);
    model.dispose();
  });

  it('a named engine on a device it cannot use here is an ArgumentError', async () => {
    const model = denseModel();
    // The reason WebGPU in Node (Dawn) does not start here depends on the Vulkan drivers: test/node-webgpu.test.ts.
    expect(await refusal(compileForInference(model, { engine: 'tfjs-fused', device: 'gpu' }))).toMatch(
      new RegExp(
        "^engine 'tfjs-fused' and device 'gpu' cannot run here: tfjs-fused on the gpu: the tfjs backend 'wasm' computes on the cpu " +
          '\\(a GPU needs tfjs-node-gpu, or WebGL/WebGPU in a browser\\), and WebGPU in Node \\(npm install webgpu @tensorflow/tfjs-backend-webgpu\\) did not start: [^;]+$',
      ),
    );
    model.dispose();
  });

  it("'auto' and 'cpu' run on the CPU here, and say why not on a GPU when asked", async () => {
    const model = denseModel();
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    vi.stubEnv('KERAS_APPLICATIONS_VERBOSE', '1');
    for (const device of ['auto', 'cpu'] as const) {
      const predictor = await compileForInference(model, { device });
      expect(predictor.engine).toBe('onnxruntime');
      const output = (await predictor.predict(tf.ones([1, 4]))) as tf.Tensor;
      expect(output.shape).toEqual([1, 2]);
      tf.dispose(output);
      predictor.dispose();
    }
    expect(errors[0]).toMatch(/^keras-applications: predicting with 'onnxruntime' on the cpu \('wasm'\) \[onnxruntime on the gpu: onnxruntime-node's CUDA provider is not installed/);
    expect(errors[1]).toBe("keras-applications: predicting with 'onnxruntime' on the cpu ('wasm')");
    vi.restoreAllMocks();
    model.dispose();
  });

  it('refuses an unknown device, from the option or the environment', async () => {
    const model = denseModel();
    expect(await refusal(compileForInference(model, { device: 'tpu' as never }))).toBe("device: unknown device 'tpu'. Allowed: auto, cpu, gpu");
    vi.stubEnv('KERAS_APPLICATIONS_DEVICE', 'npu');
    expect(await refusal(compileForInference(model))).toBe("KERAS_APPLICATIONS_DEVICE: unknown device 'npu'. Allowed: auto, cpu, gpu");
    model.dispose();
  });
});
