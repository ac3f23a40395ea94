// The 'onnxruntime' engine: the model exported to ONNX in-process (src/inference/onnx-export.ts) and run by
// ONNX Runtime: onnxruntime-node in Node, onnxruntime-web in a browser. Both are optional, imported only when this
// engine is asked for, by computed specifiers and typed here by the few calls the engine makes, so that neither the
// build's type declarations nor a browser bundle needs them.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkOptionNames, formatValue, validateBoolean, validateInteger } from '../arguments';
import { isNode } from '../env';
import { ArgumentError, KerasApplicationsError } from '../errors';
import { checkLayersModel, checkNotDisposed, checkSingleInput, inputChecker } from './checks';
import { exportOnnx } from './onnx-export';
import type { Predictor } from './types';

/** ONNX Runtime cannot be loaded (not installed, or its native library or wasm files do not load here). */
export class OnnxRuntimeUnavailableError extends KerasApplicationsError {}

export interface OnnxPredictorOptions {
  /**
   * ONNX Runtime's execution providers in order of preference, e.g. `['cuda', 'cpu']` in Node or
   * `['webgpu', 'wasm']` in a browser: a provider that does not start here (onnxruntime-node's CUDA and TensorRT
   * libraries come from its install script, not the npm package) is dropped and the rest tried.
   * Default `['cpu']` in Node, `['wasm']` in a browser.
   */
  executionProviders?: string[];
  /**
   * Threads inside one operator. Default: every core (`os.availableParallelism()`) in Node; in a browser,
   * onnxruntime-web's own choice (several only on a cross-origin isolated page), which this sets before its
   * first session.
   */
  intraOpNumThreads?: number;
  /**
   * Let idle threads spin between operators (ONNX Runtime's own default). Default false: spinning is up to 20%
   * faster on otherwise idle cores, and several times slower where other work shares them (bench/onnx-session-options.ts).
   */
  threadSpinning?: boolean;
}

export interface OnnxPredictor extends Predictor {
  readonly engine: 'onnxruntime';
  /** The providers the session started with: the requested list, less those that did not start. */
  readonly executionProviders: readonly string[];
}

/** The parts of onnxruntime-node's and onnxruntime-web's common API that the engine uses. */
interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
  dispose(): void;
}

interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

interface OnnxRuntime {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession> };
  /** onnxruntime-web's settings. */
  env?: { wasm?: { numThreads?: number } };
}

/** The package this runtime loads: Node's native one, or the browser's wasm/WebGPU one. */
export function onnxRuntimePackage(): 'onnxruntime-node' | 'onnxruntime-web' {
  return isNode() ? 'onnxruntime-node' : 'onnxruntime-web';
}

async function loadOnnxRuntime(): Promise<OnnxRuntime> {
  const pkg = onnxRuntimePackage();
  try {
    // A computed specifier: bundlers leave it to the runtime (Node's resolution, or the page's import map).
    const ort = (await import(/* webpackIgnore: true */ /* @vite-ignore */ pkg)) as OnnxRuntime & { default?: OnnxRuntime };
    return ort.InferenceSession ? ort : ort.default!;
  } catch (error) {
    // A page that bundles its scripts, or loads onnxruntime-web's script build, leaves it on globalThis.ort.
    const global = (globalThis as { ort?: OnnxRuntime }).ort;
    if (pkg === 'onnxruntime-web' && global?.InferenceSession) return global;
    const how = pkg === 'onnxruntime-web' ? `npm install ${pkg}, and map it in the page's import map or set globalThis.ort` : `npm install ${pkg}`;
    throw new OnnxRuntimeUnavailableError(`The 'onnxruntime' engine needs the optional package ${pkg} (${how}): ${(error as Error).message}`);
  }
}

/**
 * A predictor that runs `model` with ONNX Runtime. The weights are copied into ONNX Runtime's session (the
 * exported bytes are not kept: `exportOnnx` gives them), so `model` may be disposed afterwards (its layer graph,
 * not its weights, still checks input sizes). Throws `OnnxExportError` for a layer it cannot translate and
 * `OnnxRuntimeUnavailableError` without ONNX Runtime, so a caller can fall back to a tfjs engine.
 */
export async function onnxPredictor(model: tfl.LayersModel, options: OnnxPredictorOptions = {}): Promise<OnnxPredictor> {
  checkLayersModel('onnxPredictor', model);
  validateOptions(options);
  checkSingleInput('onnxruntime', model);
  const checkInput = inputChecker(model);
  const ort = await loadOnnxRuntime();
  const onnx = exportOnnx(model);
  const { session, executionProviders } = await startSession(ort, onnx, options);
  const [inputName] = session.inputNames;
  const single = session.outputNames.length === 1;
  let released = false;
  return {
    engine: 'onnxruntime',
    executionProviders,
    async predict(x: tf.Tensor): Promise<tf.Tensor | tf.Tensor[]> {
      checkNotDisposed('onnxruntime', released);
      checkInput(x);
      const data = x.dtype === 'float32' ? ((await x.data()) as Float32Array) : Float32Array.from(await x.data());
      const results = await session.run({ [inputName!]: new ort.Tensor('float32', data, x.shape) });
      const outputs = session.outputNames.map((name) => {
        const output = results[name]!;
        const tensor = tf.tensor(output.data as Float32Array, output.dims as number[], 'float32');
        output.dispose();
        return tensor;
      });
      return single ? outputs[0]! : outputs;
    },
    dispose(): void {
      if (released) return;
      released = true;
      session.release().catch(() => {});
    },
  };
}

/** A session on the first of the providers' suffixes that starts (bench/onnx-session-options.ts chose the settings). */
async function startSession(ort: OnnxRuntime, onnx: Uint8Array, options: OnnxPredictorOptions) {
  const requested = options.executionProviders ?? [isNode() ? 'cpu' : 'wasm'];
  const threading = await threadOptions(ort, options);
  const failures: string[] = [];
  for (let first = 0; first < requested.length; first++) {
    const executionProviders = requested.slice(first);
    try {
      const session = await ort.InferenceSession.create(onnx, {
        executionProviders,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        ...threading,
      });
      return { session, executionProviders };
    } catch (error) {
      failures.push(`${requested[first]}: ${(error as Error).message}`);
    }
  }
  throw new OnnxRuntimeUnavailableError(`ONNX Runtime started with none of the execution providers ${JSON.stringify(requested)}: ${failures.join('; ')}`);
}

/** Node: the session's thread pool; a browser: onnxruntime-web's global thread count, read when its wasm starts. */
async function threadOptions(ort: OnnxRuntime, options: OnnxPredictorOptions): Promise<Record<string, unknown>> {
  if (!isNode()) {
    if (options.intraOpNumThreads !== undefined && ort.env?.wasm) ort.env.wasm.numThreads = options.intraOpNumThreads;
    return {};
  }
  // Imported here, as Node's modules are elsewhere in the package, so browser bundles of the index load.
  const os = await import('node:os');
  return {
    intraOpNumThreads: options.intraOpNumThreads ?? os.availableParallelism?.() ?? os.cpus().length,
    extra: { session: { intra_op: { allow_spinning: options.threadSpinning ? '1' : '0' } } },
  };
}

function validateOptions(options: OnnxPredictorOptions): void {
  checkOptionNames('onnxPredictor', options, ['executionProviders', 'intraOpNumThreads', 'threadSpinning']);
  const { executionProviders, intraOpNumThreads, threadSpinning } = options;
  if (threadSpinning !== undefined) validateBoolean('threadSpinning', threadSpinning);
  if (
    executionProviders !== undefined &&
    (!Array.isArray(executionProviders) || executionProviders.length === 0 || !executionProviders.every((p) => typeof p === 'string' && p !== ''))
  ) {
    throw new ArgumentError(
      `\`executionProviders\` must be a non-empty list of ONNX Runtime provider names (e.g. ['cuda', 'cpu']). ` +
        `Received: executionProviders=${formatValue(executionProviders)}`,
    );
  }
  if (intraOpNumThreads !== undefined) validateInteger('intraOpNumThreads', intraOpNumThreads, 1);
}
