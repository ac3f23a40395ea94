// Backend state is global per process, so every scenario runs in a fresh `node` on src/backend/index.ts
// bundled with esbuild; @tensorflow/* stays external, so the real installed tfjs packages are used
// (here: wasm and cpu, no tfjs-node).
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
let dir: string;

interface Outcome {
  /** What the scenario passed to out(), or the error it threw. */
  result: Record<string, unknown>;
  stderr: string;
}

/**
 * Runs `body` as an ES module with `tf` (tfjs-core), `backend` (our bundle) and `out(value)` in scope.
 * `bundle` picks the copy of the bundle to import (each copy resolves packages from its own folder).
 */
async function scenario(body: string, env: Record<string, string> = {}, bundle = 'backend.mjs'): Promise<Outcome> {
  const script = `
    import * as tf from '@tensorflow/tfjs-core';
    import * as backend from ${JSON.stringify(pathToFileURL(path.join(dir, bundle)).href)};
    const out = (value) => console.log(JSON.stringify(value));
    try {
      ${body}
    } catch (e) {
      out({ error: { name: e.name, message: e.message } });
    }`;
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KERAS_APPLICATIONS_')));
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO,
    env: { ...cleanEnv, ...env },
  });
  return { result: JSON.parse(stdout.trim().split('\n').at(-1)!), stderr };
}

const notInstalled = (pkg: string) => `${pkg} is not installed; install it with \`npm install ${pkg}\``;
const ALLOWED =
  'Allowed: tensorflow-gpu, tensorflow, wasm, cpu, webgpu, webgl (aliases: node-gpu = tensorflow-gpu, node = tensorflow)';

beforeAll(async () => {
  await mkdir(path.join(REPO, '.tmp'), { recursive: true });
  dir = await mkdtemp(path.join(REPO, '.tmp', 'backend-test-'));
  await build({
    entryPoints: [path.join(REPO, 'src/backend/index.ts')],
    outfile: path.join(dir, 'backend.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    external: ['@tensorflow/*'],
    keepNames: true,
    logLevel: 'silent',
  });
  // A copy next to a tfjs-node-gpu that is installed but cannot load, as when CUDA libraries are missing.
  const broken = path.join(dir, 'broken');
  const gpuPackage = path.join(broken, 'node_modules/@tensorflow/tfjs-node-gpu');
  await mkdir(gpuPackage, { recursive: true });
  await cp(path.join(dir, 'backend.mjs'), path.join(broken, 'backend.mjs'));
  await writeFile(path.join(gpuPackage, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node-gpu', main: 'index.js' }));
  await writeFile(
    path.join(gpuPackage, 'index.js'),
    "throw new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');\n",
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('selectBackend', () => {
  it('picks wasm by default here, after reporting both tfjs-node packages as not installed', async () => {
    const { result, stderr } = await scenario(`
      const choice = await backend.selectBackend();
      out({ choice, backend: tf.getBackend(), last: backend.getBackendChoice() });`);
    const choice = {
      backend: 'wasm',
      tried: [
        { name: 'tensorflow-gpu', ok: false, reason: notInstalled('@tensorflow/tfjs-node-gpu') },
        { name: 'tensorflow', ok: false, reason: notInstalled('@tensorflow/tfjs-node') },
        { name: 'wasm', ok: true },
      ],
    };
    expect(result).toEqual({ choice, backend: 'wasm', last: choice });
    expect(stderr).not.toContain('keras-applications');
  });

  it('tells "installed but failed to load" apart from "not installed", with the cause', async () => {
    const { result } = await scenario('out(await backend.selectBackend());', {}, 'broken/backend.mjs');
    expect(result).toEqual({
      backend: 'wasm',
      tried: [
        {
          name: 'tensorflow-gpu',
          ok: false,
          reason:
            '@tensorflow/tfjs-node-gpu is installed but failed to load: ' +
            'libcudart.so.11.0: cannot open shared object file: No such file or directory',
        },
        { name: 'tensorflow', ok: false, reason: notInstalled('@tensorflow/tfjs-node') },
        { name: 'wasm', ok: true },
      ],
    });
  });

  it('follows prefer, with aliases, and tries nothing else', async () => {
    const { result } = await scenario(`
      const first = await backend.selectBackend({ prefer: 'cpu' });
      const second = await backend.selectBackend({ prefer: ['node-gpu', 'cpu'] });
      out({ first, second, backend: tf.getBackend() });`);
    expect(result).toEqual({
      first: { backend: 'cpu', tried: [{ name: 'cpu', ok: true }] },
      second: {
        backend: 'cpu',
        tried: [
          { name: 'tensorflow-gpu', ok: false, reason: notInstalled('@tensorflow/tfjs-node-gpu') },
          { name: 'cpu', ok: true },
        ],
      },
      backend: 'cpu',
    });
  });

  it('lets prefer override KERAS_APPLICATIONS_BACKEND, and ensureBackend then keeps that choice', async () => {
    const { result } = await scenario(
      `
      await backend.selectBackend({ prefer: 'cpu' });
      await backend.ensureBackend();
      out({ backend: tf.getBackend(), last: backend.getBackendChoice() });`,
      { KERAS_APPLICATIONS_BACKEND: 'wasm' },
    );
    expect(result).toEqual({ backend: 'cpu', last: { backend: 'cpu', tried: [{ name: 'cpu', ok: true }] } });
  });

  it('rejects an unknown name in prefer', async () => {
    const { result } = await scenario(`await backend.selectBackend({ prefer: ['wasm', 'tpu'] });`);
    expect(result).toEqual({ error: { name: 'ArgumentError', message: `prefer: unknown backend 'tpu'. ${ALLOWED}` } });
  });

  it('rejects an unknown option and a wasmPaths that is not a URL string', async () => {
    const { result: unknown } = await scenario(`await backend.selectBackend({ backend: 'wasm' });`);
    expect(unknown).toEqual({ error: { name: 'ArgumentError', message: 'Unknown option `backend` for selectBackend. Allowed: prefer, wasmPaths' } });
    const { result: notString } = await scenario(`await backend.selectBackend({ wasmPaths: 42 });`);
    expect(notString).toEqual({
      error: { name: 'ArgumentError', message: "wasmPaths: expected the URL of the folder that serves tfjs-backend-wasm's .wasm files. Received: 42" },
    });
  });

  it('says why a browser GPU backend the application did not import cannot be used', async () => {
    const { result } = await scenario(`await backend.selectBackend({ prefer: 'webgl' });`);
    expect(result).toEqual({
      error: {
        name: 'KerasApplicationsError',
        message:
          'No TensorFlow.js backend could be started (order from prefer: webgl): ' +
          "webgl: not registered: the application must import '@tensorflow/tfjs-backend-webgl' first",
      },
    });
  });
});

describe('ensureBackend', () => {
  it('selects once and logs the choice once with KERAS_APPLICATIONS_VERBOSE=1', async () => {
    const { result, stderr } = await scenario(
      `
      await backend.ensureBackend();
      const first = backend.getBackendChoice();
      await backend.ensureBackend();
      out({ backend: tf.getBackend(), same: first === backend.getBackendChoice() });`,
      { KERAS_APPLICATIONS_VERBOSE: '1' },
    );
    expect(result).toEqual({ backend: 'wasm', same: true });
    const lines = stderr.split('\n').filter((line) => line.startsWith('keras-applications:'));
    expect(lines).toEqual([
      "keras-applications: using the 'wasm' backend [" +
        `tensorflow-gpu: skipped (${notInstalled('@tensorflow/tfjs-node-gpu')}); ` +
        `tensorflow: skipped (${notInstalled('@tensorflow/tfjs-node')}); wasm: ok]`,
    ]);
  });

  it('uses cpu when KERAS_APPLICATIONS_BACKEND=cpu', async () => {
    const { result } = await scenario(
      `
      await backend.ensureBackend();
      out({ backend: tf.getBackend(), last: backend.getBackendChoice() });`,
      { KERAS_APPLICATIONS_BACKEND: 'cpu' },
    );
    expect(result).toEqual({ backend: 'cpu', last: { backend: 'cpu', tried: [{ name: 'cpu', ok: true }] } });
  });

  it('reads a comma list with aliases and any case from KERAS_APPLICATIONS_BACKEND', async () => {
    const { result } = await scenario('await backend.ensureBackend(); out(backend.getBackendChoice());', {
      KERAS_APPLICATIONS_BACKEND: ' node , CPU,wasm',
    });
    expect(result).toEqual({
      backend: 'cpu',
      tried: [
        { name: 'tensorflow', ok: false, reason: notInstalled('@tensorflow/tfjs-node') },
        { name: 'cpu', ok: true },
      ],
    });
  });

  it('keeps a backend the application already set', async () => {
    const { result } = await scenario(`
      await import('@tensorflow/tfjs-backend-cpu');
      await tf.setBackend('cpu');
      await backend.ensureBackend();
      out({ backend: tf.getBackend(), last: backend.getBackendChoice() });`);
    expect(result).toEqual({
      backend: 'cpu',
      last: { backend: 'cpu', tried: [{ name: 'cpu', ok: true, reason: 'already set by the application' }] },
    });
  });

  it('lets KERAS_APPLICATIONS_BACKEND override a backend the application set', async () => {
    const { result } = await scenario(
      `
      await import('@tensorflow/tfjs-backend-cpu');
      await tf.setBackend('cpu');
      await backend.ensureBackend();
      out({ backend: tf.getBackend() });`,
      { KERAS_APPLICATIONS_BACKEND: 'wasm' },
    );
    expect(result).toEqual({ backend: 'wasm' });
  });

  it('rejects an unknown name in KERAS_APPLICATIONS_BACKEND, listing the allowed ones', async () => {
    for (const value of ['tpu', 'wasm,gpu']) {
      const { result } = await scenario('await backend.ensureBackend();', { KERAS_APPLICATIONS_BACKEND: value });
      const unknown = value === 'tpu' ? 'tpu' : 'gpu';
      expect(result).toEqual({
        error: { name: 'ArgumentError', message: `KERAS_APPLICATIONS_BACKEND: unknown backend '${unknown}'. ${ALLOWED}` },
      });
    }
  });

  it('fails with the reason, and falls back to nothing, when only tensorflow is forced', async () => {
    const { result } = await scenario(
      `
      const errors = [];
      for (let i = 0; i < 2; i++) {
        try { await backend.ensureBackend(); } catch (e) { errors.push(e.name + ': ' + e.message); }
      }
      out({ errors, backendName: tf.engine().backendName ?? null, last: backend.getBackendChoice() ?? null });`,
      { KERAS_APPLICATIONS_BACKEND: 'tensorflow' },
    );
    const message =
      'KerasApplicationsError: No TensorFlow.js backend could be started (order from KERAS_APPLICATIONS_BACKEND=tensorflow): ' +
      `tensorflow: ${notInstalled('@tensorflow/tfjs-node')}`;
    expect(result).toEqual({ errors: [message, message], backendName: null, last: null });
  });

  it('after a failed selectBackend, keeps the backend the application then set', async () => {
    const { result } = await scenario(`
      const error = await backend.selectBackend({ prefer: 'tensorflow' }).then(() => null, (e) => e.message);
      await import('@tensorflow/tfjs-backend-cpu');
      await tf.setBackend('cpu');
      await backend.ensureBackend();
      out({ failed: error !== null, backend: tf.getBackend() });`);
    expect(result).toEqual({ failed: true, backend: 'cpu' });
  });
});
