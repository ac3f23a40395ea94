// Which TensorFlow.js backend runs the models: the fastest one that loads, unless the user chose.
import * as tf from '@tensorflow/tfjs-core';
import { isNode } from '../env';
import { ArgumentError, KerasApplicationsError } from '../errors';

/**
 * A backend we know how to start. 'tensorflow-gpu' and 'tensorflow' both become tfjs's 'tensorflow'
 * backend, from @tensorflow/tfjs-node-gpu and @tensorflow/tfjs-node. 'webgpu' and 'webgl' are
 * browser backends the application must import itself.
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
}

export const BACKEND_ENV_VAR = 'KERAS_APPLICATIONS_BACKEND';
export const VERBOSE_ENV_VAR = 'KERAS_APPLICATIONS_VERBOSE';

interface BackendSpec {
  /** The name tfjs registers the backend under. */
  tfName: string;
  /** The package that registers it. */
  pkg: string;
  /** Imports `pkg`; absent for backends only the application may import. */
  load?: (pkg: string) => Promise<unknown>;
  nodeOnly?: boolean;
}

const BACKENDS: Record<BackendName, BackendSpec> = {
  'tensorflow-gpu': { tfName: 'tensorflow', pkg: '@tensorflow/tfjs-node-gpu', load: importOptional, nodeOnly: true },
  tensorflow: { tfName: 'tensorflow', pkg: '@tensorflow/tfjs-node', load: importOptional, nodeOnly: true },
  wasm: { tfName: 'wasm', pkg: '@tensorflow/tfjs-backend-wasm', load: () => import('@tensorflow/tfjs-backend-wasm') },
  cpu: { tfName: 'cpu', pkg: '@tensorflow/tfjs-backend-cpu', load: () => import('@tensorflow/tfjs-backend-cpu') },
  webgpu: { tfName: 'webgpu', pkg: '@tensorflow/tfjs-backend-webgpu' },
  webgl: { tfName: 'webgl', pkg: '@tensorflow/tfjs-backend-webgl' },
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
 * Order: `options.prefer`, else KERAS_APPLICATIONS_BACKEND (one name or a comma list), else
 * webgpu and webgl when the application registered them, then tensorflow-gpu, tensorflow, wasm, cpu.
 * Only the listed backends are tried: when a list given by the user all fails, this rejects with
 * every reason instead of falling back to something else.
 *
 * In a browser the tfjs-node packages are skipped, and the wasm backend fetches its `.wasm` files
 * next to the bundle: if they are served elsewhere, call `setWasmPaths()` from
 * '@tensorflow/tfjs-backend-wasm' first.
 */
export function selectBackend(options: SelectBackendOptions = {}): Promise<BackendChoice> {
  return remember(choose(options.prefer));
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

async function choose(prefer: SelectBackendOptions['prefer']): Promise<BackendChoice> {
  const { names, source } = backendOrder(prefer);
  const tried: BackendAttempt[] = [];
  for (const name of names) {
    const attempt = await tryBackend(name);
    tried.push(attempt);
    if (attempt.ok) return record({ backend: tf.getBackend(), tried });
  }
  throw new KerasApplicationsError(
    `No TensorFlow.js backend could be started (order from ${source}): ` +
      tried.map((t) => `${t.name}: ${t.reason}`).join('; '),
  );
}

function backendOrder(prefer: SelectBackendOptions['prefer']): { names: BackendName[]; source: string } {
  if (prefer !== undefined) {
    const list = Array.isArray(prefer) ? prefer : [prefer];
    return { names: parseNames(list, 'prefer'), source: `prefer: ${list.join(', ')}` };
  }
  const fromEnv = readEnv(BACKEND_ENV_VAR);
  if (fromEnv !== undefined) {
    return { names: parseNames(fromEnv.split(','), BACKEND_ENV_VAR), source: `${BACKEND_ENV_VAR}=${fromEnv}` };
  }
  const browserGpu = (['webgpu', 'webgl'] as const).filter((name) => isRegistered(BACKENDS[name].tfName));
  return { names: [...browserGpu, 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'], source: 'the default order' };
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

async function tryBackend(name: BackendName): Promise<BackendAttempt> {
  const { tfName, pkg, load, nodeOnly } = BACKENDS[name];
  const failed = (reason: string): BackendAttempt => ({ name, ok: false, reason });
  if (nodeOnly && !isNode()) return failed(`${pkg} only runs in Node.js`);
  if (load) {
    try {
      await load(pkg);
    } catch (err) {
      return failed(describeImportError(pkg, err));
    }
  } else if (!isRegistered(tfName)) {
    return failed(`not registered: the application must import '${pkg}' first`);
  }
  try {
    const failure = await setBackend(tfName);
    return failure === undefined ? { name, ok: true } : failed(failure);
  } catch (err) {
    return failed(messageOf(err));
  }
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

// A computed specifier keeps bundlers from resolving packages that are optional and Node-only.
export function importOptional(pkg: string): Promise<unknown> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ pkg);
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
