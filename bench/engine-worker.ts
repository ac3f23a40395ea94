// One Node process of bench/pytorch-compare.ts: builds a model (random weights) and times our engines on it,
// one run per request, so the orchestrator can interleave them with the other processes' runs.
//   stdin  {"cmd":"load","model":"resnet50","batch":1,"engines":["tfjs","tfjs-fused"]}  ->  {"ok":true,"engines":{...}}
//   stdin  {"cmd":"run","engine":"tfjs-fused"}                              ->  {"ms":412.3,"cpuMs":401.7}
// cpuMs is the process's CPU time (every thread) during the run: unlike ms, other processes barely change it.
// argv[2]: wasm threads (1 = tfjs's default in Node; more starts the threaded binary, src/backend/wasm-threads.ts).
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { getApplication } from '../src/applications/registry';
import { compileForInference } from '../src/inference/index';
import type { InferenceEngine, Predictor } from '../src/inference/types';
import { useThreadedWasmBackend } from '../src/backend/wasm-threads';
import { selectBackend } from '../src/backend';

/** Our builder for each model name the orchestrator and torch_models.py share. */
const KERAS_NAMES: Record<string, string> = {
  resnet50: 'ResNet50',
  mobilenetv2: 'MobileNetV2',
  efficientnetb0: 'EfficientNetB0',
  vgg16: 'VGG16',
};

interface Request {
  cmd: 'load' | 'run';
  model?: string;
  batch?: number;
  engines?: InferenceEngine[];
  engine?: InferenceEngine;
}

const threads = Number(process.argv[2] ?? 1);
const wasmThreads = threads > 1 ? await useThreadedWasmBackend(threads) : (await selectBackend({ prefer: 'wasm' }), 1);

let model: tfl.LayersModel | undefined;
let input: tf.Tensor | undefined;
let predictors = new Map<InferenceEngine, Predictor>();

async function handle(request: Request): Promise<unknown> {
  if (request.cmd === 'load') {
    for (const predictor of predictors.values()) predictor.dispose();
    model?.dispose();
    input?.dispose();
    predictors = new Map();
    model = await getApplication(KERAS_NAMES[request.model!]!).build({ weights: null });
    input = tf.randomUniform([request.batch!, 224, 224, 3], 0, 255, 'float32', 1);
    const engines: Record<string, string> = {};
    for (const engine of request.engines!) {
      try {
        predictors.set(engine, await compileForInference(model, { engine }));
        engines[engine] = 'ok';
      } catch (err) {
        engines[engine] = `unavailable: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300);
      }
    }
    return { ok: true, engines, backend: tf.getBackend(), wasmThreads };
  }
  const predictor = predictors.get(request.engine!)!;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const output = (await predictor.predict(input!)) as tf.Tensor;
  await output.data();
  const ms = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  output.dispose();
  return { ms, cpuMs: (user + system) / 1000 };
}

for await (const line of createInterface({ input: process.stdin })) {
  const reply = await handle(JSON.parse(line) as Request).catch((err: unknown) => ({ error: String(err) }));
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}
