// The 'onnxruntime' engine: the model exported to ONNX in-process (src/inference/onnx-export.ts) and run by
// ONNX Runtime for Node. onnxruntime-node is an optional peer, imported only when this engine is asked for.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkOptionNames, formatValue, validateBoolean, validateInteger } from '../arguments';
import { ArgumentError, KerasApplicationsError } from '../errors';
import { checkLayersModel, checkNotDisposed, checkSingleInput, inputChecker } from './checks';
import { exportOnnx } from './onnx-export';
import type { Predictor } from './types';

/** onnxruntime-node cannot be loaded (not installed, or its native library does not load here). */
export class OnnxRuntimeUnavailableError extends KerasApplicationsError {}

export interface OnnxPredictorOptions {
  /**
   * ONNX Runtime's execution providers in order of preference, e.g. `['cuda', 'cpu']`: a provider that does not
   * start here (onnxruntime-node's CUDA and TensorRT libraries come from its install script, not the npm
   * package) is dropped and the rest tried. Default `['cpu']`.
   */
  executionProviders?: string[];
  /** Threads inside one operator. Default: every core (`os.availableParallelism()`). */
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

type OnnxRuntime = typeof import('onnxruntime-node');

async function loadOnnxRuntime(): Promise<OnnxRuntime> {
  try {
    return await import('onnxruntime-node');
  } catch (error) {
    throw new OnnxRuntimeUnavailableError(
      `The 'onnxruntime' engine needs the optional package onnxruntime-node (npm install onnxruntime-node): ${(error as Error).message}`,
    );
  }
}

/**
 * A predictor that runs `model` with ONNX Runtime. The weights are copied into ONNX Runtime's session (the
 * exported bytes are not kept: `exportOnnx` gives them), so `model` may be disposed afterwards (its layer graph,
 * not its weights, still checks input sizes). Throws `OnnxExportError` for a layer it cannot translate and
 * `OnnxRuntimeUnavailableError` without onnxruntime-node, so a caller can fall back to a tfjs engine.
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
  const requested = options.executionProviders ?? ['cpu'];
  // Imported here, as Node's modules are elsewhere in the package, so browser bundles of the index load.
  const os = await import('node:os');
  const threads = options.intraOpNumThreads ?? os.availableParallelism?.() ?? os.cpus().length;
  const failures: string[] = [];
  for (let first = 0; first < requested.length; first++) {
    const executionProviders = requested.slice(first);
    try {
      const session = await ort.InferenceSession.create(onnx, {
        executionProviders,
        intraOpNumThreads: threads,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        extra: { session: { intra_op: { allow_spinning: options.threadSpinning ? '1' : '0' } } },
      });
      return { session, executionProviders };
    } catch (error) {
      failures.push(`${requested[first]}: ${(error as Error).message}`);
    }
  }
  throw new OnnxRuntimeUnavailableError(`ONNX Runtime started with none of the execution providers ${JSON.stringify(requested)}: ${failures.join('; ')}`);
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
