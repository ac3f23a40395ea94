// compileForInference: a LayersModel prepared for prediction on the fastest engine that works here, or on the
// one the user names. The model itself stays as it is, for training and saving.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkOptionNames, formatValue } from '../arguments';
import { readEnv, VERBOSE_ENV_VAR } from '../backend';
import { readableOnNodeWebGpu, useNodeWebGpu } from '../backend/node-webgpu';
import { isNode } from '../env';
import { ArgumentError, UnsupportedModelError } from '../errors';
import { checkLayersModel, inputChecker } from './checks';
import { fusedPredictor } from './fused';
import { DEVICES, onnxCudaProblem, onnxWebGpuProblem, tfjsDevice, type Device, type DeviceChoice } from './devices';
import { OnnxRuntimeUnavailableError } from './onnx-runtime';
import type { InferenceEngine, Predictor } from './types';

export type EngineChoice = 'auto' | InferenceEngine;

export interface CompileForInferenceOptions {
  /**
   * 'auto' (default): in Node, onnxruntime when onnxruntime-node loads and the model exports to ONNX, else tfjs-fused;
   * in a browser, tfjs-fused, else onnxruntime (onnxruntime-web). On a GPU first when one is here (device).
   * A named engine is used or the call fails, with no fallback.
   */
  engine?: EngineChoice;
  /**
   * 'auto' (default): a GPU when an engine starts on one here (ONNX Runtime's CUDA provider, or the tfjs engines on
   * tfjs-node-gpu, WebGL or WebGPU; in Node, WebGPU through the optional `webgpu` package), else the CPU. 'gpu' fails
   * naming what is missing; 'cpu' never uses a GPU.
   */
  device?: DeviceChoice;
}

/** Forces an engine when `options.engine` is absent or 'auto': one of ENGINES. */
export const ENGINE_ENV_VAR = 'KERAS_APPLICATIONS_ENGINE';
/** Forces a device when `options.device` is absent or 'auto': 'cpu' or 'gpu'. */
export const DEVICE_ENV_VAR = 'KERAS_APPLICATIONS_DEVICE';

const ENGINES: readonly EngineChoice[] = ['auto', 'onnxruntime', 'tfjs-fused', 'tfjs'];

/**
 * The order 'auto' tries: GPU before CPU, then the fastest engine first ('tfjs' runs any model). In Node,
 * onnxruntime-node is several times faster than tfjs-fused; in a browser, tfjs-fused on wasm beats onnxruntime-web's
 * wasm provider on MobileNetV2 and EfficientNetB0 (1.5-3×) and trails it on ResNet50 by about 10%
 * (docs/performance.md, "Browser").
 */
function candidates(): { engine: InferenceEngine; device: Device }[] {
  const engines = isNode() ? (['onnxruntime', 'tfjs-fused', 'tfjs'] as const) : (['tfjs-fused', 'onnxruntime', 'tfjs'] as const);
  return (['gpu', 'cpu'] as const).flatMap((device) => engines.map((engine) => ({ engine, device })));
}

/** A way to run that does not exist here (no CUDA provider, a CPU backend for a GPU): skipped, not a failure. */
class NotHere extends Error {}

/**
 * Prepares `model` for prediction. The predictor is a snapshot of the weights: compile again after training.
 * Set KERAS_APPLICATIONS_VERBOSE=1 to print which engine and device were chosen and why the others were not.
 */
export async function compileForInference(model: tfl.LayersModel, options: CompileForInferenceOptions = {}): Promise<Predictor> {
  checkLayersModel('compileForInference', model);
  checkOptionNames('compileForInference', options, ['engine', 'device']);
  const engine = choice('engine', options.engine, ENGINES, ENGINE_ENV_VAR);
  const device = choice('device', options.device, DEVICES, DEVICE_ENV_VAR);
  const tries = candidates().filter((c) => (engine === 'auto' || c.engine === engine) && (device === 'auto' || c.device === device));
  const skipped: string[] = [];
  const verbose = readEnv(VERBOSE_ENV_VAR) === '1';
  for (const [i, candidate] of tries.entries()) {
    const last = i === tries.length - 1;
    try {
      const predictor = await startEngine(candidate.engine, candidate.device, model, device === 'auto');
      if (verbose) {
        const why = skipped.length ? ` [${skipped.join('; ')}]` : '';
        console.error(`keras-applications: predicting with '${candidate.engine}' on the ${candidate.device} ('${tf.getBackend()}')${why}`);
      }
      return predictor;
    } catch (err) {
      // A named engine on a known device fails as it is, with no fallback.
      if (engine !== 'auto' && last && !(err instanceof NotHere)) throw err;
      skipped.push(`${candidate.engine} on the ${candidate.device}: ${err instanceof Error ? err.message : String(err)}`);
      if (err instanceof OnnxRuntimeUnavailableError && !verbose && isNode()) sayOnceThatOnnxRuntimeIsMissing();
    }
  }
  if (device !== 'auto' || engine !== 'auto') {
    const asked = [engine !== 'auto' && `engine '${engine}'`, device !== 'auto' && `device '${device}'`].filter(Boolean).join(' and ');
    throw new ArgumentError(`${asked} cannot run here: ${skipped.join('; ')}`);
  }
  throw new UnsupportedModelError(`No inference engine could run '${model.name}': ${skipped.join('; ')}`);
}

/** An option, else its environment variable, checked against the allowed values. */
function choice<T extends string>(name: string, value: T | undefined, allowed: readonly T[], envVar: string): T {
  if (value !== undefined && value !== 'auto') {
    if (!allowed.includes(value)) throw new ArgumentError(`${name}: unknown ${name} ${formatValue(value)}. Allowed: ${allowed.join(', ')}`);
    return value;
  }
  const fromEnv = readEnv(envVar);
  if (fromEnv === undefined) return 'auto' as T;
  if (!allowed.includes(fromEnv as T)) throw new ArgumentError(`${envVar}: unknown ${name} '${fromEnv}'. Allowed: ${allowed.join(', ')}`);
  return fromEnv as T;
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

/** `autoDevice`: the device was not named, so a GPU path that is slower than the CPU here is skipped. */
async function startEngine(engine: InferenceEngine, device: Device, model: tfl.LayersModel, autoDevice: boolean): Promise<Predictor> {
  if (engine === 'onnxruntime') {
    const browser = !isNode();
    const gpuProblem = device === 'gpu' ? await (browser ? onnxWebGpuProblem(autoDevice) : onnxCudaProblem()) : undefined;
    if (gpuProblem) throw new NotHere(gpuProblem);
    // Imported on demand: it needs the optional onnxruntime-node, or onnxruntime-web in a browser.
    const { onnxPredictor } = await import('./onnx-runtime');
    const provider = device === 'gpu' ? (browser ? 'webgpu' : 'cuda') : browser ? 'wasm' : 'cpu';
    return readableOnNodeWebGpu(model, () => onnxPredictor(model, { executionProviders: [provider] }));
  }
  // In Node, WebGPU through Dawn when it finds a GPU: tfjs's backend then becomes 'webgpu'.
  const nodeWebGpu = device === 'gpu' && tfjsDevice() === 'cpu' && isNode() ? await useNodeWebGpu() : undefined;
  if (tfjsDevice() !== device) {
    const webGpu = nodeWebGpu ? `, and WebGPU in Node (npm install webgpu @tensorflow/tfjs-backend-webgpu) did not start: ${nodeWebGpu}` : '';
    throw new NotHere(`the tfjs backend '${tf.getBackend()}' computes on the ${tfjsDevice()} (a GPU needs tfjs-node-gpu, or WebGL/WebGPU in a browser)${webGpu}`);
  }
  return readableOnNodeWebGpu(model, () => (engine === 'tfjs-fused' ? fusedPredictor(model) : layersPredictor(model)));
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
