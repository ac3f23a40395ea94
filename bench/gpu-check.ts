// The GPU check for a machine with an NVIDIA GPU (bench/gpu-check.sh runs it). For every GPU path that starts here it
// checks Keras's outputs on ResNet50, EfficientNetB0 and VGG16 (the fixtures' top_default configs: within 1e-3
// relative, as GPUs may use TF32, and the same top 5) and times batch 1 and 32 against the CPU engine; for every path
// that does not start it prints why. Figures are for docs/performance.md, never for assertions.
//   npx tsx bench/gpu-check.ts [--models ResNet50,EfficientNetB0,VGG16] [--batches 1,32] [--reps 10]
//   --software: WebGPU in Node (Dawn) on a software adapter too (SwiftShader, lavapipe), to measure one; the device
//               choice never takes it. Pick Vulkan's driver with VK_ICD_FILENAMES, e.g. Chromium's SwiftShader:
//               VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { getApplication } from '../src/applications/registry';
import { ensureBackend } from '../src/backend';
import { useNodeWebGpu } from '../src/backend/node-webgpu';
import { onnxCudaProblem, tfjsDevice } from '../src/inference/devices';
import { compileForInference } from '../src/inference/index';
import type { InferenceEngine, Predictor } from '../src/inference/types';
import { builderOptions, fixtureConfig, fixtureInput, generatedWeightsFile, outputError } from '../test/helpers/keras-ref';

const { values: flags } = parseArgs({
  options: {
    models: { type: 'string', default: 'ResNet50,EfficientNetB0,VGG16' },
    batches: { type: 'string', default: '1,32' },
    reps: { type: 'string', default: '10' },
    software: { type: 'boolean', default: false },
  },
});
const MODELS = flags.models.split(',');
const BATCHES = flags.batches.split(',').map(Number);
const REPS = Number(flags.reps);

await ensureBackend();
const gpuEngines: InferenceEngine[] = [];
const cudaProblem = await onnxCudaProblem();
if (cudaProblem) console.log(`onnxruntime on the gpu: skipped (${cudaProblem})`);
else gpuEngines.push('onnxruntime');
if (tfjsDevice() === 'cpu') {
  // WebGPU in Node: Dawn switches tfjs's backend to 'webgpu' when it finds a GPU (or, with --software, any adapter).
  const dawnProblem = await useNodeWebGpu({ software: flags.software });
  if (dawnProblem) console.log(`tfjs-fused on WebGPU in Node (webgpu, Dawn): skipped (${dawnProblem})`);
}
if (tfjsDevice() === 'gpu') gpuEngines.push('tfjs-fused');
else console.log(`tfjs-fused on the gpu: skipped (the tfjs backend '${tf.getBackend()}' computes on the cpu; install @tensorflow/tfjs-node-gpu)`);
if (gpuEngines.length === 0) {
  console.log('No GPU path starts here: nothing to measure.');
  process.exit(0);
}
const software = flags.software && tf.getBackend() === 'webgpu' ? ' (software adapter)' : '';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timeMs(predictor: Predictor, input: tf.Tensor): Promise<number> {
  const times: number[] = [];
  for (let rep = 0; rep < REPS + 1; rep++) {
    const start = performance.now();
    const output = (await predictor.predict(input)) as tf.Tensor;
    await output.data();
    output.dispose();
    if (rep > 0) times.push(performance.now() - start); // The first run warms up.
  }
  return median(times);
}

const batchColumns = BATCHES.map((batch) => `batch ${batch} ms`);
// Each row is printed when measured: a slow path (a software adapter) still shows the rows before it.
console.log(`| model | engine | device | relative error | top-5 as Keras | ${batchColumns.join(' | ')} |`);
console.log(`|---|---|---|---|---|${batchColumns.map(() => '---').join('|')}|`);
for (const name of MODELS) {
  const config = fixtureConfig(name, 'top_default');
  const model = await getApplication(name).build({ ...builderOptions(config.kwargs), weights: generatedWeightsFile(config) });
  const input = fixtureInput(config);
  const batches = BATCHES.map((batch) => tf.tile(input, [batch, 1, 1, 1]));
  const cpu = await compileForInference(model, { device: 'cpu' });
  const reference = (await cpu.predict(input)) as tf.Tensor;
  const top5 = async (t: tf.Tensor) => {
    const { values, indices } = tf.topk(t, 5);
    const classes = Array.from(await indices.data()).join(',');
    tf.dispose([values, indices]);
    return classes;
  };
  const cpuTop5 = await top5(reference);
  const runs: [string, Predictor][] = [['cpu', cpu]];
  for (const engine of gpuEngines) runs.push([`gpu${engine === 'tfjs-fused' ? `, ${tf.getBackend()}${software}` : ''}`, await compileForInference(model, { engine, device: 'gpu' })]);
  for (const [device, predictor] of runs) {
    const output = (await predictor.predict(input)) as tf.Tensor;
    const error = outputError(config, await output.data());
    const sameTop5 = (await top5(output)) === cpuTop5;
    const times: string[] = [];
    for (const batch of batches) times.push((await timeMs(predictor, batch)).toFixed(batch.shape[0] === 1 ? 1 : 0));
    console.log(`| ${name} | ${predictor.engine} | ${device} | ${error.toExponential(1)} ${error <= 1e-3 ? '✓' : '✗'} | ${sameTop5 ? 'yes' : 'NO'} | ${times.join(' | ')} |`);
    output.dispose();
    predictor.dispose();
  }
  tf.dispose([input, ...batches, reference]);
  model.dispose();
}
