import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../examples/browser/serve';
import { relativeError } from '../helpers/keras-ref';

// examples/browser/ as a user meets it, in real headless Chromium: the page's form and file input, the weights
// download with its progress and the browser's cache, the wasm backend's threads, the server's messages. The numbers
// are Keras's (test/fixtures/keras-ref/real/), the hashes Node's crypto.
const CHROMIUM = '/usr/bin/chromium';
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const IMAGES = here('../data/images/');
/** The screenshot of the finished page (gitignored). */
const ARTIFACTS = here('artifacts/');

if (!existsSync(CHROMIUM) && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium for this test`);

interface Top5Entry {
  classId: string;
  className: string;
  probability: number;
}

interface PageResult {
  error?: string;
  message?: string;
  backend: string;
  threads: number | null;
  wasmMultithread: boolean | null;
  crossOriginIsolated: boolean;
  weights: string | null;
  weightsFromCache: boolean;
  shape: number[];
  values: number[];
  top5: Top5Entry[] | null;
  timings: { buildMs: number; firstPredictMs: number; predictMs: number };
}

const kerasFeatures = JSON.parse(readFileSync(here('../fixtures/keras-ref/real/mobilenet_025_features.json'), 'utf8')) as {
  images: Record<string, { features: { values: number[] } }>;
};
/** Keras 3's top 5 with models/mobilenet_2_5_128_tf.h5 (MobileNet α=0.25 at 128×128 with its classifier). */
const kerasTop5 = (JSON.parse(readFileSync(here('../fixtures/keras-ref/real/mobilenet_025_128_predictions.json'), 'utf8')) as {
  images: Record<string, [string, string, number][]>;
}).images;

describe.skipIf(!existsSync(CHROMIUM))('the example page (examples/browser) in headless Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  /** Served as /data/: files made for a test. */
  const data = mkdtempSync(join(tmpdir(), 'keras-browser-example-'));
  /** Every request the server answered, as `<status> <path>`. */
  const requests: string[] = [];
  const weightRequests = () => requests.filter((request) => request.includes(' /models/'));

  beforeAll(async () => {
    // /models/ serves test/data/weights (MobileNet α=0.25 without its top, 224), then the bundled models/ (with it, 128).
    server = await serve({
      port: 0,
      modelsDir: here('../data/weights'),
      mounts: { '/data/': data },
      onRequest: (path, status) => requests.push(`${status} ${path}`),
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(data, { recursive: true, force: true });
  });

  /** Opens the page with `query` in `context` and waits for its first result. */
  async function open(context: BrowserContext, query: Record<string, string>): Promise<{ page: Page; result: PageResult }> {
    const page = await context.newPage();
    await page.goto(`${server.origin}/examples/browser/?${new URLSearchParams(query)}`);
    return { page, result: await pageResult(page) };
  }

  async function pageResult(page: Page): Promise<PageResult> {
    await page.waitForFunction(() => (window as { result?: unknown }).result !== undefined, null, { timeout: 90_000 });
    return (await page.evaluate(() => (window as unknown as { result: PageResult }).result)) as PageResult;
  }

  /** Chooses `file` through the page's image input, as a user does, and waits for the page's new result. */
  async function chooseImage(page: Page, file: string): Promise<PageResult> {
    await page.evaluate(() => delete (window as { result?: unknown }).result);
    await page.setInputFiles('#image-file', file);
    return pageResult(page);
  }

  it("classifies an image chosen in the file input as Keras does: α=0.25 features within 1e-4, on wasm with threads", async () => {
    const context = await browser.newContext();
    try {
      const { page, result: first } = await open(context, { backend: 'wasm', model: 'MobileNet', alpha: '0.25', size: '224', top: '0' });
      expect(first.error).toBeUndefined();
      // The official file for α=0.25 at 224 without its top, found by the builder's own rule under /models/.
      expect(first.weights).toBe(`${server.origin}/models/mobilenet_2_5_224_tf_no_top.h5`);
      expect(relativeError(first.values, kerasFeatures.images['elephant.jpg']!.features.values)).toBeLessThan(1e-4);
      for (const name of ['cat.jpg', 'dog.jpg']) {
        const result = await chooseImage(page, `${IMAGES}${name}`);
        expect(result.error).toBeUndefined();
        expect(result.shape).toEqual([1, 256]);
        expect(relativeError(result.values, kerasFeatures.images[name]!.features.values), name).toBeLessThan(1e-4);
      }

      // A weights file dropped on the page is used instead of the official one (the same file here, so Keras's numbers).
      const weightRequestsBefore = weightRequests().length;
      await page.evaluate(async () => {
        delete (window as { result?: unknown }).result;
        const bytes = await (await fetch('/test/data/weights/mobilenet_2_5_224_tf_no_top.h5')).arrayBuffer();
        const dataTransfer = new DataTransfer();
        dataTransfer.items.add(new File([bytes], 'my-weights.h5'));
        document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer, bubbles: true, cancelable: true }));
      });
      const dropped = await pageResult(page);
      expect(dropped).toMatchObject({ weights: 'my-weights.h5', weightsFromCache: false });
      expect(relativeError(dropped.values, kerasFeatures.images['dog.jpg']!.features.values)).toBeLessThan(1e-4);
      expect(weightRequests().length).toBe(weightRequestsBefore);

      // Cross-origin isolated by serve.ts's COOP/COEP, so tfjs ran its threaded SIMD binary with a pool of threads.
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      expect(first).toMatchObject({ backend: 'wasm', crossOriginIsolated: true, wasmMultithread: true });
      expect(first.threads).toBe(Math.min(cores, 8));
      expect(first.threads).toBeGreaterThanOrEqual(2);
      expect(requests).toContain('200 /node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm');
      expect(await page.locator('#info').innerText()).toContain(`wasm, ${first.threads} threads`);
    } finally {
      await context.close();
    }
  });

  it("shows Keras's top 5 with bars for the bundled classifier, then serves its weights from the browser cache on reload", async () => {
    const context = await browser.newContext();
    try {
      // The default page: MobileNet α=0.25 at 128 with its top, models/mobilenet_2_5_128_tf.h5.
      const { page, result: first } = await open(context, { backend: 'wasm' });
      expect(first.error).toBeUndefined();
      expect(first.weights).toBe(`${server.origin}/models/mobilenet_2_5_128_tf.h5`);
      expect(first.weightsFromCache).toBe(false);
      expect(weightRequests()).toContain('200 /models/mobilenet_2_5_128_tf.h5');
      // The progress bar ends full, at the file's size.
      const size = readFileSync(here('../../models/mobilenet_2_5_128_tf.h5')).byteLength;
      expect(await page.locator('#progress').evaluate((bar: HTMLProgressElement) => [bar.value, bar.max])).toEqual([size, size]);
      expect(await page.locator('#progress-text').innerText()).toBe('mobilenet_2_5_128_tf.h5: 2.1 / 2.1 MB');

      for (const name of ['dog.jpg', 'elephant.jpg']) {
        const result = await chooseImage(page, `${IMAGES}${name}`);
        const keras = kerasTop5[name]!;
        expect(result.top5!.map((entry) => entry.classId), name).toEqual(keras.map(([id]) => id));
        const errors = result.top5!.map((entry, i) => Math.abs(entry.probability - keras[i]![2]));
        expect(Math.max(...errors), name).toBeLessThan(1e-4);
      }

      // The bars: five, in Keras's order, each as wide (of its track) as its probability; African_elephant 78.96 %.
      const rows = await page.locator('#top5 .row').evaluateAll((elements) =>
        elements.map((row) => ({
          name: row.querySelector('.class-name')!.textContent,
          percent: row.querySelector('.probability')!.textContent,
          bar: row.querySelector('.bar')!.getBoundingClientRect().width,
          track: row.querySelector('.track')!.getBoundingClientRect().width,
        })),
      );
      expect(rows.map((row) => row.name)).toEqual(kerasTop5['elephant.jpg']!.map(([, name]) => name));
      expect(rows[0]!.percent).toBe('78.96%');
      for (const [i, row] of rows.entries()) {
        expect(row.track).toBeGreaterThan(100);
        expect(row.bar / row.track).toBeCloseTo(kerasTop5['elephant.jpg']![i]![2], 2);
      }
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}browser-example.png`, fullPage: true });

      // A reload finds the file in the Cache API: not one request for it reaches the server (which forbids HTTP caching).
      const before = weightRequests().length;
      await page.evaluate(() => delete (window as { result?: unknown }).result);
      await page.reload();
      const reloaded = await pageResult(page);
      expect(reloaded.error).toBeUndefined();
      expect(reloaded.weightsFromCache).toBe(true);
      expect(weightRequests().slice(before)).toEqual([]);
      expect(reloaded.top5!.map((entry) => entry.className)).toEqual(kerasTop5['elephant.jpg']!.map(([, name]) => name));
      expect(await page.locator('#progress-text').innerText()).toBe('mobilenet_2_5_128_tf.h5: 2.1 MB from the browser cache');
    } finally {
      await context.close();
    }
  });

  it('says where a missing weights file belongs, on the page and in the server\'s 404', async () => {
    const context = await browser.newContext();
    try {
      // Keras publishes α=0.5 at 160, but neither served folder has it.
      const { page, result } = await open(context, { backend: 'wasm', model: 'MobileNet', alpha: '0.5', size: '160' });
      const url = `${server.origin}/models/mobilenet_5_0_160_tf.h5`;
      const official = 'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_5_0_160_tf.h5';
      expect(result.error).toContain('DownloadError');
      const status = await page.locator('#status').innerText();
      expect(status).toContain(`Could not download ${url} (HTTP 404 Not Found)`);
      expect(status).toContain(`Keras publishes it at ${official}: download it once and put it at ${url}`);
      expect(await page.locator('#status').getAttribute('data-state')).toBe('error');

      // A weights URL given to the page (not an official file): what to serve there, or what to pass instead.
      const { page: given } = await open(context, { backend: 'wasm', weights: '/models/my-weights.h5' });
      expect(await given.locator('#status').innerText()).toBe(
        `DownloadError: Could not download ${server.origin}/models/my-weights.h5 (HTTP 404 Not Found). Serve my-weights.h5 at ` +
          "that URL (put it in the folder your web server serves there), or pass another URL, or the file's bytes " +
          '(`new Uint8Array(await file.arrayBuffer())` for a chosen File), as the weights\nWith examples/browser/serve.ts: put the ' +
          'file in a folder it serves as /models/ (it lists them when it starts), or restart it with --models <a folder that has it>.',
      );

      const response = await fetch(url);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe(
        `No file at /models/mobilenet_5_0_160_tf.h5: this server serves /models/ from one of ${server.modelFolders.join(', ')}. ` +
          `Put mobilenet_5_0_160_tf.h5 there (Keras publishes it at ${official}), or start the server with --models <a folder that has it>.`,
      );
    } finally {
      await context.close();
    }
  });

  it('prints addresses that work, and names the folders it serves, when started from the command line', async () => {
    const serveTs = here('../../examples/browser/serve.ts');
    const tsx = here('../../node_modules/.bin/tsx');
    const child = spawn(tsx, [serveTs, '--port', '0', '--models', here('../data/weights')], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let output = '';
      child.stdout.setEncoding('utf8');
      await new Promise<void>((done, fail) => {
        child.stdout.on('data', (text: string) => {
          output += text;
          if (/open as:\n(.*\n){2}/.test(output)) done();
        });
        child.once('exit', (code) => fail(new Error(`serve.ts exited (${code}) after printing:\n${output}`)));
      });
      const origin = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1]!;
      expect(output).toContain(`  ${here('../data/weights').replace(/\/$/, '')}: mobilenet_2_5_224_tf_no_top.h5\n`);
      const addresses = [...output.matchAll(/(http:\/\/127\.0\.0\.1:\d+\/examples\/browser\/\S*)/g)].map(([, url]) => url!.replace(/:$/, ''));
      expect(addresses).toEqual([
        `${origin}/examples/browser/`,
        `${origin}/examples/browser/?model=MobileNet&alpha=0.25&size=224&top=0`,
        `${origin}/examples/browser/?model=MobileNet&alpha=0.25&size=128`,
      ]);
      const context = await browser.newContext();
      try {
        for (const address of addresses) {
          const page = await context.newPage();
          await page.goto(`${address}${address.includes('?') ? '&' : '?'}backend=wasm`);
          const result = await pageResult(page);
          expect(result.error, address).toBeUndefined();
          expect(result.shape, address).toEqual(address.includes('top=0') ? [1, 256] : [1, 1000]);
        }
      } finally {
        await context.close();
      }
    } finally {
      child.kill();
    }
  });

  describe('fetchWeightsInBrowser', () => {
    const file = readFileSync(here('../data/weights/mobilenet_2_5_224_tf_no_top.h5'));
    const md5 = createHash('md5').update(file).digest('hex');
    const sha256 = createHash('sha256').update(file).digest('hex');
    const path = '/models/mobilenet_2_5_224_tf_no_top.h5';

    type Package = typeof import('../../src/index');

    /** Runs `fetchWeightsInBrowser(path, options)` in the page; what it gave or threw, and whether it is kept. */
    async function fetchInPage(page: Page, options: Record<string, unknown>) {
      return page.evaluate(
        async ([path, options]) => {
          const { browserWeightsCache, fetchWeightsInBrowser } = (window as unknown as { kerasApplications: Package }).kerasApplications;
          const reports: { fromCache?: boolean; received: number; total: number | null }[] = [];
          try {
            const bytes = await fetchWeightsInBrowser(path, { ...options, onProgress: (p) => reports.push(p) });
            return { length: bytes.byteLength, first: Array.from(bytes.subarray(0, 8)), reports, kept: await browserWeightsCache.has(path) };
          } catch (error) {
            return { error: `${(error as Error).name}: ${(error as Error).message}`, reports, kept: await browserWeightsCache.has(path) };
          }
        },
        [path, options] as const,
      );
    }

    it("checks Keras's md5 (our MD5) and sha256 (WebCrypto) before keeping a file, and again before using a kept one", async () => {
      const context = await browser.newContext();
      try {
        const { page } = await open(context, { backend: 'cpu' });
        // The package as the page loaded it (through its import map), for the calls below.
        await page.addScriptTag({ type: 'module', content: "import * as k from 'keras-applications'; window.kerasApplications = k;" });
        await page.waitForFunction(() => 'kerasApplications' in window);
        await page.evaluate(() => (window as unknown as { kerasApplications: Package }).kerasApplications.browserWeightsCache.clear());
        const count = () => weightRequests().filter((request) => request.endsWith(path)).length;

        const wrong = `${md5.slice(0, -1)}${md5.endsWith('0') ? '1' : '0'}`;
        const refused = await fetchInPage(page, { fileHash: wrong });
        expect(refused.error).toBe(`DownloadError: Downloaded ${server.origin}${path}, but its md5 is ${md5}, but ${wrong} was expected`);
        expect(refused.kept).toBe(false);

        let requested = count();
        const fetched = await fetchInPage(page, { fileHash: md5 });
        expect(fetched).toMatchObject({ length: file.byteLength, first: Array.from(file.subarray(0, 8)), kept: true });
        expect(fetched.reports.at(-1)).toEqual({ url: `${server.origin}${path}`, received: file.byteLength, total: file.byteLength });
        expect(count()).toBe(requested + 1);

        // Kept: used without a request, after the same check (sha256 this time).
        requested = count();
        const kept = await fetchInPage(page, { fileHash: sha256 });
        expect(kept).toMatchObject({ length: file.byteLength, kept: true });
        expect(kept.reports).toEqual([{ url: `${server.origin}${path}`, received: file.byteLength, total: file.byteLength, fromCache: true }]);
        expect(count()).toBe(requested);

        // A kept copy that no longer checks (cut short here) is dropped and downloaded again.
        await page.evaluate(async ([url, length]) => {
          const cache = await caches.open('keras-applications-weights');
          const bytes = new Uint8Array(await (await cache.match(url))!.arrayBuffer());
          await cache.put(url, new Response(bytes.subarray(0, length / 2)));
        }, [`${server.origin}${path}`, file.byteLength] as const);
        const repaired = await fetchInPage(page, {}); // no hash: the HDF5 length check catches the cut
        expect(repaired).toMatchObject({ length: file.byteLength, kept: true });
        expect(repaired.reports.at(-1)!.fromCache).toBeUndefined();
        expect(count()).toBe(requested + 1);

        // A builder checks an official file against the md5 Keras publishes for it (ResNet50's, here a file that is not it).
        const resnet = 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5';
        copyFileSync(here('../data/weights/mobilenet_2_5_224_tf_no_top.h5'), join(data, resnet));
        const built = await page.evaluate(async (name) => {
          const { browserWeightsCache, resnet50 } = (window as unknown as { kerasApplications: Package }).kerasApplications;
          const outcome = await resnet50({ includeTop: false, weightsBaseUrl: '/data/' }).then(
            () => 'built',
            (error: Error) => `${error.name}: ${error.message}`,
          );
          return { outcome, kept: await browserWeightsCache.has(`/data/${name}`) };
        }, resnet);
        expect(built.outcome).toContain(
          `DownloadError: Downloaded ${server.origin}/data/${resnet}, but its md5 is ${md5}, but 4d473c1dd8becc155b73f8504c6f6626 was expected`,
        );
        expect(built.outcome).toContain(`Keras publishes it at https://storage.googleapis.com/tensorflow/keras-applications/resnet/${resnet}`);
        expect(built.kept).toBe(false);

        // browserCache: false downloads every time and keeps nothing.
        await page.evaluate(() => (window as unknown as { kerasApplications: Package }).kerasApplications.browserWeightsCache.clear());
        requested = count();
        for (let i = 0; i < 2; i++) expect(await fetchInPage(page, { browserCache: false })).toMatchObject({ length: file.byteLength, kept: false });
        expect(count()).toBe(requested + 2);
      } finally {
        await context.close();
      }
    });
  });
});
