// Builds a Keras application in the browser, loads its weights from the page's server, classifies an
// image and shows the top 5 (or, for a model without its top, the features). The outcome is also left
// on `window.result` for scripts (the repository's test reads it).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { applications, decodePredictions, loadImageTensor, preprocessInput, selectBackend } from 'keras-applications';

const params = new URLSearchParams(location.search);
const status = document.getElementById('status');

async function main() {
  // No tfjs-node and no .wasm files here: the cpu backend (import '@tensorflow/tfjs-backend-webgl' and
  // prefer 'webgl' for a GPU).
  const { backend } = await selectBackend({ prefer: 'cpu' });
  const modelName = params.get('model') ?? 'MobileNet';
  const entry = applications[modelName];
  if (!entry) throw new Error(`Unknown model '${modelName}'; try one of ${Object.keys(applications).join(', ')}`);
  const options = JSON.parse(params.get('options') ?? '{}');
  const official = options.includeTop === false ? entry.weights.notop : entry.weights.top;
  const weights = params.get('weights') ?? `/models/${official.fileName}`;

  show(`Building ${modelName} with ${weights} on the ${backend} backend…`);
  const model = await entry.build({ ...options, weights });
  const [, height, width] = model.inputs[0].shape;
  const size = [height ?? entry.defaultSize, width ?? entry.defaultSize];

  const pixels = params.has('input') ? await rawPixels(params.get('input'), size) : await imagePixels(params.get('image') ?? '/test/data/images/elephant.jpg', size);
  const batch = preprocessInput(pixels, params.get('preprocess') ?? modelName);
  const output = model.predict(batch);
  const values = Array.from(await output.data());
  const top5 = output.shape.length === 2 && output.shape[1] === 1000 ? decodePredictions(output, 5)[0] : null;
  if (top5) renderTop5(top5);
  else document.getElementById('features').textContent = `${values.length} features: ${values.slice(0, 8).map((v) => v.toFixed(4)).join(', ')}, …`;
  tf.dispose([pixels, batch, output]);
  model.dispose();

  window.result = { backend, model: modelName, weights, shape: output.shape, values, top5 };
  show(`${modelName} on the ${backend} backend`, 'done');
}

/** The image at `url` as a [1, height, width, 3] tensor, loaded as Keras's load_img (the browser decodes it). */
async function imagePixels(url, [height, width]) {
  document.getElementById('image').src = url;
  const image = await loadImageTensor(url, { targetSize: [height, width] });
  const batch = tf.expandDims(image, 0);
  image.dispose();
  return batch;
}

/** Raw little-endian float32 pixels ([1, height, width, 3]) from `url`. */
async function rawPixels(url, [height, width]) {
  const buffer = await (await fetchOk(url)).arrayBuffer();
  return tf.tensor4d(new Float32Array(buffer), [1, height, width, 3]);
}

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

function renderTop5(top5) {
  const table = document.getElementById('top5');
  for (const { className, classId, probability } of top5) {
    const row = table.insertRow();
    row.insertCell().textContent = className;
    row.insertCell().textContent = classId;
    row.insertCell().textContent = `${(probability * 100).toFixed(2)}%`;
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${Math.max(1, probability * 200)}px`;
    row.insertCell().append(bar);
  }
}

function show(text, state = 'running') {
  status.textContent = text;
  status.dataset.state = state;
}

main().catch((error) => {
  window.result = { error: String(error?.stack ?? error) };
  show(`Failed: ${error?.message ?? error}`, 'error');
});
