import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../examples/browser/serve';
import { generatedInput } from './helpers/generator';
import { writeLegacyWeights } from './helpers/h5-writer';
import { generatedWeightsFile, fixtureConfig, relativeError } from './helpers/keras-ref';

// The ESM build (dist/, from `npm run build`) in headless Chromium: examples/browser/ builds a model, loads
// its weights from the page's own 127.0.0.1 server and classifies, on tfjs's cpu backend.
const CHROMIUM = '/usr/bin/chromium';
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium for this test`);
if (chromiumMissing) console.warn(`browser.test.ts skipped: no ${CHROMIUM} (apt-get install chromium)`);

interface PageResult {
  error?: string;
  backend: string;
  weights: string | null;
  shape: number[];
  values: number[];
  top5: { classId: string; className: string; probability: number }[] | null;
}

describe('the ESM build', () => {
  it("imports statically only packages the example's import map resolves (no Node builtins or native packages)", () => {
    expect(existsSync(join(DIST, 'index.js')), 'dist/index.js is missing: run `npm run build`').toBe(true);
    // What a browser loads with index.js: its static imports, followed through the build's own chunks.
    // Chunks reached only by import() (Node-only engines) load on demand and are not followed.
    const bare = new Set<string>();
    const pending = ['index.js'];
    const seen = new Set<string>();
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const [, specifier] of readFileSync(join(DIST, file), 'utf8').matchAll(/^(?:import|export)\s+(?:[^'"]*?from\s*)?["']([^"']+)["']/gm)) {
        if (specifier!.startsWith('./')) pending.push(specifier!.slice(2));
        else bare.add(specifier!);
      }
    }
    // Each one must be a package the example's import map resolves: never a Node builtin or native package.
    const importMap = JSON.parse(readFileSync(here('../examples/browser/index.html'), 'utf8').match(/<script type="importmap">([\s\S]*?)<\/script>/)![1]!) as {
      imports: Record<string, string>;
    };
    expect([...bare].filter((specifier) => !(specifier in importMap.imports))).toEqual([]);
    expect(bare).toContain('@tensorflow/tfjs-core');
  });
});

describe.skipIf(chromiumMissing)('examples/browser in headless Chromium', () => {
  const data = mkdtempSync(join(tmpdir(), 'keras-browser-'));
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await serve({ port: 0, modelsDir: here('data/weights'), mounts: { '/data/': data } });
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(data, { recursive: true, force: true });
  });

  async function openPage(params: Record<string, string>): Promise<{ result: PageResult; top5Names: string[] }> {
    const page = await browser.newPage();
    try {
      await page.goto(`${server.origin}/examples/browser/?${new URLSearchParams({ backend: 'cpu', ...params })}`);
      await page.waitForFunction(() => 'result' in window, null, { timeout: 60_000 });
      const result = (await page.evaluate(() => (window as unknown as { result: PageResult }).result)) as PageResult;
      expect(result.error).toBeUndefined();
      return { result, top5Names: await page.locator('#top5 .class-name').allInnerTexts() };
    } finally {
      await page.close();
    }
  }

  it("gives Keras's MobileNet α=0.25 features for a real JPEG with the official weights, found by alpha and size", async () => {
    const keras = JSON.parse(readFileSync(here('fixtures/keras-ref/real/mobilenet_025_features.json'), 'utf8')) as {
      images: Record<string, { features: { values: number[] } }>;
    };
    const elephant = keras.images['elephant.jpg']!;
    const { result } = await openPage({
      model: 'MobileNet',
      // No weights URL: the builder picks the official file for alpha 0.25 at 224 without the top, under /models/.
      options: JSON.stringify({ alpha: 0.25, includeTop: false, pooling: 'avg' }),
      image: '/test/data/images/elephant.jpg', // decoded by Chromium, resized as load_img(target_size=(224, 224))
    });
    expect(result.backend).toBe('cpu');
    expect(result.weights).toBe(`${server.origin}/models/mobilenet_2_5_224_tf_no_top.h5`);
    expect(result.shape).toEqual([1, 256]);
    expect(relativeError(result.values, elephant.features.values)).toBeLessThan(1e-4);
  });

  it("classifies as Keras does and shows Keras's top 5 (fixture MobileNet α=0.5 with Keras's generated weights)", async () => {
    const config = fixtureConfig('MobileNet', 'alpha0.5_top_160x160');
    await writeLegacyWeights(join(data, 'mobilenet_fixture.h5'), generatedWeightsFile(config));
    writeFileSync(join(data, 'input.f32'), generatedInput(config.numerics.input.shape));
    const { result, top5Names } = await openPage({
      model: 'MobileNet',
      options: JSON.stringify({ alpha: 0.5, inputShape: [160, 160, 3] }),
      weights: '/data/mobilenet_fixture.h5',
      input: '/data/input.f32',
      preprocess: 'none', // the fixture's input goes to the model as it is
    });
    // The fixture holds Keras's logits; the page's model ends in softmax.
    const logits = config.numerics.output.values!;
    const exps = logits.map((v) => Math.exp(v - Math.max(...logits)));
    const expected = exps.map((v) => v / exps.reduce((a, b) => a + b, 0));
    expect(relativeError(result.values, expected)).toBeLessThan(1e-4);

    const classIndex = JSON.parse(readFileSync(here('../src/applications/imagenet_class_index.json'), 'utf8')) as Record<string, [string, string]>;
    const kerasTop5 = expected.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 5).map(([, i]) => classIndex[i]!);
    expect(result.top5!.map((p) => p.classId)).toEqual(kerasTop5.map(([id]) => id));
    // The page's table lists the same five class names, best first.
    expect(top5Names).toEqual(kerasTop5.map(([, name]) => name));
  });
});
