// imageDatasetFromDirectory streams: one pass over folders of N photos (hard links to the three test photos,
// three classes) at 224×224, batches of 32, each batch disposed at once, on the built package in plain node.
// Prints images per second and the peak resident memory per size: it should not grow with N, since only a
// batch is decoded at a time.
//   npm run build && node bench/dataset-stream.mjs [N ...]   (default 96 384 1536)
import { linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

const { ensureBackend, getBackendChoice, imageDatasetFromDirectory } = await import(process.env.PACKAGE ?? '../dist/index.js');
const PHOTOS = ['elephant', 'cat', 'dog'].map((name) => join(process.cwd(), `test/data/images/${name}.jpg`));
const sizes = process.argv.slice(2).map(Number);

function makeFolder(count) {
  const root = mkdtempSync(join(tmpdir(), 'dataset-stream-'));
  for (let i = 0; i < count; i++) {
    const folder = join(root, `class_${i % 3}`);
    mkdirSync(folder, { recursive: true });
    linkSync(PHOTOS[i % 3], join(folder, `${String(i).padStart(5, '0')}.jpg`));
  }
  return root;
}

await ensureBackend();
console.log(`backend: ${getBackendChoice()?.backend}`);
for (const count of sizes.length > 0 ? sizes : [96, 384, 1536]) {
  const root = makeFolder(count);
  const dataset = await imageDatasetFromDirectory(root, { imageSize: 224, batchSize: 32, seed: 1, verbose: false });
  let peakRss = process.memoryUsage().rss;
  let images = 0;
  const start = performance.now();
  const iterator = await dataset.iterator();
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    images += next.value.xs.shape[0];
    tf.dispose(next.value);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${String(count).padStart(5)} photos: ${(images / seconds).toFixed(0)} images/s, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, ` +
      `tensors left ${tf.memory().numTensors}`,
  );
  rmSync(root, { recursive: true });
}
