// One tfjs backend and one engine per page (tfjs keeps one backend per page): `window.bench` builds a model,
// prepares it with compileForInference and times batch-1 predictions; `window.bench.outputs` returns a
// prediction to compare with Keras. bench/browser-bench.ts and test/integration/browser-backends.test.ts drive it.
import * as tf from '@tensorflow/tfjs-core';
import { applications, compileForInference, selectBackend } from 'keras-applications';

/** Starts the backend ('auto': the package's default choice) and says what it chose and why. */
async function start(backend) {
  const choice = await selectBackend(backend === 'auto' ? {} : { prefer: backend });
  return { backend: choice.backend, tried: choice.tried, crossOriginIsolated: self.crossOriginIsolated };
}

/** Builds `model` with `options` (weights null: random, which is enough for timing) and compiles it. */
async function prepare({ model, options = {}, weights = null, engine = 'auto', device = 'auto' }) {
  const entry = applications[model];
  if (!entry) throw new Error(`unknown model ${model}`);
  const keras = await entry.build({ ...options, weights });
  const [, height, width, channels] = keras.inputs[0].shape;
  const size = [1, height ?? entry.defaultSize, width ?? entry.defaultSize, channels ?? 3];
  const predictor = await compileForInference(keras, { engine, device });
  return { keras, predictor, size };
}

async function predictOnce(predictor, x) {
  const y = await predictor.predict(x);
  const values = await y.data();
  y.dispose();
  return values;
}

/** Batch-1 latency: `warmup` untimed predictions (shader compilation, ONNX Runtime's first run), then `runs` timed. */
async function latency({ runs = 5, warmup = 2, ...spec }) {
  const { keras, predictor, size } = await prepare(spec);
  const x = tf.randomUniform(size, 0, 255);
  for (let i = 0; i < warmup; i++) await predictOnce(predictor, x);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await predictOnce(predictor, x);
    times.push(performance.now() - t0);
  }
  x.dispose();
  predictor.dispose();
  keras.dispose();
  const sorted = [...times].sort((a, b) => a - b);
  return { engine: predictor.engine, backend: tf.getBackend(), times, median: sorted[Math.floor(sorted.length / 2)] };
}

/**
 * Keras's check: the model built once with the weights at `weights`, then for each of `runs` ({ backend, engine,
 * device }) that backend selected, the model compiled and `input` (URL of raw float32 values of `shape`) predicted. A run that
 * fails reports its error and the others still run.
 */
async function outputs({ model, options = {}, weights, input, shape, runs }) {
  const entry = applications[model];
  if (!entry) throw new Error(`unknown model ${model}`);
  const keras = await entry.build({ ...options, weights });
  const response = await fetch(input);
  if (!response.ok) throw new Error(`${input}: HTTP ${response.status}`);
  const pixels = new Float32Array(await response.arrayBuffer());
  const results = [];
  for (const { backend, engine, device } of runs) {
    const t0 = performance.now();
    try {
      // Switching backends moves the model's weights to the new one when they are next read.
      await selectBackend({ prefer: backend });
      const predictor = await compileForInference(keras, { engine, device });
      const x = tf.tensor(pixels, shape);
      const values = await predictOnce(predictor, x);
      x.dispose();
      predictor.dispose();
      results.push({ backend: tf.getBackend(), engine: predictor.engine, device, values: Array.from(values), ms: performance.now() - t0 });
    } catch (err) {
      results.push({ backend, engine, device, error: String(err?.stack ?? err), ms: performance.now() - t0 });
    }
  }
  keras.dispose();
  return results;
}

/** Whether WebGPU or WebGL runs on a software adapter here, as the package judges it (getBackendChoice's reasons). */
async function softwareGpu() {
  const { tried } = await start('auto');
  return tried.some((t) => /software adapter/.test(t.reason ?? ''));
}

window.bench = { start, latency, outputs, softwareGpu };

// Opened by hand: time the query's models on the query's backend and engine.
const params = new URLSearchParams(location.search);
if (params.has('backend')) {
  const status = document.getElementById('status');
  const models = (params.get('models') ?? 'ResNet50,MobileNetV2,EfficientNetB0').split(',');
  const { backend, tried } = await start(params.get('backend'));
  status.textContent = `${backend}: ${tried.map((t) => `${t.name} ${t.ok ? 'ok' : 'skipped'}${t.reason ? ` (${t.reason})` : ''}`).join('; ')}`;
  for (const model of models) {
    const r = await latency({ model, runs: Number(params.get('runs') ?? 5), engine: params.get('engine') ?? 'auto', device: params.get('device') ?? 'auto' });
    const row = document.getElementById('table').insertRow();
    for (const cell of [model, r.backend, r.engine, r.median.toFixed(1), r.times.map((t) => t.toFixed(0)).join(' ')]) row.insertCell().textContent = cell;
  }
}
