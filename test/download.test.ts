import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ArgumentError, DownloadError } from '../src/errors';
import { readWeightsSource } from '../src/weights/apply';
import { defaultCacheDir, fetchBytes, getFile, type DownloadProgress } from '../src/weights/download';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const H5 = await readFile(path.join(ROOT, 'test/data/weights/mobilenet_2_5_224_tf_no_top.h5'));
const DATA = randomBytes(300_000);
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- A local server whose routes each test controls ----------------------------------------

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

interface TestServer {
  url: string;
  /** Requests seen, per path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

const servers: TestServer[] = [];

async function startServer(routes: Record<string, Handler>): Promise<TestServer> {
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const route = req.url ?? '/';
    hits.set(route, (hits.get(route) ?? 0) + 1);
    const handler = routes[route];
    if (!handler) {
      res.writeHead(404).end('not found');
      return;
    }
    void handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  const testServer: TestServer = {
    url: `http://127.0.0.1:${port}`,
    hits,
    async close() {
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
  servers.push(testServer);
  return testServer;
}

/** Serves `bytes` with a Content-Length, in `chunks` pieces `delayMs` apart. */
function serve(bytes: Uint8Array, { chunks = 1, delayMs = 0 } = {}): Handler {
  return async (_req, res) => {
    res.writeHead(200, { 'Content-Length': bytes.byteLength, 'Content-Type': 'application/octet-stream' });
    const size = Math.ceil(bytes.byteLength / chunks);
    for (let offset = 0; offset < bytes.byteLength; offset += size) {
      if (offset > 0 && delayMs) await sleep(delayMs);
      res.write(bytes.subarray(offset, offset + size));
    }
    res.end();
  };
}

/** Sends the headers and the first `bytes` bytes of an `announced`-byte body, then nothing until the test ends. */
function stall(bytes: number, announced = DATA.byteLength): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'Content-Length': announced });
    res.write(randomBytes(bytes));
  };
}

/** Holds every request until `count` have arrived, so downloads really overlap. */
function barrier(count: number, next: Handler): Handler {
  const waiting: Array<() => void> = [];
  return async (req, res) => {
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (waiting.length === count) waiting.forEach((release) => release());
    });
    await next(req, res);
  };
}

// ---- Temp cache folders -----------------------------------------------------------------

const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'keras-apps-dl-'));
  tempDirs.push(dir);
  return dir;
}

async function listing(folder: string): Promise<string[]> {
  return existsSync(folder) ? (await readdir(folder)).sort() : [];
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

async function expectDownloadError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DownloadError);
  return (error as DownloadError).message;
}

// ---- Tests --------------------------------------------------------------------------------

describe('getFile', () => {
  it.each([
    ['md5', md5(DATA)],
    ['sha256', sha256(DATA)],
  ])('downloads into <cacheDir>/models and checks the %s hash', async (_algorithm, fileHash) => {
    const server = await startServer({ '/data.bin': serve(DATA, { chunks: 4, delayMs: 120 }) });
    const cacheDir = await tempDir();
    const progress: DownloadProgress[] = [];
    const file = await getFile('data.bin', `${server.url}/data.bin`, {
      cacheDir,
      fileHash,
      onProgress: (p) => progress.push(p),
    });

    expect(file).toBe(path.join(cacheDir, 'models', 'data.bin'));
    expect(Buffer.compare(await readFile(file), DATA)).toBe(0);
    expect(await listing(path.join(cacheDir, 'models'))).toEqual(['data.bin']);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.received).toBeGreaterThan(progress[i - 1]!.received);
    expect(progress.at(-1)).toEqual({ url: `${server.url}/data.bin`, received: DATA.byteLength, total: DATA.byteLength });
  });

  it('uses a cached file without the network', async () => {
    const server = await startServer({ '/data.bin': serve(DATA) });
    const cacheDir = await tempDir();
    const url = `${server.url}/data.bin`;
    const first = await getFile('data.bin', url, { cacheDir, fileHash: md5(DATA) });
    await server.close();

    expect(await getFile('data.bin', url, { cacheDir, fileHash: md5(DATA) })).toBe(first);
    expect(await getFile('data.bin', url, { cacheDir })).toBe(first);
  });

  it('caches under $KERAS_HOME when no cacheDir is given', async () => {
    const server = await startServer({ '/data.bin': serve(DATA) });
    const kerasHome = await tempDir();
    vi.stubEnv('KERAS_HOME', kerasHome);

    expect(defaultCacheDir()).toBe(kerasHome);
    const file = await getFile('data.bin', `${server.url}/data.bin`, { fileHash: md5(DATA) });
    expect(file).toBe(path.join(kerasHome, 'models', 'data.bin'));
    expect(Buffer.compare(await readFile(file), DATA)).toBe(0);
  });

  it('defaults to ~/.keras without $KERAS_HOME', () => {
    vi.stubEnv('KERAS_HOME', undefined);
    expect(defaultCacheDir()).toBe(path.join(os.homedir(), '.keras'));
  });

  it('reports an HTTP error with its status and URL, and leaves nothing behind', async () => {
    const server = await startServer({});
    const cacheDir = await tempDir();
    const url = `${server.url}/missing.h5`;
    const message = await expectDownloadError(getFile('missing.h5', url, { cacheDir, fileHash: md5(DATA) }));

    expect(message).toContain('HTTP 404');
    expect(message).toContain(url);
    expect(message).toContain(path.join(cacheDir, 'models', 'missing.h5'));
    expect(await listing(path.join(cacheDir, 'models'))).toEqual([]);
  });

  it('rejects a download with the wrong hash, naming both hashes', async () => {
    const server = await startServer({ '/data.bin': serve(DATA) });
    const cacheDir = await tempDir();
    const wrong = md5(Buffer.from('something else'));
    const message = await expectDownloadError(getFile('data.bin', `${server.url}/data.bin`, { cacheDir, fileHash: wrong }));

    expect(message).toContain(wrong);
    expect(message).toContain(md5(DATA));
    expect(message).toContain(`${server.url}/data.bin`);
    expect(await listing(path.join(cacheDir, 'models'))).toEqual([]);
  });

  it('re-downloads a cached file whose hash is wrong', async () => {
    const server = await startServer({ '/data.bin': serve(DATA) });
    const cacheDir = await tempDir();
    const file = path.join(cacheDir, 'models', 'data.bin');
    await getFile('data.bin', `${server.url}/data.bin`, { cacheDir, fileHash: md5(DATA) });
    await writeFile(file, 'corrupted');

    expect(await getFile('data.bin', `${server.url}/data.bin`, { cacheDir, fileHash: md5(DATA) })).toBe(file);
    expect(Buffer.compare(await readFile(file), DATA)).toBe(0);
    expect(server.hits.get('/data.bin')).toBe(2);
    expect(await listing(path.join(cacheDir, 'models'))).toEqual(['data.bin']);
  });

  it('fails when the connection is cut short of Content-Length', async () => {
    const server = await startServer({
      '/data.bin': (_req, res) => {
        res.writeHead(200, { 'Content-Length': DATA.byteLength });
        res.write(DATA.subarray(0, DATA.byteLength / 2), () => res.socket?.destroy());
      },
    });
    const cacheDir = await tempDir();
    const message = await expectDownloadError(getFile('data.bin', `${server.url}/data.bin`, { cacheDir }));

    expect(message).toMatch(/connection broke after \d+ of 300000 bytes/);
    expect(await listing(path.join(cacheDir, 'models'))).toEqual([]);
  });

  it('catches a truncated HDF5 file without a hash or Content-Length through its superblock', async () => {
    // A close-delimited HTTP/1.0-style body: the client cannot tell the cut from a normal end.
    const server = await startServer({
      '/weights.h5': (req) => {
        req.socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n'), H5.subarray(0, H5.length / 2)]));
      },
    });
    const cacheDir = await tempDir();
    const message = await expectDownloadError(getFile('weights.h5', `${server.url}/weights.h5`, { cacheDir }));

    expect(message).toContain('truncated');
    expect(await listing(path.join(cacheDir, 'models'))).toEqual([]);
  });

  it('accepts a whole HDF5 file without a hash and rejects a cleanly served truncated one', async () => {
    const server = await startServer({
      '/good.h5': serve(H5),
      '/short.h5': serve(H5.subarray(0, H5.length - 1000)),
      '/not.h5': serve(DATA),
    });
    const cacheDir = await tempDir();

    const good = await getFile('good.h5', `${server.url}/good.h5`, { cacheDir });
    expect(Buffer.compare(await readFile(good), H5)).toBe(0);
    expect(await expectDownloadError(getFile('short.h5', `${server.url}/short.h5`, { cacheDir }))).toContain('truncated');
    expect(await expectDownloadError(getFile('not.h5', `${server.url}/not.h5`, { cacheDir }))).toContain('not an HDF5 file');
    expect(await listing(path.join(cacheDir, 'models'))).toEqual(['good.h5']);
  });

  it('gives up on a stalled connection after timeoutMs', async () => {
    const server = await startServer({
      '/data.bin': (_req, res) => {
        res.writeHead(200, { 'Content-Length': DATA.byteLength });
        res.write(DATA.subarray(0, 1000)); // ...and never more.
      },
    });
    const cacheDir = await tempDir();
    const start = Date.now();
    const message = await expectDownloadError(getFile('data.bin', `${server.url}/data.bin`, { cacheDir, timeoutMs: 500 }));

    expect(Date.now() - start).toBeLessThan(3000);
    expect(message).toContain('timed out');
    expect(message).toContain('0.5 s');
    expect(await listing(path.join(cacheDir, 'models'))).toEqual([]);
  });

  it('lets two concurrent calls download the same file', async () => {
    const server = await startServer({ '/data.bin': barrier(2, serve(DATA, { chunks: 5, delayMs: 30 })) });
    const cacheDir = await tempDir();
    const get = () => getFile('data.bin', `${server.url}/data.bin`, { cacheDir, fileHash: md5(DATA) });
    const [a, b] = await Promise.all([get(), get()]);

    expect(a).toBe(path.join(cacheDir, 'models', 'data.bin'));
    expect(b).toBe(a);
    expect(server.hits.get('/data.bin')).toBe(2);
    expect(Buffer.compare(await readFile(a), DATA)).toBe(0);
    expect(await listing(path.join(cacheDir, 'models'))).toEqual(['data.bin']);
  });

  describe('in two processes', () => {
    let bundleDir: string;
    beforeAll(async () => {
      bundleDir = await mkdtemp(path.join(os.tmpdir(), 'keras-apps-dl-bundle-'));
      await build({
        entryPoints: [path.join(ROOT, 'src/weights/download.ts')],
        bundle: true,
        format: 'esm',
        platform: 'node',
        outfile: path.join(bundleDir, 'download.mjs'),
        logLevel: 'warning',
      });
      await writeFile(
        path.join(bundleDir, 'get.mjs'),
        "import { getFile } from './download.mjs';\n" +
          'const [fname, url, cacheDir, fileHash] = process.argv.slice(2);\n' +
          'console.log(await getFile(fname, url, { cacheDir, fileHash }));\n',
      );
    });
    afterAll(() => rm(bundleDir, { recursive: true, force: true }));

    function runGetFile(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const child = spawn(process.execPath, [path.join(bundleDir, 'get.mjs'), ...args]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (data) => (stdout += data));
      child.stderr.on('data', (data) => (stderr += data));
      return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    }

    it('both end with the good file', async () => {
      const server = await startServer({ '/data.bin': barrier(2, serve(DATA, { chunks: 5, delayMs: 30 })) });
      const cacheDir = await tempDir();
      const args = ['data.bin', `${server.url}/data.bin`, cacheDir, md5(DATA)];
      const results = await Promise.all([runGetFile(...args), runGetFile(...args)]);

      const file = path.join(cacheDir, 'models', 'data.bin');
      for (const { code, stdout, stderr } of results) {
        expect(stderr).toBe('');
        expect(code).toBe(0);
        expect(stdout.trim()).toBe(file);
      }
      expect(server.hits.get('/data.bin')).toBe(2);
      expect(Buffer.compare(await readFile(file), DATA)).toBe(0);
      expect(await listing(path.join(cacheDir, 'models'))).toEqual(['data.bin']);
    });
  });

  describe('offline', () => {
    it('tells where to put the file when the server cannot be reached', async () => {
      const server = await startServer({});
      await server.close();
      const cacheDir = await tempDir();
      const url = `${server.url}/vgg16.h5`;
      const message = await expectDownloadError(getFile('vgg16.h5', url, { cacheDir }));

      expect(message).toContain(url);
      expect(message).toContain('ECONNREFUSED');
      expect(message).toContain(`place it at ${path.join(cacheDir, 'models', 'vgg16.h5')}`);
    });

    it('uses the cache and never the network with offline: true', async () => {
      const server = await startServer({ '/good.h5': serve(H5) });
      const cacheDir = await tempDir();
      const file = await getFile('good.h5', `${server.url}/good.h5`, { cacheDir, fileHash: md5(H5) });

      expect(await getFile('good.h5', `${server.url}/good.h5`, { cacheDir, fileHash: md5(H5), offline: true })).toBe(file);
      const message = await expectDownloadError(getFile('other.h5', `${server.url}/good.h5`, { cacheDir, offline: true }));
      expect(message).toContain(`${server.url}/good.h5`);
      expect(message).toContain('offline');
      expect(message).toContain(`place it at ${path.join(cacheDir, 'models', 'other.h5')}`);
      expect(server.hits.get('/good.h5')).toBe(1);
    });

    it('honours KERAS_APPLICATIONS_OFFLINE=1', async () => {
      const server = await startServer({ '/good.h5': serve(H5) });
      const cacheDir = await tempDir();
      vi.stubEnv('KERAS_APPLICATIONS_OFFLINE', '1');

      expect(await expectDownloadError(getFile('good.h5', `${server.url}/good.h5`, { cacheDir }))).toContain('offline');
      expect(server.hits.size).toBe(0);
    });
  });

  it('falls back to /tmp/.keras when the cache folder cannot be created', async () => {
    const server = await startServer({ '/data.bin': serve(DATA) });
    const parentFile = path.join(await tempDir(), 'a-file');
    await writeFile(parentFile, '');
    const fname = `keras-apps-dl-test-${process.pid}-${Date.now()}.bin`;
    const fallback = path.join('/tmp/.keras/models', fname);
    const warnings: Error[] = [];
    const listen = (warning: Error) => warnings.push(warning);
    process.on('warning', listen);
    try {
      const cacheDir = path.join(parentFile, 'cache');
      const file = await getFile(fname, `${server.url}/data.bin`, { cacheDir, fileHash: md5(DATA) });
      expect(file).toBe(fallback);
      expect(Buffer.compare(await readFile(file), DATA)).toBe(0);
      // Said once per process, as Keras's warning: the fallback folder is shared by every user.
      await getFile(`${fname}.2`, `${server.url}/data.bin`, { cacheDir, fileHash: md5(DATA) });
      await rm(`${fallback}.2`, { force: true });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.message)).toEqual([
        `The cache folder ${path.join(cacheDir, 'models')} cannot be written to; downloads go to /tmp/.keras/models, shared by every user of this machine.`,
      ]);
    } finally {
      process.off('warning', listen);
      await rm(fallback, { force: true });
      // Remove the folders too, unless something else uses them.
      await rmdir('/tmp/.keras/models').catch(() => {});
      await rmdir('/tmp/.keras').catch(() => {});
    }
  });

  it('gives up at once on a cache folder under /proc (where recursive mkdir would spin) and falls back', async () => {
    const server = await startServer({ '/data.bin': serve(DATA) });
    const fname = `keras-apps-proc-test-${process.pid}-${Date.now()}.bin`;
    const fallback = path.join('/tmp/.keras/models', fname);
    try {
      const started = Date.now();
      const file = await getFile(fname, `${server.url}/data.bin`, { cacheDir: '/proc/keras-apps-test', fileHash: md5(DATA) });
      expect(file).toBe(fallback);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await rm(fallback, { force: true });
    }
  });

  it('refuses a fileHash that is neither md5 nor sha256 before downloading', async () => {
    const server = await startServer({ '/data.bin': serve(DATA) });
    const cacheDir = await tempDir();
    for (const fileHash of ['abc', md5(DATA).slice(1), `${sha256(DATA)}0`, 'z'.repeat(32)]) {
      for (const call of [getFile('data.bin', `${server.url}/data.bin`, { cacheDir, fileHash }), fetchBytes(`${server.url}/data.bin`, { fileHash })]) {
        const error = await call.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ArgumentError);
        expect((error as Error).message).toBe(
          `\`fileHash\` must be an md5 (32 hex digits) or sha256 (64 hex digits) hash, or null. Received: fileHash='${fileHash}'`,
        );
      }
    }
    expect(server.hits.size).toBe(0);
  });

  it('names a bad cached copy and its path when it cannot download a good one', async () => {
    const cacheDir = await tempDir();
    const cached = path.join(cacheDir, 'models', 'data.bin');
    await getFile('data.bin', `${(await startServer({ '/data.bin': serve(DATA) })).url}/data.bin`, { cacheDir });
    const closed = await startServer({});
    await closed.close();
    const expected = `The copy at ${cached} is not usable: its md5 is ${md5(DATA)}, but ${md5(H5)} was expected.`;
    // Offline, and with the server unreachable.
    for (const offline of [true, false]) {
      const message = await expectDownloadError(getFile('data.bin', `${closed.url}/data.bin`, { cacheDir, fileHash: md5(H5), offline }));
      expect(message).toContain(expected);
      expect(message).toContain(`place it at ${cached}`);
    }
  });

  it('draws a progress bar on a TTY stderr and ends its line', async () => {
    const server = await startServer({ '/data.bin': serve(DATA, { chunks: 3, delayMs: 120 }) });
    const cacheDir = await tempDir();
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    // Under vitest stderr is a pipe; pretend it is a terminal.
    const isTTY = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    try {
      await getFile('data.bin', `${server.url}/data.bin`, { cacheDir });
    } finally {
      if (isTTY) Object.defineProperty(process.stderr, 'isTTY', isTTY);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }

    const output = written.join('');
    expect(output).toContain('100% [====================] 0.3/0.3 MB');
    expect(output).toContain('MB/s');
    expect(output.endsWith('\n')).toBe(true);
    expect(written.length).toBeLessThanOrEqual(DATA.byteLength / 1000);
  });
});

describe('deadlines, cancellation and size limits', () => {
  /** Sends a small piece every 50 ms, never finishing within a test. */
  const trickle: Handler = async (_req, res) => {
    res.writeHead(200, { 'Content-Length': DATA.byteLength });
    for (let i = 0; i < 200 && !res.destroyed; i++) {
      res.write(DATA.subarray(i * 100, (i + 1) * 100));
      await sleep(50);
    }
  };

  it('stops at deadlineMs although bytes keep arriving, and leaves no part file', async () => {
    const server = await startServer({ '/data.bin': trickle });
    const cacheDir = await tempDir();
    const started = Date.now();
    const message = await expectDownloadError(getFile('data.bin', `${server.url}/data.bin`, { cacheDir, deadlineMs: 400 }));
    expect(message).toContain('it took longer than 0.4 s (deadlineMs: 400)');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await listing(path.join(cacheDir, 'models'))).toEqual([]);
    await expect(fetchBytes(`${server.url}/data.bin`, { deadlineMs: 300 })).rejects.toThrow(/it took longer than 0\.3 s \(deadlineMs: 300\)/);
  });

  it("stops when the caller's signal aborts, before or during the download", async () => {
    const server = await startServer({ '/data.bin': stall(1000) });
    const cacheDir = await tempDir();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user cancelled')), 200);
    const message = await expectDownloadError(getFile('data.bin', `${server.url}/data.bin`, { cacheDir, signal: controller.signal }));
    expect(message).toContain("aborted by the caller's signal (user cancelled)");
    expect(await listing(path.join(cacheDir, 'models'))).toEqual([]);
    const before = server.hits.get('/data.bin');
    await expect(fetchBytes(`${server.url}/data.bin`, { signal: AbortSignal.abort() })).rejects.toThrow(/aborted by the caller's signal/);
    expect(server.hits.get('/data.bin')).toBe(before);
  });

  it('refuses a body above maxBytes, announced or not', async () => {
    const server = await startServer({
      '/announced': serve(DATA),
      '/chunked': (_req, res) => {
        res.writeHead(200);
        res.end(DATA);
      },
    });
    await expect(fetchBytes(`${server.url}/announced`, { maxBytes: 1000 })).rejects.toThrow(
      `the server announced ${DATA.byteLength} bytes, more than maxBytes (1000)`,
    );
    await expect(fetchBytes(`${server.url}/chunked`, { maxBytes: 1000 })).rejects.toThrow('the response is larger than maxBytes (1000 bytes)');
    expect((await fetchBytes(`${server.url}/chunked`, { maxBytes: DATA.byteLength })).byteLength).toBe(DATA.byteLength);
  });

  it.each([
    ['timeoutMs', 0],
    ['deadlineMs', -5],
    ['deadlineMs', Number.POSITIVE_INFINITY],
    ['signal', 'stop'],
    ['maxBytes', 1.5],
  ])('checks %s (%j is refused)', async (name, value) => {
    const error = await fetchBytes('http://127.0.0.1:9/x', { [name]: value } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toMatch(new RegExp(`^\`${name}\` must be .*Received: ${name}=`));
  });
});

describe('part files of interrupted downloads', () => {
  /** The pid of a process that has ended. */
  function deadPid(): number {
    const child = spawnSync(process.execPath, ['-e', '0']);
    return child.pid!;
  }

  it("removes parts whose writing process is gone, and keeps live processes' parts", async () => {
    const server = await startServer({ '/data.bin': serve(DATA) });
    const cacheDir = await tempDir();
    const models = path.join(cacheDir, 'models');
    const sleeper = spawn('sleep', ['30']);
    try {
      await mkdir(models, { recursive: true });
      const stale = `data.bin.${deadPid()}.abc123.part`;
      const live = `data.bin.${sleeper.pid}.def456.part`;
      const other = `other.bin.${deadPid()}.abc123.part`;
      for (const name of [stale, live, other]) await writeFile(path.join(models, name), 'partial');
      await getFile('data.bin', `${server.url}/data.bin`, { cacheDir, fileHash: md5(DATA) });
      expect(await listing(models)).toEqual(['data.bin', live, other].sort());
    } finally {
      sleeper.kill();
    }
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('the CLI removes its part file on %s and exits as the signal would', async (signal) => {
    const kerasHome = await tempDir();
    // Every official path gets the headers and the first bytes, then nothing: the download hangs mid-way.
    const stalled = http.createServer(stall(100_000, 5_000_000));
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const mirror = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`;
    const env = { ...process.env, KERAS_HOME: kerasHome, KERAS_APPLICATIONS_MIRROR: mirror, KERAS_APPLICATIONS_OFFLINE: '' };
    const cli = spawn(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'download', 'VGG16', '--variant', 'notop'], { env, stdio: 'ignore' });
    try {
      const models = path.join(kerasHome, 'models');
      for (let i = 0; i < 200 && !(await listing(models)).some((name) => name.endsWith('.part')); i++) await sleep(50);
      expect((await listing(models)).filter((name) => name.endsWith('.part'))).toHaveLength(1);
      const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
      cli.kill(signal);
      expect(await exited).toBe(128 + os.constants.signals[signal]);
      expect(await listing(models)).toEqual([]);
    } finally {
      cli.kill('SIGKILL');
      stalled.closeAllConnections();
      stalled.close();
    }
  });
});

describe('cache file names from URLs', () => {
  /** Every file under `root`, relative to it. */
  async function filesUnder(root: string): Promise<string[]> {
    return (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((entry) => !entry.isDirectory())
      .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
      .sort();
  }

  it.each([
    ['encoded slashes', '..%2F..%2Fescaped.h5'],
    ['encoded backslashes', '..%5C..%5Cescaped.h5'],
    ['an encoded slash after ..', '%2E%2E%2Fescaped.h5'],
    ['a NUL byte', 'escaped%00.h5'],
    ['a newline', 'escaped%0A.h5'],
  ])('refuses a URL whose file name has %s before anything is fetched or written', async (_kind, name) => {
    const route = `/w/${name}`;
    const server = await startServer({ [route]: serve(H5) });
    const root = await tempDir();
    const cacheDir = path.join(root, 'home', '.keras');
    const error = await readWeightsSource(`${server.url}${route}`, { cacheDir }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toContain(`${server.url}${route}`);
    expect((error as Error).message).toMatch(/not a plain file name/);
    expect(server.hits.get(route)).toBeUndefined();
    expect(await filesUnder(root)).toEqual([]);
  });

  it('refuses a malformed percent-escape with our error, not a URIError', async () => {
    const server = await startServer({});
    const cacheDir = await tempDir();
    const error = await readWeightsSource(`${server.url}/w/bad%E0%A4%A.h5`, { cacheDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toMatch(/malformed percent-escape in its file name 'bad%E0%A4%A\.h5'/);
    const fileUrl = await readWeightsSource('file:///tmp/bad%2Fname.h5').catch((e: unknown) => e);
    expect(fileUrl).toBeInstanceOf(ArgumentError);
    expect((fileUrl as Error).message).toContain('file:///tmp/bad%2Fname.h5');
  });

  it('keeps a plain decoded name: spaces and other escapes are fine', async () => {
    const server = await startServer({ '/w/my%20weights.h5': serve(H5) });
    const cacheDir = await tempDir();
    const file = await readWeightsSource(`${server.url}/w/my%20weights.h5`, { cacheDir });
    expect(file.layers.length).toBeGreaterThan(0);
    expect(await listing(path.join(cacheDir, 'models'))).toEqual(['my weights.h5']);
  });

  it.each(['../escaped.bin', 'sub/escaped.bin', '..', '', 'a\\b.bin'])('getFile refuses the fname %j', async (fname) => {
    const server = await startServer({ '/data.bin': serve(DATA) });
    const root = await tempDir();
    const cacheDir = path.join(root, 'cache');
    const error = await getFile(fname, `${server.url}/data.bin`, { cacheDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect(server.hits.size).toBe(0);
    expect(await filesUnder(root)).toEqual([]);
  });
});

describe('fetchBytes', () => {
  it('returns the bytes and checks md5 and sha256', async () => {
    const server = await startServer({ '/data.bin': serve(DATA, { chunks: 3 }) });
    const url = `${server.url}/data.bin`;

    expect(Buffer.compare(await fetchBytes(url, { fileHash: md5(DATA) }), DATA)).toBe(0);
    expect(Buffer.compare(await fetchBytes(url, { fileHash: sha256(DATA) }), DATA)).toBe(0);
    expect(Buffer.compare(await fetchBytes(url), DATA)).toBe(0);
    const message = await expectDownloadError(fetchBytes(url, { fileHash: '0'.repeat(32) }));
    expect(message).toContain('0'.repeat(32));
    expect(message).toContain(md5(DATA));
    expect(message).toContain(url);
  });

  it('computes md5 correctly around block boundaries', async () => {
    // The in-memory md5 is our own (WebCrypto has none); check its padding edge cases against Node's.
    const sizes = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 100_001];
    const server = await startServer(
      Object.fromEntries(sizes.map((size) => [`/${size}`, serve(DATA.subarray(0, size))])),
    );
    for (const size of sizes) {
      const bytes = await fetchBytes(`${server.url}/${size}`, { fileHash: md5(DATA.subarray(0, size)) });
      expect(bytes.byteLength).toBe(size);
    }
  });

  it('reports HTTP errors and truncated HDF5 files', async () => {
    const server = await startServer({ '/short.h5': serve(H5.subarray(0, 100_000)) });

    expect(await expectDownloadError(fetchBytes(`${server.url}/missing`))).toContain('HTTP 404');
    expect(await expectDownloadError(fetchBytes(`${server.url}/short.h5`))).toContain('truncated');
  });
});
