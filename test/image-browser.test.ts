import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../src/image/image';

// loadImage's browser path in headless Chromium: src/image/image.ts bundled for the browser (sharp and
// node: modules never load), served with the test images from an origin the page's requests are routed to.
const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ORIGIN = 'http://images.test';
const FILES: Record<string, string> = {
  '/rgb.png': 'test/fixtures/pil-ref/rgb.png',
};
const PHOTOS = ['elephant', 'cat', 'dog'];
for (const name of PHOTOS) {
  FILES[`/${name}.jpg`] = `test/data/images/${name}.jpg`;
  FILES[`/${name}_224_keras.png`] = `test/fixtures/keras-ref/real/${name}_224_keras.png`;
}

const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium for this test`);
if (chromiumMissing) console.warn(`image-browser.test.ts skipped: no ${CHROMIUM} (apt-get install chromium)`);

type LoadImageInPage = (source: unknown, options?: Record<string, unknown>) => Promise<{ height: number; width: number; channels: number; data: Uint8Array }>;

interface PageImage {
  height: number;
  width: number;
  channels: number;
  data: number[];
}

describe.skipIf(chromiumMissing)('loadImage in headless Chromium', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [path.join(ROOT, 'src/image/image.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      external: ['node:*'],
      write: false,
      logLevel: 'silent',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    page = await browser.newPage();
    await page.route(`${ORIGIN}/**`, async (route) => {
      const { pathname } = new URL(route.request().url());
      if (pathname === '/') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>images</title>' });
      if (pathname === '/image.js') return route.fulfill({ contentType: 'text/javascript', body: bundle.outputFiles[0]!.text });
      const file = FILES[pathname];
      return file ? route.fulfill({ body: await readFile(path.join(ROOT, file)) }) : route.fulfill({ status: 404, body: 'not found' });
    });
    await page.goto(`${ORIGIN}/`);
    // A module script, not import() in page.evaluate's functions: vitest rewrites import() in this file.
    await page.addScriptTag({ type: 'module', content: `import { loadImage } from '/image.js'; window.loadImage = loadImage;` });
    await page.waitForFunction(() => 'loadImage' in window);
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Runs loadImage in the page on what `makeSource` (page code, as a string) returns. */
  async function loadInPage(makeSource: string, options: Record<string, unknown> = {}): Promise<PageImage> {
    return page.evaluate(
      async ([makeSource, options]) => {
        const { loadImage } = window as unknown as { loadImage: LoadImageInPage };
        const source = await new Function(`return (async () => { ${makeSource} })()`)();
        const image = await loadImage(source, options);
        return { height: image.height, width: image.width, channels: image.channels, data: Array.from(image.data) };
      },
      [makeSource, options] as const,
    );
  }

  it('decodes a PNG from a URL, its bytes, an <img>, a canvas and an ImageBitmap to the pixels Pillow gives', async () => {
    const expected = await loadImage(path.join(ROOT, FILES['/rgb.png']!), { targetSize: [5, 7], interpolation: 'bicubic' });
    const options = { targetSize: [5, 7], interpolation: 'bicubic' };
    const sources = [
      `return '/rgb.png';`,
      `return new URL('/rgb.png', location.href);`,
      `return new Uint8Array(await (await fetch('/rgb.png')).arrayBuffer());`,
      `const img = new Image(); img.src = '/rgb.png'; await img.decode(); return img;`,
      `const bitmap = await createImageBitmap(await (await fetch('/rgb.png')).blob()); return bitmap;`,
      `const bitmap = await createImageBitmap(await (await fetch('/rgb.png')).blob());
       const canvas = document.createElement('canvas'); canvas.width = bitmap.width; canvas.height = bitmap.height;
       canvas.getContext('2d').drawImage(bitmap, 0, 0); return canvas;`,
    ];
    for (const source of sources) {
      const image = await loadInPage(source, options);
      expect([image.height, image.width, image.channels], source).toEqual([5, 7, 3]);
      expect(image.data, source).toEqual(Array.from(expected.data));
    }
  });

  it('takes ImageData as it is, alpha included', async () => {
    const image = await loadInPage(`return new ImageData(new Uint8ClampedArray([1, 2, 3, 0, 4, 5, 6, 77]), 2, 1);`, { colorMode: 'rgba' });
    expect(image.data).toEqual([1, 2, 3, 0, 4, 5, 6, 77]);
  });

  it.each(PHOTOS)("loads %s.jpg at 224×224 with Chromium's JPEG decoder as Keras did", async (name) => {
    const keras = await loadImage(path.join(ROOT, FILES[`/${name}_224_keras.png`]!));
    const image = await loadInPage(`return '/${name}.jpg';`, { targetSize: [224, 224] });
    let max = 0;
    let total = 0;
    image.data.forEach((v, i) => {
      const difference = Math.abs(v - keras.data[i]!);
      max = Math.max(max, difference);
      total += difference;
    });
    // Chromium decodes with libjpeg-turbo too, colour profile left alone: the same pixels (docs/images.md).
    expect({ max, mean: total / image.data.length }).toEqual({ max: 0, mean: 0 });
  });

  it('rejects what the browser cannot decode as an ArgumentError', async () => {
    const message = await page.evaluate(async () => {
      const { loadImage } = window as unknown as { loadImage: LoadImageInPage };
      return loadImage(new Uint8Array([1, 2, 3])).then(
        () => 'decoded',
        (error: Error) => `${error.name}: ${error.message}`,
      );
    });
    expect(message).toMatch(/^ArgumentError: Cannot decode image <3 bytes>: /);
  });
});
