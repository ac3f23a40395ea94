// One measurement of bench/load-vgg16.ts, in a fresh process on the built package (what users run):
// node bench/load-vgg16-child.mjs <backend> <weights.h5> <predict runs>
import * as tf from '@tensorflow/tfjs-core';

const [backend, file, runs] = process.argv.slice(2);
process.env.KERAS_APPLICATIONS_BACKEND = backend;
const { ensureBackend, vgg16 } = await import('../dist/index.js');
await ensureBackend();
const baseline = process.memoryUsage().rss;
const start = performance.now();
const model = await vgg16({ weights: file });
const loadSeconds = (performance.now() - start) / 1000;
const peakRss = process.resourceUsage().maxRSS * 1024;
const input = tf.randomUniform([1, 224, 224, 3], -128, 128);
const predictMs = [];
// One warm-up run first, except where a single run is all there is time for.
const total = Number(runs) === 1 ? 1 : Number(runs) + 1;
for (let i = 0; i < total; i++) {
  const t = performance.now();
  const out = model.predict(input);
  await out.data();
  out.dispose();
  if (total === 1 || i > 0) predictMs.push(performance.now() - t);
}
console.log(
  JSON.stringify({ backend: tf.getBackend(), baselineRssMB: baseline / 2 ** 20, loadSeconds, peakRssMB: peakRss / 2 ** 20, predictMs }),
);
