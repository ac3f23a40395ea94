// kerasModelBytes in headless Chromium, from the ESM build (dist/, `npm run build`): a page builds a small model
// with tfjs, makes its .keras archive in the browser (h5wasm's in-memory file system, fflate), and hands back the
// bytes and its outputs; loadKerasModel in Node reads those bytes back to the same outputs.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { unzipSync } from 'fflate';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../examples/browser/serve';
import { ensureBackend } from '../src/backend';
import { loadKerasModel } from '../src/index';

const CHROMIUM = '/usr/bin/chromium';
const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** The example page's import map, with h5wasm's browser build added (kerasModelBytes imports it on demand). */
function importMap(): string {
  const map = JSON.parse(readFileSync(here('../examples/browser/index.html'), 'utf8').match(/<script type="importmap">([\s\S]*?)<\/script>/)![1]!) as {
    imports: Record<string, string>;
  };
  // Relative entries are the example's own files.
  for (const [name, url] of Object.entries(map.imports)) if (url.startsWith('./')) map.imports[name] = `/examples/browser/${url.slice(2)}`;
  map.imports.h5wasm = '/node_modules/h5wasm/dist/esm/hdf5_hl.js';
  return JSON.stringify(map);
}

const PAGE = (map: string): string => `<!doctype html>
<script type="importmap">${map}</script>
<script src="/node_modules/seedrandom/lib/alea.js"></script>
<script type="module">
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { kerasModelBytes } from 'keras-applications';
try {
  await tf.setBackend('cpu');
  const uniform = (seed) => tfl.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed });
  const image = tfl.input({ shape: [8, 8, 3], name: 'image' });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: uniform(1), name: 'conv' }).apply(image);
  x = tfl.layers.batchNormalization({ gammaInitializer: uniform(2), betaInitializer: uniform(3), name: 'bn' }).apply(x);
  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x);
  const logits = tfl.layers.dense({ units: 3, kernelInitializer: uniform(4), biasInitializer: uniform(5), name: 'logits' }).apply(x);
  const model = tfl.model({ inputs: image, outputs: logits, name: 'browser_model' });
  const input = tf.tensor(Float32Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => Math.sin(i)), [2, 8, 8, 3]);
  const outputs = Array.from(model.predict(input).dataSync());
  const bytes = await kerasModelBytes(model);
  window.result = { bytes: Array.from(bytes), outputs };
} catch (error) {
  window.result = { error: String(error && error.stack || error) };
}
</script>`;

const chromiumMissing = !existsSync(CHROMIUM);

describe.skipIf(chromiumMissing)('kerasModelBytes in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keras-save-browser-'));
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    await ensureBackend();
    writeFileSync(join(dir, 'index.html'), PAGE(importMap()));
    server = await serve({ port: 0, mounts: { '/page/': dir } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a .keras archive that loadKerasModel reads back to the page’s outputs', async () => {
    expect(existsSync(here('../dist/index.js')), 'dist/index.js is missing: run `npm run build`').toBe(true);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('requestfailed', (request) => problems.push(`${request.url()} failed`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.url()}: HTTP ${response.status()}`);
    });
    let result: { error?: string; bytes: number[]; outputs: number[] };
    try {
      await page.goto(`${server.origin}/page/index.html`);
      await page.waitForFunction(() => 'result' in window, null, { timeout: 60_000 }).catch((error: Error) => {
        throw new Error(`${error.message}; the page reported: ${problems.join('; ') || 'nothing'}`);
      });
      result = await page.evaluate(() => (window as unknown as { result: typeof result }).result);
    } finally {
      await page.close();
    }
    expect(result.error).toBeUndefined();
    const bytes = Uint8Array.from(result.bytes);
    expect(Object.keys(unzipSync(bytes))).toEqual(['metadata.json', 'config.json', 'model.weights.h5']);
    const model = await loadKerasModel(bytes);
    const input = tf.tensor(Float32Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => Math.sin(i)), [2, 8, 8, 3]);
    const output = model.predict(input) as tf.Tensor;
    const values = Array.from(await output.data());
    const spread = Math.max(...values) - Math.min(...values);
    expect(spread).toBeGreaterThan(0.01);
    values.forEach((value, i) => expect(value).toBeCloseTo(result.outputs[i]!, 5));
    tf.dispose([input, output]);
    model.dispose();
  });
});
