import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../examples/browser/serve';
import { publishedFiles } from '../src/applications/official-weights';
import { ArgumentError, DownloadError, fetchWeightsInBrowser, mobilenet, resolveWeightsFile } from '../src/index';

// `weightsBaseUrl`: official files fetched by their Keras names from a folder URL instead of Keras's host (the way a
// page fetches them from its own site); in Node they still land in the Keras cache, checked as official files are.
const WEIGHTS = fileURLToPath(new URL('data/weights/', import.meta.url));
const official = (name: string) => publishedFiles().find((file) => file.fileName === name)!;

describe('weightsBaseUrl', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'keras-base-url-'));
  const requests: string[] = [];
  let server: RunningServer;

  beforeAll(async () => {
    server = await serve({ port: 0, modelsDir: WEIGHTS, onRequest: (path, status) => requests.push(`${status} ${path}`) });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("fetches an official file as <base>/<Keras's file name> into the Keras cache, once", async () => {
    const ref = official('mobilenet_2_5_224_tf_no_top.h5');
    for (const base of [`${server.origin}/models/`, `${server.origin}/models`]) {
      const path = await resolveWeightsFile(ref, { weightsBaseUrl: base, cacheDir });
      expect(path).toBe(join(cacheDir, 'models', 'mobilenet_2_5_224_tf_no_top.h5'));
      expect(readFileSync(path as string).equals(readFileSync(join(WEIGHTS, 'mobilenet_2_5_224_tf_no_top.h5')))).toBe(true);
    }
    expect(requests.filter((request) => request.includes('mobilenet_2_5_224'))).toEqual(['200 /models/mobilenet_2_5_224_tf_no_top.h5']);
  });

  it('names the URL it tried when the folder lacks the file', async () => {
    const error = await resolveWeightsFile(official('mobilenet_5_0_160_tf.h5'), { weightsBaseUrl: `${server.origin}/models/`, cacheDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toContain(`Could not download mobilenet_5_0_160_tf.h5 from ${server.origin}/models/mobilenet_5_0_160_tf.h5 (HTTP 404 Not Found)`);
  });

  it('fetchWeightsInBrowser outside a page: an absolute URL is fetched each time (no Cache API), a relative one is refused', async () => {
    const before = requests.length;
    for (let i = 0; i < 2; i++) {
      const bytes = await fetchWeightsInBrowser(`${server.origin}/models/mobilenet_2_5_224_tf_no_top.h5`);
      expect(Buffer.from(bytes).equals(readFileSync(join(WEIGHTS, 'mobilenet_2_5_224_tf_no_top.h5')))).toBe(true);
    }
    expect(requests.slice(before)).toEqual(Array(2).fill('200 /models/mobilenet_2_5_224_tf_no_top.h5'));
    await expect(fetchWeightsInBrowser('/models/mobilenet_2_5_224_tf_no_top.h5')).rejects.toThrow(
      new ArgumentError('The weights URL "/models/mobilenet_2_5_224_tf_no_top.h5" is not a URL (a relative one needs a page to resolve it against)'),
    );
  });

  it('refuses a value that is not an http(s) folder URL, and a browserCache that is not a boolean', async () => {
    const ref = official('mobilenet_2_5_224_tf_no_top.h5');
    for (const weightsBaseUrl of ['models/', 'ftp://host/models/', 42]) {
      await expect(resolveWeightsFile(ref, { weightsBaseUrl: weightsBaseUrl as string, cacheDir })).rejects.toThrow(
        new ArgumentError(
          "`weightsBaseUrl` must be the http(s) URL of a folder (in a browser it may be relative to the page, e.g. '/models/'). " +
            `Received: weightsBaseUrl=${typeof weightsBaseUrl === 'string' ? `'${weightsBaseUrl}'` : weightsBaseUrl}`,
        ),
      );
    }
    await expect(mobilenet({ alpha: 0.25, inputShape: [224, 224, 3], includeTop: false, browserCache: 'no' as unknown as boolean, cacheDir })).rejects.toThrow(
      "`browserCache` must be true or false. Received: browserCache='no'",
    );
  });
});
