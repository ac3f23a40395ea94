// Multi-threaded tfjs-backend-wasm under Node. tfjs turns threads off in Node (tensorflow/tfjs#3830) for two
// reasons this works around while the backend starts: it hands Emscripten the pthread worker as a blob: URL,
// which Node's worker_threads cannot start, and the worker then receives the main script as a Blob; and its
// C++ caps the thread pool at os.cpus().length / 2 (two hyperthreads per core assumed), one thread on a 2-core
// machine. Everything else is tfjs's own threaded-SIMD binary and Emscripten's Node pthread support.
import * as tf from '@tensorflow/tfjs-core';
import { formatValue } from '../arguments';
import { isNode } from '../env';
import { keepingProcessHandlers } from './index';
import { ArgumentError, KerasApplicationsError } from '../errors';

/** tfjs-backend-wasm pre-starts 8 pthread workers; a larger pool cannot start. */
const MAX_THREADS = 8;
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

interface PThreadWorkers {
  PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] };
}

/**
 * Makes 'wasm' the tfjs backend, running XNNPACK on `threads` threads (default: every core, at most 8). Call it before
 * anything starts the wasm backend (model builders keep a backend the application set). Node only.
 * Returns the number of threads tfjs reports.
 */
export async function useThreadedWasmBackend(threads?: number): Promise<number> {
  if (!isNode()) throw new KerasApplicationsError('useThreadedWasmBackend() runs in Node.js only');
  // Imported here, not above, so that browser bundles of the package never see Node's modules.
  const [{ mkdtempSync, rmSync, writeFileSync }, { createRequire }, { default: os }, { join }] = await Promise.all([
    import('node:fs'),
    import('node:module'),
    import('node:os'),
    import('node:path'),
  ]);
  threads ??= Math.min(os.availableParallelism(), MAX_THREADS);
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new ArgumentError(`threads: ${typeof threads === 'number' ? String(threads) : formatValue(threads)} is not allowed. Allowed: an integer from 1 to ${MAX_THREADS}`);
  }
  if (tf.engine().registry['wasm'] != null) {
    throw new KerasApplicationsError('useThreadedWasmBackend() must run before the wasm backend starts; it has already started');
  }
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  const { wasmWorkerContents } = require(`${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`) as { wasmWorkerContents: string };
  const mainScript = require.resolve(`${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.js`);

  // The worker as a file; inside it, the Blob it is sent stands for the package's own copy of the main script.
  // tfjs escapes newlines the same way before making its Blob (the contents hold "\n" in string literals).
  const dir = mkdtempSync(join(os.tmpdir(), 'keras-applications-wasm-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const workerFile = join(dir, 'pthread-worker.cjs');
  const blobStandIn = `URL.createObjectURL = () => ${JSON.stringify(mainScript)}; URL.revokeObjectURL = () => {};\n`;
  writeFileSync(workerFile, blobStandIn + wasmWorkerContents.replace(/\n/g, '\\n'));

  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  URL.createObjectURL = () => workerFile;
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]!);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);
  wasm.setThreadsCount(threads);
  try {
    if (!(await keepingProcessHandlers(() => tf.setBackend('wasm')))) {
      // Leave tfjs's Node default for whoever starts the wasm backend next.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      throw new KerasApplicationsError('the threaded wasm backend did not start (see the warning tfjs printed)');
    }
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  }
  // The pool's threads wait for work forever; unreferenced, they do not keep the process alive.
  const { PThread } = (tf.backend() as unknown as { wasm: PThreadWorkers }).wasm;
  for (const worker of [...(PThread?.runningWorkers ?? []), ...(PThread?.unusedWorkers ?? [])]) worker.unref();
  return wasm.getThreadsCount();
}
