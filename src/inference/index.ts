// compileForInference: a LayersModel prepared for prediction on the fastest engine that works here, or on the
// one the user names. The model itself stays as it is, for training and saving.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkOptionNames, formatValue } from '../arguments';
import { readEnv, VERBOSE_ENV_VAR } from '../backend';
import { ArgumentError, UnsupportedModelError } from '../errors';
import { checkLayersModel, inputChecker } from './checks';
import { fusedPredictor } from './fused';
import { OnnxRuntimeUnavailableError } from './onnx-runtime';
import type { InferenceEngine, Predictor } from './types';

export type EngineChoice = 'auto' | InferenceEngine;

export interface CompileForInferenceOptions {
  /**
   * 'auto' (default): onnxruntime when onnxruntime-node loads and the model exports to ONNX, else tfjs-fused.
   * A named engine is used or the call fails, with no fallback.
   */
  engine?: EngineChoice;
}

/** Forces an engine when `options.engine` is absent or 'auto': one of ENGINES. */
export const ENGINE_ENV_VAR = 'KERAS_APPLICATIONS_ENGINE';
const ENGINES: readonly EngineChoice[] = ['auto', 'onnxruntime', 'tfjs-fused', 'tfjs'];
/** The order 'auto' tries. 'tfjs' ends it: the fused engine declines only models it cannot run (several inputs). */
const AUTO_ORDER: readonly InferenceEngine[] = ['onnxruntime', 'tfjs-fused', 'tfjs'];

/**
 * Prepares `model` for prediction. The predictor is a snapshot of the weights: compile again after training.
 * Set KERAS_APPLICATIONS_VERBOSE=1 to print which engine was chosen and why the others were not.
 */
export async function compileForInference(model: tfl.LayersModel, options: CompileForInferenceOptions = {}): Promise<Predictor> {
  checkLayersModel('compileForInference', model);
  checkOptionNames('compileForInference', options, ['engine']);
  const requested = options.engine ?? 'auto';
  if (!ENGINES.includes(requested)) {
    throw new ArgumentError(`engine: unknown engine ${formatValue(requested)}. Allowed: ${ENGINES.join(', ')}`);
  }
  const engine = requested === 'auto' ? engineFromEnv() : requested;
  if (engine !== 'auto') return startEngine(engine, model);
  const skipped: string[] = [];
  const verbose = readEnv(VERBOSE_ENV_VAR) === '1';
  for (const candidate of AUTO_ORDER) {
    try {
      const predictor = await startEngine(candidate, model);
      if (verbose) {
        console.error(`keras-applications: predicting with '${candidate}' on '${tf.getBackend()}'${skipped.length ? ` [${skipped.join('; ')}]` : ''}`);
      }
      return predictor;
    } catch (err) {
      skipped.push(`${candidate}: ${err instanceof Error ? err.message : String(err)}`);
      if (err instanceof OnnxRuntimeUnavailableError && !verbose) sayOnceThatOnnxRuntimeIsMissing();
    }
  }
  throw new UnsupportedModelError(`No inference engine could run '${model.name}': ${skipped.join('; ')}`);
}

let onnxRuntimeMissingSaid = false;

/** Once per process: the fast engine is missing, how much that costs, and the command that adds it. */
function sayOnceThatOnnxRuntimeIsMissing(): void {
  if (onnxRuntimeMissingSaid) return;
  onnxRuntimeMissingSaid = true;
  console.error(
    'keras-applications: onnxruntime-node is not installed, so models predict on tfjs, several times slower (ResNet50 about 9×: docs/performance.md). ' +
      'Add it with `npm install onnxruntime-node` (where its CUDA download is blocked: ' +
      '`ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node`); ' +
      `${VERBOSE_ENV_VAR}=1 says why each engine was or was not chosen.`,
  );
}

function engineFromEnv(): EngineChoice {
  const value = readEnv(ENGINE_ENV_VAR);
  if (value === undefined) return 'auto';
  if (!ENGINES.includes(value as EngineChoice)) {
    throw new ArgumentError(`${ENGINE_ENV_VAR}: unknown engine '${value}'. Allowed: ${ENGINES.join(', ')}`);
  }
  return value as EngineChoice;
}

async function startEngine(engine: InferenceEngine, model: tfl.LayersModel): Promise<Predictor> {
  switch (engine) {
    case 'onnxruntime': {
      // Imported on demand: it needs Node and the optional onnxruntime-node.
      const { onnxPredictor } = await import('./onnx-runtime');
      return onnxPredictor(model);
    }
    case 'tfjs-fused':
      return fusedPredictor(model);
    case 'tfjs':
      return layersPredictor(model);
  }
}

/**
 * The model's own predict(), behind the Predictor interface. A one-input model's input is checked as the other
 * engines check it; tfjs's predict checks a model with several.
 */
function layersPredictor(model: tfl.LayersModel): Predictor {
  const checkInput = model.inputs.length === 1 ? inputChecker(model) : undefined;
  return {
    engine: 'tfjs',
    // Async, so that a refused input rejects the promise rather than throwing.
    async predict(x) {
      checkInput?.(x);
      return model.predict(x) as tf.Tensor | tf.Tensor[];
    },
    dispose: () => {},
  };
}
