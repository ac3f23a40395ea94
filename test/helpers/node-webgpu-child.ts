// Child process of test/node-webgpu.test.ts: Dawn reads VK_ICD_FILENAMES (which Vulkan drivers exist) once per
// process. Prints one JSON line: what device 'gpu' answers for a small model, and what 'auto' then picks.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ensureBackend } from '../../src/backend';
import { compileForInference } from '../../src/inference/index';

await ensureBackend();
const input = tfl.input({ shape: [4] });
const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(input) as tfl.SymbolicTensor });
const gpu = await compileForInference(model, { engine: 'tfjs-fused', device: 'gpu' }).then(
  (predictor) => `ran on ${predictor.engine}`,
  (err: Error) => `${err.name}: ${err.message}`,
);
const auto = await compileForInference(model);
console.log(JSON.stringify({ gpu, auto: auto.engine, backend: tf.getBackend() }));
