// Headless Chromium with the browser's software GPU (SwiftShader for WebGL and WebGPU, where no GPU exists) and the
// benchmark page, served cross-origin isolated so that the wasm engines get threads. Used by bench/browser-bench.ts
// and test/integration/browser-backends.test.ts.
import { chromium, type Browser, type Page } from 'playwright-core';
import { serve, type RunningServer, type ServeOptions } from '../../examples/browser/serve';

export const CHROMIUM = '/usr/bin/chromium';

/** Chromium 156's switches for WebGPU and WebGL on SwiftShader when there is no GPU (on a GPU they are used instead). */
const GPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader'];
const QUIET_FLAGS = ['--disable-background-networking', '--disable-component-update', '--no-first-run'];

export interface BenchBrowser {
  browser: Browser;
  server: RunningServer;
  /** A fresh page (fresh tfjs) with `window.bench` ready. */
  openPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function startBenchBrowser(options: ServeOptions = {}): Promise<BenchBrowser> {
  // serve.ts sends COOP/COEP: the page is cross-origin isolated, so wasm runs on threads.
  const server = await serve({ port: 0, ...options });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...QUIET_FLAGS, ...GPU_FLAGS] });
  return {
    browser,
    server,
    async openPage() {
      const page = await browser.newPage();
      await page.goto(`${server.origin}/bench/browser/`);
      await page.waitForFunction(() => 'bench' in window, null, { timeout: 60_000 });
      return page;
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
