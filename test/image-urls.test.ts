// Image URLs are fetched like weight files: an idle timeout, a deadline, an abort signal and a size limit, and
// every failure (a reset, a short body) is a DownloadError naming the URL, which the CLI reports as exit code 3.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../src/classify';
import { EXIT } from '../src/cli';
import { runCli } from './helpers/cli';
import { ArgumentError, DownloadError } from '../src/errors';
import { loadImage } from '../src/image/image';

const JPEG = readFileSync('test/data/images/elephant.jpg');
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const announced = { 'Content-Length': JPEG.byteLength, 'Content-Type': 'image/jpeg' };
    switch (req.url) {
      case '/stall': // Headers and a first piece, then nothing.
        res.writeHead(200, announced);
        res.write(JPEG.subarray(0, 1000));
        return;
      case '/reset': // The connection dies mid-body.
        res.writeHead(200, announced);
        res.write(JPEG.subarray(0, 1000), () => res.socket?.destroy());
        return;
      case '/short': // The body ends before Content-Length.
        res.writeHead(200, announced);
        res.end(JPEG.subarray(0, 1000));
        return;
      default:
        res.writeHead(200, announced);
        res.end(JPEG);
    }
  });
  // The short body ends when the server drops the idle connection.
  server.keepAliveTimeout = 200;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function downloadFailure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DownloadError);
  return (error as Error).message;
}

describe('image URLs', () => {
  it('loads a good URL', async () => {
    expect((await loadImage(`${base}/elephant.jpg`)).width).toBe(700);
  });

  it('gives up after timeoutMs without data, and at deadlineMs', async () => {
    expect(await downloadFailure(loadImage(`${base}/stall`, { timeoutMs: 200 }))).toBe(
      `Could not fetch image ${base}/stall: timed out: no data received for 0.2 s (timeoutMs: 200)`,
    );
    expect(await downloadFailure(loadImage(`${base}/stall`, { deadlineMs: 300 }))).toBe(
      `Could not fetch image ${base}/stall: it took longer than 0.3 s (deadlineMs: 300)`,
    );
  });

  it('reports a reset connection and a short body as DownloadErrors, not TypeError: terminated', async () => {
    expect(await downloadFailure(loadImage(`${base}/reset`))).toMatch(
      new RegExp(`^Could not fetch image ${base}/reset: the connection broke after 1000 of ${JPEG.byteLength} bytes`),
    );
    expect(await downloadFailure(loadImage(`${base}/short`))).toMatch(
      new RegExp(`^Could not fetch image ${base}/short: (received 1000 bytes, but the server announced ${JPEG.byteLength}|the connection broke)`),
    );
  });

  it('applies maxBytes to what is downloaded', async () => {
    expect(await downloadFailure(loadImage(`${base}/elephant.jpg`, { maxBytes: 1000 }))).toBe(
      `Could not fetch image ${base}/elephant.jpg: the server announced ${JPEG.byteLength} bytes, more than maxBytes (1000)`,
    );
  });

  it("stops on the caller's signal, also through classify", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    expect(await downloadFailure(loadImage(`${base}/stall`, { signal: controller.signal }))).toMatch(/aborted by the caller's signal/);
    const aborted = classify(`${base}/stall`, { model: 'MobileNet', weights: null, signal: AbortSignal.timeout(200) });
    expect(await downloadFailure(aborted)).toMatch(new RegExp(`^Could not fetch image ${base}/stall: aborted by the caller's signal`));
    const error = await classify(`${base}/elephant.jpg`, { model: 'MobileNet', weights: null, deadlineMs: -1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
  });

  it('the CLI reports a reset image URL as a download failure (exit code 3), not a bug', async () => {
    const { code, stderr } = await runCli('classify', `${base}/reset`, '--model', 'MobileNet', '--weights', 'none');
    expect(stderr).toMatch(new RegExp(`^error: Could not fetch image ${base}/reset: the connection broke`));
    expect(code).toBe(EXIT.download);
  });
});
