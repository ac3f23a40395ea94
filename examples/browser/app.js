// The example page: pick or drop an image (and, if you like, a weights file), choose a Keras application and its
// options, and see the top 5 with bars, the backend, the wasm threads and the timings. Official weights come from the
// page's server under /models/ (the builder picks the file for the chosen alpha and size, as in Node), with a progress
// bar, and stay in the browser's cache between page loads. The outcome is also on `window.result` for scripts.
//
// The state lives in the query string (model, alpha, size, top, backend), so a reload or a shared link shows the same
// model. Scripts may also pass: options (the builder's options as JSON, instead of the form), weights (a URL),
// image (a URL), input (a URL of raw float32 pixels [1, h, w, 3]) and preprocess (a mode).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { applications, browserWeightsCache, decodePredictions, loadImageTensor, preprocessInput, selectBackend } from 'keras-applications';

const params = new URLSearchParams(location.search);
const DEFAULTS = { model: 'MobileNet', alpha: '0.25', size: '128', top: '1', backend: 'auto' };
const setting = (name) => params.get(name) ?? DEFAULTS[name];
/** Where the official files are served: serve.ts maps /models/ to a folder of Keras weight files. */
const MODELS_URL = new URL('/models/', location.href).href;
const DEFAULT_IMAGE = '/test/data/images/elephant.jpg';
const $ = (id) => document.getElementById(id);

// The .wasm files sit next to tfjs-backend-wasm's bundle; with this page cross-origin isolated (serve.ts sends
// COOP/COEP), selectBackend() starts its threaded SIMD binary with a thread per core.
setWasmPaths(new URL('/node_modules/@tensorflow/tfjs-backend-wasm/dist/', location.href).href);

/** What the next run classifies: an image URL or File, and a chosen weights File (else the official file). */
const chosen = { image: params.get('image') ?? DEFAULT_IMAGE, weights: null };
/** The last model built, reused while its options and weights stay the same. */
let built = null;
let backendInfo = null;
let running = Promise.resolve();

async function start() {
  fillForm();
  backendInfo = await startBackend(setting('backend'));
  for (const id of ['model', 'alpha', 'size', 'top']) {
    $(id).addEventListener('change', () => {
      if (id === 'model') fillModelOptions();
      // Other options need other weights: the official file for them, until a file is chosen again.
      chosen.weights = null;
      $('weights-file').value = '';
      saveState();
      rerun();
    });
  }
  $('backend').addEventListener('change', () => { saveState(); location.reload(); });
  $('image-file').addEventListener('change', (event) => { const [file] = event.target.files; if (file) chooseImage(file); });
  $('weights-file').addEventListener('change', (event) => { const [file] = event.target.files; if (file) chooseWeights(file); });
  $('clear-cache').addEventListener('click', async () => {
    await browserWeightsCache.clear();
    show('The browser cache of weights is empty: the next model downloads its file again.', 'done');
  });
  // Anywhere on the page: a file dropped elsewhere would make the browser open it instead.
  const drop = $('drop');
  document.addEventListener('dragover', (event) => { event.preventDefault(); drop.classList.add('over'); });
  document.addEventListener('dragleave', (event) => { if (event.relatedTarget === null) drop.classList.remove('over'); });
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    for (const file of event.dataTransfer.files) (/\.(h5|hdf5)$/i.test(file.name) ? chooseWeights : chooseImage)(file);
  });
  rerun();
}

function chooseImage(file) {
  chosen.image = file;
  rerun();
}

function chooseWeights(file) {
  chosen.weights = file;
  rerun();
}

/** Runs the page once more after the run under way, so that quick changes never overlap on one model. */
function rerun() {
  running = running.then(run, run);
}

// ---- the backend ----------------------------------------------------------------------------

async function startBackend(choice) {
  // The GPU backends register only when imported: for 'auto', import both and let selectBackend() try them first.
  const gpu = choice === 'auto' ? ['webgpu', 'webgl'] : ['webgpu', 'webgl'].filter((name) => name === choice);
  await Promise.all(gpu.map((name) => import(`@tensorflow/tfjs-backend-${name}`).catch(() => undefined)));
  const { backend, tried } = await selectBackend(choice === 'auto' ? {} : { prefer: choice });
  const info = { backend, tried, crossOriginIsolated: globalThis.crossOriginIsolated === true };
  if (backend === 'wasm') {
    info.wasmMultithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    info.wasmSimd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    info.threads = getThreadsCount();
  }
  return info;
}

function describeBackend(info, { skipped: withSkipped = true } = {}) {
  const skipped = info.tried.filter((attempt) => !attempt.ok).map((attempt) => `${attempt.name}: ${attempt.reason}`);
  let text = info.backend;
  if (info.backend === 'wasm') {
    text += info.wasmMultithread ? `, ${info.threads} threads` : ', 1 thread (the page is not cross-origin isolated)';
    text += info.wasmSimd ? ', SIMD' : '';
  }
  return withSkipped && skipped.length > 0 ? `${text} (skipped ${skipped.join('; ')})` : text;
}

// ---- the form -------------------------------------------------------------------------------

function fillForm() {
  const select = $('model');
  for (const [name, entry] of Object.entries(applications)) {
    if (entry.kind === 'image') select.add(new Option(`${name}${entry.metadata.sizeMB ? ` (${entry.metadata.sizeMB} MB)` : ''}`, name));
  }
  select.value = setting('model') in applications ? setting('model') : DEFAULTS.model;
  $('top').checked = setting('top') !== '0';
  $('backend').value = setting('backend');
  // The default model's width and size apply to it only; another model starts from its own defaults.
  const named = (name) => params.get(name) ?? (params.has('model') ? undefined : DEFAULTS[name]);
  fillModelOptions(named('alpha'), named('size'));
}

/** The widths and sizes Keras publishes weights for (from the registry's checkpoints), else the model's default size. */
function fillModelOptions(alpha, size) {
  const entry = applications[$('model').value];
  const checkpoints = (entry.metadata.checkpoints ?? []).filter((checkpoint) => !checkpoint.minimalistic);
  const alphas = [...new Set(checkpoints.map((checkpoint) => checkpoint.alpha))].sort((a, b) => a - b);
  const sizes = [...new Set([entry.defaultSize, ...checkpoints.map((checkpoint) => checkpoint.size)])].sort((a, b) => a - b);
  const alphaSelect = $('alpha');
  alphaSelect.replaceChildren(...alphas.map((value) => new Option(String(value), String(value))));
  alphaSelect.disabled = alphas.length === 0;
  if (alphas.length === 0) alphaSelect.add(new Option('—', ''));
  alphaSelect.value = alphas.map(String).includes(alpha) ? alpha : alphas.includes(1) ? '1' : alphaSelect.options[0].value;
  $('sizes').replaceChildren(...sizes.map((value) => new Option('', String(value))));
  $('size').min = String(entry.minSize);
  $('size').value = size ?? String(entry.defaultSize);
}

function saveState() {
  const state = { model: $('model').value, alpha: $('alpha').value, size: $('size').value, top: $('top').checked ? '1' : '0', backend: $('backend').value };
  for (const [name, value] of Object.entries(state)) if (value === '') params.delete(name); else params.set(name, value);
  history.replaceState(null, '', `?${params}`);
}

/** The builder's options from the form (or, for scripts, the `options` parameter as it is). */
function builderOptions() {
  if (params.has('options')) return JSON.parse(params.get('options'));
  const size = Number($('size').value);
  const includeTop = $('top').checked;
  return {
    ...($('alpha').value !== '' && { alpha: Number($('alpha').value) }),
    inputShape: [size, size, 3],
    includeTop,
    ...(!includeTop && { pooling: 'avg' }),
  };
}

// ---- one run: weights, model, image, prediction ---------------------------------------------

async function run() {
  const modelName = $('model').value;
  const entry = applications[modelName];
  const options = builderOptions();
  const timings = {};
  delete window.result;
  try {
    const weights = await weightsSource();
    const key = JSON.stringify({ modelName, options, weights: chosen.weights ? `${chosen.weights.name}:${chosen.weights.size}` : weights });
    if (built?.key !== key) {
      built?.model.dispose();
      built = null;
      showWeights(weights);
      show(`Building ${modelName}…`);
      const started = performance.now();
      const progress = { fromCache: false };
      const model = await entry.build({ ...options, weights, weightsBaseUrl: MODELS_URL, onProgress: (p) => showProgress(p, progress) });
      built = { key, model, fromCache: progress.fromCache, weightsUrl: progress.url ?? null, buildMs: performance.now() - started };
    }
    const { model } = built;
    const [, height, width] = model.inputs[0].shape;
    const size = [height ?? entry.defaultSize, width ?? entry.defaultSize];

    show(`Classifying with ${modelName}…`);
    const pixels = params.has('input') ? await rawPixels(params.get('input'), size) : await imagePixels(chosen.image, size);
    const batch = preprocessInput(pixels, params.get('preprocess') ?? modelName);
    let started = performance.now();
    const output = model.predict(batch);
    const values = Array.from(await output.data());
    timings.firstPredictMs = performance.now() - started;
    // Again on the same batch: the first prediction also compiles kernels (GPU) or warms caches.
    started = performance.now();
    const again = model.predict(batch);
    await again.data();
    again.dispose();
    timings.predictMs = performance.now() - started;
    const top5 = output.shape.length === 2 && output.shape[1] === 1000 ? decodePredictions(output, 5)[0] : null;
    renderOutput(top5, values);
    const shape = output.shape;
    tf.dispose([pixels, batch, output]);

    window.result = {
      backend: backendInfo.backend,
      threads: backendInfo.threads ?? null,
      wasmMultithread: backendInfo.wasmMultithread ?? null,
      crossOriginIsolated: backendInfo.crossOriginIsolated,
      model: modelName,
      options,
      weights: built.weightsUrl ?? (chosen.weights ? chosen.weights.name : null),
      weightsFromCache: built.fromCache,
      shape,
      values,
      top5,
      timings: { buildMs: built.buildMs, ...timings },
    };
    renderInfo(window.result);
    show(`${modelName} on ${describeBackend(backendInfo, { skipped: false })}`, 'done');
  } catch (error) {
    window.result = { error: String(error?.stack ?? error), message: String(error?.message ?? error) };
    // The example server's side of a file missing under /models/.
    const hint = error?.name === 'DownloadError' && String(error.message).includes(MODELS_URL)
      ? '\nWith examples/browser/serve.ts: put the file in a folder it serves as /models/ (it lists them when it starts), or restart it with --models <a folder that has it>.'
      : '';
    show(`${error?.name ?? 'Error'}: ${error?.message ?? error}${hint}`, 'error');
    $('top5').replaceChildren();
  }
}

/** The weights to build with: a chosen file's bytes, a URL given to the page, or the official file ('imagenet'). */
async function weightsSource() {
  if (chosen.weights) return new Uint8Array(await chosen.weights.arrayBuffer());
  return params.get('weights') ?? 'imagenet';
}

/** The image as a [1, height, width, 3] tensor, loaded as Keras's load_img (the browser decodes it). */
async function imagePixels(image, [height, width]) {
  const preview = $('image');
  if (preview.src.startsWith('blob:')) URL.revokeObjectURL(preview.src);
  preview.src = typeof image === 'string' ? image : URL.createObjectURL(image);
  const source = typeof image === 'string' ? image : new Uint8Array(await image.arrayBuffer());
  const pixels = await loadImageTensor(source, { targetSize: [height, width] });
  const batch = tf.expandDims(pixels, 0);
  pixels.dispose();
  return batch;
}

/** Raw little-endian float32 pixels ([1, height, width, 3]) from `url`. */
async function rawPixels(url, [height, width]) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return tf.tensor4d(new Float32Array(await response.arrayBuffer()), [1, height, width, 3]);
}

// ---- showing it -----------------------------------------------------------------------------

function show(text, state = 'running') {
  $('status').textContent = text;
  $('status').dataset.state = state;
}

function showWeights(weights) {
  const line = $('weights-line');
  if (chosen.weights) line.textContent = `Weights: ${chosen.weights.name} (your file)`;
  else if (weights === 'imagenet') line.textContent = `Weights: the official file for these options, from ${MODELS_URL}`;
  else line.textContent = `Weights: ${weights}`;
  $('progress').value = 0;
  $('progress-text').textContent = '';
}

const MB = (bytes) => (bytes / 1e6).toFixed(1);

function showProgress({ url, received, total, fromCache }, progress) {
  Object.assign(progress, { url, fromCache: fromCache === true });
  const name = decodeURIComponent(url.split('/').pop());
  if (!chosen.weights) $('weights-line').textContent = `Weights: ${url}`;
  $('progress').max = total ?? 1;
  $('progress').value = total === null ? 0 : received;
  $('progress-text').textContent = fromCache
    ? `${name}: ${MB(received)} MB from the browser cache`
    : `${name}: ${MB(received)}${total === null ? '' : ` / ${MB(total)}`} MB`;
}

/** The top 5 as bars (divs, widths in % of the best class's probability scale 0–100 %), or the features. */
function renderOutput(top5, values) {
  const rows = (top5 ?? []).map(({ className, classId, probability }) => {
    const row = document.createElement('div');
    row.className = 'row';
    row.title = classId;
    const name = document.createElement('span');
    name.className = 'class-name';
    name.textContent = className;
    const track = document.createElement('div');
    track.className = 'track';
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${(probability * 100).toFixed(2)}%`;
    track.append(bar);
    const percent = document.createElement('span');
    percent.className = 'probability';
    percent.textContent = `${(probability * 100).toFixed(2)}%`;
    row.append(name, track, percent);
    return row;
  });
  $('top5').replaceChildren(...rows);
  $('features').textContent = top5 ? '' : `${values.length} features: ${values.slice(0, 8).map((v) => v.toFixed(4)).join(', ')}, …`;
}

function renderInfo(result) {
  const ms = (value) => `${Math.round(value)} ms`;
  const entries = [
    ['Backend', describeBackend(backendInfo)],
    ['Isolated', result.crossOriginIsolated ? 'yes (COOP/COEP): SharedArrayBuffer and wasm threads allowed' : 'no: wasm runs on one thread'],
    ['Weights', `${result.weights ?? 'given bytes'}${result.weightsFromCache ? ' (from the browser cache)' : ''}`],
    ['Load + build', ms(result.timings.buildMs)],
    ['First prediction', ms(result.timings.firstPredictMs)],
    ['Prediction', ms(result.timings.predictMs)],
  ];
  $('info').replaceChildren(...entries.flatMap(([term, value]) => {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    return [dt, dd];
  }));
}

start().catch((error) => {
  window.result = { error: String(error?.stack ?? error), message: String(error?.message ?? error) };
  show(`Failed: ${error?.message ?? error}`, 'error');
});
