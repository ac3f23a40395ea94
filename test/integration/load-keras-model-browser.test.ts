// loadKerasModel in headless Chromium (the ESM build in dist/, from `npm run build`): a whole-model file Keras
// wrote (test/fixtures/keras-ref/models) loaded from a URL of the page's own 127.0.0.1 server and from its bytes,
// predicting on tfjs's cpu backend; the outputs must be Keras's.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../examples/browser/serve';
import { uniform } from '../helpers/generator';
import { relativeError } from '../helpers/keras-ref';

const CHROMIUM = '/usr/bin/chromium';
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const MODELS = here('../fixtures/keras-ref/models');
const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium for this test`);

interface Reference {
  inputs: { shape: number[]; generator: { seed: string; lo: number; hi: number } }[];
  outputs: { name: string; shape: number[]; values: number[] }[];
}

/** What the page computes: each output's shape and values, or the error it threw. */
interface PageOutputs {
  error?: string;
  backend?: string;
  outputs?: { shape: number[]; values: number[] }[];
}

/**
 * A page with the browser example's import map (the library's ESM build, tfjs, jsfive, fflate from node_modules;
 * relative entries made absolute) and `loadAndPredict(url, asBytes, inputs)`: the model from its URL (or the bytes
 * fetched from it), predicting on tfjs's cpu backend. Written in the page, as a user's script would be.
 */
function testPage(): string {
  const example = readFileSync(here('../../examples/browser/index.html'), 'utf8');
  const importMap = JSON.parse(example.match(/<script type="importmap">([\s\S]*?)<\/script>/)![1]!) as { imports: Record<string, string> };
  const imports = Object.fromEntries(
    Object.entries(importMap.imports).map(([name, url]) => [name, url.startsWith('./') ? `/examples/browser/${url.slice(2)}` : url]),
  );
  return `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">${JSON.stringify({ imports })}</script>
<script src="/node_modules/seedrandom/lib/alea.js"></script>
<script type="module">
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadKerasModel } from 'keras-applications';
window.loadAndPredict = async (url, asBytes, inputs) => {
  try {
    await tf.setBackend('cpu');
    const model = await loadKerasModel(asBytes ? new Uint8Array(await (await fetch(url)).arrayBuffer()) : url);
    const tensors = inputs.map(({ shape, values }) => tf.tensor(values, shape));
    const predicted = model.predict(tensors.length === 1 ? tensors[0] : tensors);
    const outputs = [];
    for (const output of Array.isArray(predicted) ? predicted : [predicted]) outputs.push({ shape: output.shape, values: Array.from(await output.data()) });
    return { backend: tf.getBackend(), outputs };
  } catch (error) {
    return { error: String(error.stack ?? error) };
  }
};
</script>`;
}

describe.skipIf(chromiumMissing)('loadKerasModel in headless Chromium', () => {
  const pageFolder = mkdtempSync(join(tmpdir(), 'load-keras-model-browser-'));
  let server: RunningServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    writeFileSync(join(pageFolder, 'index.html'), testPage());
    server = await serve({ port: 0, modelsDir: MODELS, mounts: { '/page/': pageFolder } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    page = await browser.newPage();
    await page.goto(`${server.origin}/page/`);
    await page.waitForFunction(() => 'loadAndPredict' in window, null, { timeout: 60_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(pageFolder, { recursive: true, force: true });
  });

  /** Loads the model in the page (from `url`, or from the bytes fetched from it) and predicts on `inputs`. */
  async function predictInPage(url: string, asBytes: boolean, inputs: { shape: number[]; values: number[] }[]): Promise<PageOutputs> {
    return page.evaluate(
      ({ url, asBytes, inputs }) =>
        (window as unknown as { loadAndPredict: (...args: unknown[]) => Promise<PageOutputs> }).loadAndPredict(url, asBytes, inputs),
      { url, asBytes, inputs },
    );
  }

  it.each([
    ['functional_multi.keras', 'a URL', false],
    ['functional_multi.keras', 'its bytes', true],
    ['mobilenetv2_head.h5', 'a URL', false],
  ] as const)("%s from %s gives Keras's outputs", async (file, _from, asBytes) => {
    const reference = JSON.parse(readFileSync(join(MODELS, file.replace(/\.(keras|h5)$/, '.json')), 'utf8')) as Reference;
    const inputs = reference.inputs.map(({ shape, generator: { seed, lo, hi } }) => ({ shape, values: Array.from(uniform(seed, shape, lo, hi)) }));
    const result = await predictInPage(`${server.origin}/models/${file}`, asBytes, inputs);
    expect(result.error).toBeUndefined();
    expect(result.backend).toBe('cpu');
    expect(result.outputs).toHaveLength(reference.outputs.length);
    for (const [i, expected] of reference.outputs.entries()) {
      expect(result.outputs![i]!.shape).toEqual(expected.shape);
      const error = relativeError(result.outputs![i]!.values, expected.values);
      console.log(`${file} from ${_from} in Chromium, output '${expected.name}': max relative error ${error.toExponential(2)}`);
      expect(error).toBeLessThan(1e-4);
    }
  });
});
