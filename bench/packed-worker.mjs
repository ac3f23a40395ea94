// One lane of bench/packed-vs-pytorch.sh: runs inside a scratch project where the packed package was installed, and
// imports it by name as a user's program does. It speaks bench/engine-worker.ts's JSON lines; its one engine, 'auto',
// is what classify() uses: compileForInference with no options (random weights: the timing does not depend on them).
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs-core';
import { compileForInference, getApplication } from 'keras-applications';

const KERAS_NAMES = { resnet50: 'ResNet50', mobilenetv2: 'MobileNetV2', efficientnetb0: 'EfficientNetB0', vgg16: 'VGG16' };

let model;
let input;
let predictor;

async function handle(request) {
  if (request.cmd === 'load') {
    predictor?.dispose();
    model?.dispose();
    input?.dispose();
    model = await getApplication(KERAS_NAMES[request.model]).build({ weights: null });
    // A preprocessed batch: prediction alone is timed.
    input = tf.randomUniform([request.batch, 224, 224, 3], -1, 1, 'float32', 1);
    predictor = await compileForInference(model);
    return { ok: true, engines: { auto: 'ok' }, chosen: predictor.engine, backend: tf.getBackend() };
  }
  const cpu = process.cpuUsage();
  const start = performance.now();
  const output = await predictor.predict(input);
  await output.data();
  const ms = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  output.dispose();
  return { ms, cpuMs: (user + system) / 1000 };
}

for await (const line of createInterface({ input: process.stdin })) {
  const reply = await handle(JSON.parse(line)).catch((err) => ({ error: String(err) }));
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}
