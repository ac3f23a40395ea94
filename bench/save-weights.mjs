// saveWeights on a big model, on the built package (`npm run build` first) in plain node: VGG16 (138M
// parameters, 528 MiB of float32) with random weights, written as a Keras legacy .h5 and loaded back with
// loadWeights. Prints each step's time and the resident memory before it and at its peak (sampled every
// 10 ms). saveWeights holds one weight at a time twice (tfjs's copy and h5wasm's), never the whole model.
//   npm run build && node bench/save-weights.mjs
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { ensureBackend, getBackendChoice, loadWeights, saveWeights, vgg16 } = await import(process.env.PACKAGE ?? '../dist/index.js');
const MiB = 2 ** 20;

async function measure(label, step) {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const start = performance.now();
  const result = await step();
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const seconds = ((performance.now() - start) / 1000).toFixed(1);
  console.log(`${label.padEnd(12)} ${seconds} s, RSS ${(before / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB`);
  return result;
}

await ensureBackend();
console.log(`backend: ${getBackendChoice()?.backend}`);
const dir = mkdtempSync(join(tmpdir(), 'save-weights-bench-'));
const path = join(dir, 'vgg16.h5');
const model = await measure('build', () => vgg16({ weights: null }));
await measure('saveWeights', () => saveWeights(model, path));
console.log(`file: ${(statSync(path).size / MiB).toFixed(0)} MiB`);
await measure('loadWeights', () => loadWeights(model, path));
model.dispose();
rmSync(dir, { recursive: true });
