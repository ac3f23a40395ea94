// Child process of test/integration/node-webgpu.test.ts: WebGPU in Node (Dawn) on a software adapter, accepted here
// only to check the path end to end (the device choice never takes one). Prints one JSON line.
import * as tf from '@tensorflow/tfjs-core';
import { getApplication } from '../../src/applications/registry';
import { decodePredictions } from '../../src/applications/imagenet-utils';
import { ensureBackend } from '../../src/backend';
import { useNodeWebGpu } from '../../src/backend/node-webgpu';
import { compileForInference } from '../../src/inference/index';
import { builderOptions, fixtureConfig, fixtureInput, generatedWeightsFile, outputError } from './keras-ref';

await ensureBackend();
const [builder, id] = process.argv.slice(2) as [string, string];
const config = fixtureConfig(builder, id);
// The model is built on the CPU backend, as a user's would be before the first compileForInference.
const model = await getApplication(builder).build({ ...builderOptions(config.kwargs), weights: generatedWeightsFile(config) });
const problem = await useNodeWebGpu({ software: true });
if (problem) throw new Error(problem);
const predictor = await compileForInference(model, { device: 'gpu' });
const output = (await predictor.predict(fixtureInput(config))) as tf.Tensor;
// decodePredictions reads synchronously: on WebGPU in Node only values already read can be.
const top5 = decodePredictions(output, 5)[0]!.map((p) => p.classId);
console.log(JSON.stringify({ backend: tf.getBackend(), engine: predictor.engine, error: outputError(config, await output.data()), top5 }));
