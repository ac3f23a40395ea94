// Which TensorFlow.js backend runs the models: the fastest one that loads, unless the user chose.
import * as tf from '@tensorflow/tfjs-core';
import { checkOptionNames, formatValue } from '../arguments';
import { isNode } from '../env';
import { ArgumentError, KerasApplicationsError } from '../errors';
import { crossOriginIsolated, probeWebGl, probeWebGpu, resolvedWasmFolder, type GpuProbe } from './browser';

/**
 * A backend we know how to start. 'tensorflow-gpu' and 'tensorflow' both become tfjs's 'tensorflow'
 * backend, from @tensorflow/tfjs-node-gpu and @tensorflow/tfjs-node. 'webgpu' and 'webgl' are the
 * browser's GPU backends: registered by the application, else imported by name (docs/browser.md, "Backends").
 */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu' | 'webgpu' | 'webgl';
/** Other spellings: 'node-gpu' = 'tensorflow-gpu', 'node' = 'tensorflow'. */
export type BackendAlias = 'node-gpu' | 'node';

export interface BackendAttempt {
  name: string;
  ok: boolean;
  /** Why it was not used; for a kept backend, why it was kept. */
  reason?: string;
}

export interface BackendChoice {
  /** `tf.getBackend()` after the choice. */
  backend: string;
  /** Every backend tried, in order; the last one is the one in use. */
  tried: BackendAttempt[];
}

export interface SelectBackendOptions {
  /** The backends to try, in order; nothing else is tried. Takes precedence over KERAS_APPLICATIONS_BACKEND. */
  prefer?: BackendName | BackendAlias | Array<BackendName | BackendAlias>;
  /**
   * In a browser, the URL of the folder that serves tfjs-backend-wasm's `.wasm` files (tfjs's `setWasmPaths`).
   * Default: the folder of the package's module as the page's import map resolves it; in a bundle, where that
   * cannot be known, whatever the application gave `setWasmPaths()`.
   */
  wasmPaths?: string;
}

export const BACKEND_ENV_VAR = 'KERAS_APPLICATIONS_BACKEND';
export const VERBOSE_ENV_VAR = 'KERAS_APPLICATIONS_VERBOSE';

interface BackendSpec {
  /** The name tfjs registers the backend under. */
  tfName: string;
  /** The package that registers it. */
  pkg: string;
  /** Imports `pkg`. */
  load: (pkg: string) => Promise<unknown>;
  nodeOnly?: boolean;
  /** What the browser offers this GPU backend, asked before it starts. */
  probe?: () => GpuProbe | Promise<GpuProbe>;
}

const BACKENDS: Record<BackendName, BackendSpec> = {
  'tensorflow-gpu': { tfName: 'tensorflow', pkg: '@tensorflow/tfjs-node-gpu', load: importOptional, nodeOnly: true },
  tensorflow: { tfName: 'tensorflow', pkg: '@tensorflow/tfjs-node', load: importOptional, nodeOnly: true },
  wasm: { tfName: 'wasm', pkg: '@tensorflow/tfjs-backend-wasm', load: () => import('@tensorflow/tfjs-backend-wasm') },
  cpu: { tfName: 'cpu', pkg: '@tensorflow/tfjs-backend-cpu', load: () => import('@tensorflow/tfjs-backend-cpu') },
  webgpu: { tfName: 'webgpu', pkg: '@tensorflow/tfjs-backend-webgpu', load: importUnlessRegistered('webgpu'), probe: probeWebGpu },
  webgl: { tfName: 'webgl', pkg: '@tensorflow/tfjs-backend-webgl', load: importUnlessRegistered('webgl'), probe: probeWebGl },
};

const ALIASES: Record<BackendAlias, BackendName> = { 'node-gpu': 'tensorflow-gpu', node: 'tensorflow' };

const ALLOWED_NAMES =
  `${Object.keys(BACKENDS).join(', ')} ` +
  `(aliases: ${Object.entries(ALIASES).map(([alias, name]) => `${alias} = ${name}`).join(', ')})`;

/** The selection ensureBackend() waits for: the last selectBackend() call, or its own. */
let selection: Promise<BackendChoice> | undefined;
let lastChoice: BackendChoice | undefined;

/**
 * Sets the fastest backend that starts and returns it with the reasons the others were skipped.
 *
 * Order: `options.prefer`, else KERAS_APPLICATIONS_BACKEND (one name or a comma list), else the default:
 * in Node, webgpu and webgl when the application registered them, then tensorflow-gpu, tensorflow, wasm, cpu;
 * in a browser, webgpu and webgl on a GPU, then wasm (SIMD, and threads on a cross-origin isolated page), then
 * webgl and webgpu on a software adapter (SwiftShader, llvmpipe: slower than wasm), then cpu.
 * Only the listed backends are tried: when a list given by the user all fails, this rejects with
 * every reason instead of falling back to something else.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendChoice> {
  checkOptionNames('selectBackend', options, ['prefer', 'wasmPaths']);
  if (options.wasmPaths !== undefined && (typeof options.wasmPaths !== 'string' || options.wasmPaths === '')) {
    throw new ArgumentError(`wasmPaths: expected the URL of the folder that serves tfjs-backend-wasm's .wasm files. Received: ${formatValue(options.wasmPaths)}`);
  }
  return remember(choose(options.prefer, options.wasmPaths));
}

/**
 * Called by every model builder. Keeps a backend the application already set up (with tf.setBackend()
 * or by running ops) unless KERAS_APPLICATIONS_BACKEND is set; otherwise selects one, once.
 */
export async function ensureBackend(): Promise<void> {
  await (selection ?? remember(keepOrChoose()));
}

/** The last backend choice and why the backends before it were skipped; undefined before any. */
export function getBackendChoice(): BackendChoice | undefined {
  return lastChoice;
}

function remember(choice: Promise<BackendChoice>): Promise<BackendChoice> {
  selection = choice;
  // A failure is not kept, so the next model build tries again or keeps what the application set since.
  choice.catch(() => {
    if (selection === choice) selection = undefined;
  });
  return choice;
}

async function keepOrChoose(): Promise<BackendChoice> {
  const current = readEnv(BACKEND_ENV_VAR) === undefined ? initialisedBackend() : undefined;
  if (current === undefined) return choose(undefined);
  return record({ backend: current, tried: [{ name: current, ok: true, reason: 'already set by the application' }] });
}

/** The backend tfjs is running, if any: setBackend() records the name even when initialisation fails. */
function initialisedBackend(): string | undefined {
  const engine = tf.engine();
  const name = engine.backendName;
  return name != null && engine.registry[name] != null ? name : undefined;
}

async function choose(prefer: SelectBackendOptions['prefer'], wasmPaths?: string): Promise<BackendChoice> {
  const { names, source, demoted } = await backendOrder(prefer);
  const tried: BackendAttempt[] = [];
  for (const name of names) {
    const attempt = await tryBackend(name, wasmPaths);
    tried.push(attempt);
    if (attempt.ok) {
      const below = demoted.filter((d) => !names.slice(0, names.indexOf(name)).includes(d.name));
      if (below.length > 0 && !below.some((d) => d.name === name)) {
        attempt.reason = [attempt.reason, `ahead of ${below.map((d) => `${d.name} on a software adapter (${d.description})`).join(' and ')}`].filter(Boolean).join('; ');
      }
      return record({ backend: tf.getBackend(), tried });
    }
  }
  throw new KerasApplicationsError(
    `No TensorFlow.js backend could be started (order from ${source}): ` +
      tried.map((t) => `${t.name}: ${t.reason}`).join('; '),
  );
}

interface BackendOrder {
  names: BackendName[];
  source: string;
  /** GPU backends the default order put below wasm because their adapter is software. */
  demoted: { name: BackendName; description: string }[];
}

async function backendOrder(prefer: SelectBackendOptions['prefer']): Promise<BackendOrder> {
  if (prefer !== undefined) {
    const list = Array.isArray(prefer) ? prefer : [prefer];
    return { names: parseNames(list, 'prefer'), source: `prefer: ${list.join(', ')}`, demoted: [] };
  }
  const fromEnv = readEnv(BACKEND_ENV_VAR);
  if (fromEnv !== undefined) {
    return { names: parseNames(fromEnv.split(','), BACKEND_ENV_VAR), source: `${BACKEND_ENV_VAR}=${fromEnv}`, demoted: [] };
  }
  const source = 'the default order';
  if (isNode()) {
    const registeredGpu = (['webgpu', 'webgl'] as const).filter((name) => isRegistered(BACKENDS[name].tfName));
    return { names: [...registeredGpu, 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'], source, demoted: [] };
  }
  // On a software adapter the GPU backends are slower than wasm, and WebGPU slower than WebGL (docs/performance.md,
  // "Browser"): below wasm, WebGL first.
  const gpus = await Promise.all((['webgpu', 'webgl'] as const).map(async (name) => ({ name, probe: await BACKENDS[name].probe!() })));
  const hardware = gpus.filter((g) => !g.probe.software).map((g) => g.name);
  const software = gpus.filter((g) => g.probe.software).reverse();
  return {
    names: [...hardware, 'wasm', ...software.map((g) => g.name), 'cpu'],
    source,
    demoted: software.map((g) => ({ name: g.name, description: g.probe.description })),
  };
}

function parseNames(raw: readonly string[], where: string): BackendName[] {
  const names = raw.map((s) => String(s).trim().toLowerCase()).filter((s) => s !== '');
  if (names.length === 0) throw new ArgumentError(`${where} names no backend. Allowed: ${ALLOWED_NAMES}`);
  const canonical = names.map((name) => {
    if (name in BACKENDS) return name as BackendName;
    if (name in ALIASES) return ALIASES[name as BackendAlias];
    throw new ArgumentError(`${where}: unknown backend '${name}'. Allowed: ${ALLOWED_NAMES}`);
  });
  return [...new Set(canonical)];
}

async function tryBackend(name: BackendName, wasmPaths?: string): Promise<BackendAttempt> {
  const { tfName, pkg, load, nodeOnly, probe } = BACKENDS[name];
  const failed = (reason: string): BackendAttempt => ({ name, ok: false, reason });
  if (nodeOnly && !isNode()) return failed(`${pkg} only runs in Node.js`);
  // In Node the browser GPU backends register nothing; there they are the application's own (a Node WebGPU).
  if (probe && isNode() && !isRegistered(tfName)) return failed(`not registered: the application must import '${pkg}' first`);
  // In a browser, ask what the backend would run on before importing it.
  const offered = probe && !isNode() ? await probe() : undefined;
  if (offered && !offered.available) return failed(offered.description);
  let module: unknown;
  try {
    module = await load(pkg);
  } catch (err) {
    return failed(isNode() ? describeImportError(pkg, err) : `${describeImportError(pkg, err)} (import it in the application, or map it in the page's import map)`);
  }
  try {
    // Before its first start only (tfjs refuses new paths after a failed one).
    const firstBrowserWasm = name === 'wasm' && !isNode() && tf.engine().registry[tfName] == null;
    if (firstBrowserWasm) setBrowserWasmPaths(module as WasmModule, pkg, wasmPaths);
    const failure = firstBrowserWasm ? await withThreadPerCore(module as WasmModule, () => setBackend(tfName)) : await setBackend(tfName);
    if (failure !== undefined) return failed(failure);
  } catch (err) {
    return failed(messageOf(err));
  }
  const reason = offered ? `${offered.software ? 'software adapter: ' : ''}${offered.description}` : name === 'wasm' && !isNode() ? await wasmFeatures(module as WasmModule) : undefined;
  return reason === undefined ? { name, ok: true } : { name, ok: true, reason };
}

interface WasmModule {
  setWasmPaths(prefix: string): void;
  getThreadsCount(): number;
  setThreadsCount(threads: number): void;
}

/**
 * Starts tfjs's wasm backend in a page with one thread per logical core (up to the 8 workers it makes). tfjs halves
 * navigator.hardwareConcurrency (it assumes two hyperthreads per core) and caps its pool there, so a 2-core machine
 * would get one thread: while it starts, the page reports twice its cores (as useThreadedWasmBackend does in Node).
 */
async function withThreadPerCore<T>(wasm: WasmModule, start: () => Promise<T>): Promise<T> {
  const cores = globalThis.navigator?.hardwareConcurrency;
  if (!crossOriginIsolated() || !cores) return start();
  const threads = Math.min(cores, 8);
  wasm.setThreadsCount(threads);
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  try {
    return await start();
  } finally {
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency; // the prototype's getter again
  }
}

/** Points tfjs's wasm backend at its binaries: its browser build looks next to the page, not next to itself. */
function setBrowserWasmPaths(wasm: WasmModule, pkg: string, wasmPaths: string | undefined): void {
  const folder = wasmPaths ?? resolvedWasmFolder(pkg);
  if (folder !== undefined) wasm.setWasmPaths(folder.endsWith('/') ? folder : `${folder}/`);
}

/** The wasm binary tfjs chose in a browser: SIMD, and threads only on a cross-origin isolated page. */
async function wasmFeatures(wasm: WasmModule): Promise<string> {
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) ? wasm.getThreadsCount() : 1;
  const why = threads > 1 || crossOriginIsolated() ? '' : ' (the page is not cross-origin isolated: serve it with COOP/COEP headers for threads)';
  return `${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}${why}`;
}

/** tf.setBackend(); on failure, why: tfjs reports the cause only through console.warn. */
async function setBackend(tfName: string): Promise<string | undefined> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(' ').split('\n')[0]);
  try {
    if (await keepingProcessHandlers(() => tf.setBackend(tfName))) return undefined;
  } finally {
    console.warn = warn;
  }
  return [`tf.setBackend('${tfName}') failed`, ...warnings].join('; ');
}

// A computed specifier keeps bundlers from resolving packages that are optional (the tfjs-node ones, Node-only;
// the browser GPU backends, which an application bundles by importing them itself).
export function importOptional(pkg: string): Promise<unknown> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ pkg);
}

/** A GPU backend the application registered (by importing its package) is used as it is; else, in a browser, imported by name. */
function importUnlessRegistered(tfName: string): (pkg: string) => Promise<unknown> {
  return async (pkg) => (isRegistered(tfName) ? undefined : importOptional(pkg));
}

export function describeImportError(pkg: string, err: unknown): string {
  const message = messageOf(err);
  // How Node's import(), Node's require() and Vite say the package itself is missing; anything
  // else (a missing native library or file inside it) means it is installed but broken.
  const missing = [`Cannot find package '${pkg}'`, `Cannot find module '${pkg}'`, `Could not resolve "${pkg}"`];
  if (missing.some((m) => message.includes(m))) return `${pkg} is not installed; install it with \`npm install ${pkg}\``;
  return `${pkg} is installed but failed to load: ${message}`;
}

function isRegistered(tfName: string): boolean {
  return tf.findBackendFactory(tfName) != null;
}

function record(choice: BackendChoice): BackendChoice {
  lastChoice = choice;
  if (readEnv(VERBOSE_ENV_VAR) === '1') {
    const steps = choice.tried.map((t) => `${t.name}: ${t.ok ? 'ok' : 'skipped'}${t.reason ? ` (${t.reason})` : ''}`);
    console.error(`keras-applications: using the '${choice.backend}' backend [${steps.join('; ')}]`);
  }
  return choice;
}

const PROCESS_ERROR_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/**
 * Runs `start` (a backend's start-up) and then removes the process-wide error handlers it added: the wasm
 * backend's Emscripten module installs handlers that rethrow every uncaught error of the user's program, which then
 * exits with code 7 after printing the module's minified source instead of the user's own stack.
 */
export async function keepingProcessHandlers<T>(start: () => Promise<T>): Promise<T> {
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  if (!isNode() || !proc) return start();
  const listeners = (event: string) => proc.listeners(event as 'uncaughtException') as ((...args: unknown[]) => void)[];
  const before = new Map(PROCESS_ERROR_EVENTS.map((event) => [event, new Set(listeners(event))]));
  try {
    return await start();
  } finally {
    for (const event of PROCESS_ERROR_EVENTS) {
      for (const listener of listeners(event)) if (!before.get(event)!.has(listener)) proc.removeListener(event, listener);
    }
  }
}

/** A non-empty environment variable (trimmed), in Node; undefined elsewhere or when unset. */
export function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name]?.trim();
  return value ? value : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
