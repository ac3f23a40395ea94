// The builder skeleton every keras.applications family shares: resolving the common arguments (with
// imagenet-utils' rules), the input, the classifier head or pooling, and loading weights once built.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ensureBackend } from '../backend';
import { checkOptionNames, formatValue, validateBoolean, validateInteger } from '../arguments';
import { ArgumentError } from '../errors';
import type { WeightsFile } from '../weights/types';
import { loadWeights, readWeightsSource } from '../weights/apply';
import { PreloadedWeights, type LayerInitializers } from '../weights/preload';
import { isMissingFile } from '../env';
import { WEIGHTS_DOWNLOAD_OPTION_NAMES } from '../weights/source';
import { obtainInputShape, validateActivation } from './imagenet-utils';
import { resolveWeightsFile } from '../weights/source';
import { officialFile, type OfficialWeights } from './official-weights';
import type { ApplicationOptions, InputShape, Pooling } from './types';

/** Keras's defaults for a builder, and what it needs to know to validate and load. */
export interface BuilderSpec {
  /** The Keras class name, e.g. `'ResNet50'`; used in messages. */
  kerasName: string;
  defaultName: string;
  defaultSize: number;
  minSize: number;
  officialWeights?: OfficialWeights;
  /** The family's own options (e.g. MobileNet's `alpha`), accepted besides the common ones. */
  extraOptions?: string[];
}

/** The options after Keras's rules, with defaults filled in. */
export interface ResolvedOptions {
  includeTop: boolean;
  weights: ApplicationOptions['weights'];
  inputShape: InputShape;
  pooling: Pooling | null;
  classes: number;
  classifierActivation: string | null;
  name: string;
}

/** What a family's body gets: the resolved options and each weighted layer's initialisers. */
export interface BuildContext extends ResolvedOptions {
  /**
   * Initialisers to spread into the config of the weighted layer `name`: the weights file's values when
   * one is being loaded (nothing is spent on random numbers), tfjs's defaults otherwise.
   */
  init(name: string): LayerInitializers;
}

function isWeightsFile(value: unknown): value is WeightsFile {
  return typeof value === 'object' && value !== null && Array.isArray((value as WeightsFile).layers);
}

function weightsArgumentError(weights: unknown, why = ''): ArgumentError {
  return new ArgumentError(
    "The `weights` argument should be either `null` (random initialization), 'imagenet' (pre-training on " +
      'ImageNet), the path or URL of the weights file to be loaded, its bytes, or a WeightsFile. ' +
      `Received: weights=${formatValue(weights)}${why}`,
  );
}

function validateWeights(weights: unknown): void {
  if (weights === 'imagenet' || weights === null || typeof weights === 'string') return;
  if (weights instanceof Uint8Array || weights instanceof ArrayBuffer || isWeightsFile(weights)) return;
  throw weightsArgumentError(weights);
}

const KNOWN_OPTIONS = new Set([
  'includeTop', 'weights', 'inputTensor', 'inputShape', 'pooling', 'classes', 'classifierActivation', 'name',
  ...WEIGHTS_DOWNLOAD_OPTION_NAMES,
]);

/** Applies Keras's argument rules for `spec` and fills in its defaults. */
export function resolveOptions(spec: BuilderSpec, options: ApplicationOptions = {}): ResolvedOptions {
  checkOptionNames(spec.kerasName, options, [...KNOWN_OPTIONS, ...(spec.extraOptions ?? [])]);
  const includeTop = validateBoolean('includeTop', options.includeTop ?? true);
  const weights = options.weights === undefined ? 'imagenet' : options.weights;
  validateWeights(weights);
  if (weights === 'imagenet' && !spec.officialWeights) {
    throw new ArgumentError(`${spec.kerasName} has no official 'imagenet' weights. Received: weights='imagenet'`);
  }
  const classes = options.classes ?? 1000;
  validateInteger('classes', classes, 1);
  if (weights === 'imagenet' && includeTop && classes !== 1000) {
    throw new ArgumentError(
      "If using `weights: 'imagenet'` with `includeTop: true`, `classes` should be 1000. " + `Received: classes=${classes}`,
    );
  }
  const pooling = options.pooling ?? null;
  if (pooling !== null && pooling !== 'avg' && pooling !== 'max') {
    throw new ArgumentError(`\`pooling\` must be 'avg', 'max' or null. Received: pooling=${formatValue(pooling)}`);
  }
  const classifierActivation = options.classifierActivation === undefined ? 'softmax' : options.classifierActivation;
  if (includeTop) validateActivation(classifierActivation, weights);
  const name = options.name ?? spec.defaultName;
  if (typeof name !== 'string' || name.length === 0) {
    throw new ArgumentError(`\`name\` must be a non-empty string. Received: name=${formatValue(name)}`);
  }
  if (options.inputTensor !== undefined && !(options.inputTensor instanceof tfl.SymbolicTensor)) {
    throw new ArgumentError(
      '`inputTensor` must be a symbolic tensor, e.g. from `tf.input({ shape: [224, 224, 3] })`. ' +
        `Received: inputTensor=${formatValue(options.inputTensor)}`,
    );
  }
  const inputShape = obtainInputShape(options.inputShape ?? undefined, {
    defaultSize: spec.defaultSize,
    minSize: spec.minSize,
    requireFlatten: includeTop,
    weights,
  });
  return {
    includeTop,
    weights,
    inputShape,
    pooling,
    classes,
    classifierActivation,
    name,
  };
}

/** The image input: the user's `inputTensor`, or a fresh Input named as Keras names it. */
export function imageInput(options: ApplicationOptions, resolved: ResolvedOptions): tfl.SymbolicTensor {
  return options.inputTensor ?? tfl.input({ shape: resolved.inputShape, name: 'input_layer' });
}

/** The Input layers a symbolic tensor comes from (Keras's `get_source_inputs`). */
export function sourceInputs(tensor: tfl.SymbolicTensor): tfl.SymbolicTensor[] {
  const found: tfl.SymbolicTensor[] = [];
  const seen = new Set<tfl.SymbolicTensor>();
  const visit = (t: tfl.SymbolicTensor): void => {
    if (seen.has(t)) return;
    seen.add(t);
    const node = t.sourceLayer.inboundNodes[t.nodeIndex];
    if (!node || node.inboundLayers.length === 0) {
      found.push(t);
      return;
    }
    node.inputTensors.forEach(visit);
  };
  visit(tensor);
  return found;
}

/**
 * The top of the network: global pooling (named `poolingNames[mode]`) and the `predictions` Dense
 * with the classifier activation, or only the requested pooling when `includeTop` is false.
 */
export function poolingTop(
  x: tfl.SymbolicTensor,
  resolved: BuildContext,
  poolingNames: { avg?: string; max?: string },
): tfl.SymbolicTensor {
  if (resolved.includeTop) {
    x = tfl.layers.globalAveragePooling2d({ name: poolingNames.avg }).apply(x) as tfl.SymbolicTensor;
    return predictions(x, resolved);
  }
  if (resolved.pooling === 'avg') return tfl.layers.globalAveragePooling2d({ name: poolingNames.avg }).apply(x) as tfl.SymbolicTensor;
  if (resolved.pooling === 'max') return tfl.layers.globalMaxPooling2d({ name: poolingNames.max }).apply(x) as tfl.SymbolicTensor;
  return x;
}

/** The classifier layer every application ends with. */
export function predictions(x: tfl.SymbolicTensor, context: BuildContext): tfl.SymbolicTensor {
  return tfl.layers
    .dense({
      units: context.classes,
      activation: (context.classifierActivation ?? 'linear') as never,
      name: 'predictions',
      ...context.init('predictions'),
    })
    .apply(x) as tfl.SymbolicTensor;
}

/**
 * Builds a keras.applications model: checks the arguments, picks the backend, wires the graph with
 * `body`, then loads the requested weights. The shared skeleton of every builder.
 */
export async function buildApplication(
  spec: BuilderSpec,
  options: ApplicationOptions | undefined,
  body: (input: tfl.SymbolicTensor, context: BuildContext) => tfl.SymbolicTensor,
): Promise<tfl.LayersModel> {
  const resolved = resolveOptions(spec, options);
  await ensureBackend();
  // Read (or download) the file before building so a failure there costs no model construction.
  const file = await weightsToLoad(spec, options ?? {}, resolved);
  const preloaded = file && new PreloadedWeights(file);
  const context: BuildContext = { ...resolved, init: (name) => (preloaded ? preloaded.initializers(name) : {}) };
  const input = imageInput(options ?? {}, resolved);
  const output = body(input, context);
  const inputs = options?.inputTensor ? sourceInputs(options.inputTensor) : [input];
  const model = tfl.model({ inputs, outputs: output, name: resolved.name });
  if (file && !preloaded!.matchesModel(model)) {
    try {
      // Keras's rule is by order; this applies it where names differ, or says why the file does not fit.
      await loadWeights(model, file);
    } catch (error) {
      model.dispose();
      throw error;
    }
  }
  return model;
}

async function weightsToLoad(
  spec: BuilderSpec,
  options: ApplicationOptions,
  resolved: ResolvedOptions,
): Promise<WeightsFile | null> {
  const { weights } = resolved;
  if (weights === null || weights === undefined) return null;
  // wasm copies every weight into its heap: the file's buffer must go first, or both are resident at once.
  const deferData = tf.getBackend() === 'wasm';
  if (weights === 'imagenet') {
    const official = officialFile(spec.officialWeights!, resolved.includeTop);
    return readWeightsSource(await resolveWeightsFile(official, options), {}, deferData);
  }
  // Keras's `file_utils.exists(weights)` half of the weights rule; here because it asks the file system.
  if (typeof weights === 'string' && (await isMissingFile(weights))) throw weightsArgumentError(weights, ' (no file exists at that path)');
  return readWeightsSource(weights, options, deferData);
}

/**
 * Names for layers Keras leaves unnamed, as a fresh Keras process gives them: `add`, `add_1`, …
 * One namer per model build, so every build gets the same names.
 */
export function kerasAutoNames(): (base: string) => string {
  const counts = new Map<string, number>();
  return (base) => {
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  };
}

/** Shorthand used by family files: a layer's output as a symbolic tensor. */
export function apply(layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]): tfl.SymbolicTensor {
  return layer.apply(x) as tfl.SymbolicTensor;
}

export interface BiasFreeConvOptions {
  strides?: number;
  padding?: 'same' | 'valid';
  /** For a model built without weights; Keras's families differ here (NASNet uses He normal). */
  kernelInitializer?: 'heNormal';
}

/** The bias-free Conv2D most families put before a BatchNormalization, with its values from the weights file if one is loaded. */
export function biasFreeConv(
  context: BuildContext,
  x: tfl.SymbolicTensor,
  filters: number,
  kernelSize: number,
  name: string,
  { strides = 1, padding = 'same', kernelInitializer }: BiasFreeConvOptions = {},
): tfl.SymbolicTensor {
  const initializer = kernelInitializer ? { kernelInitializer } : {};
  return apply(tfl.layers.conv2d({ filters, kernelSize, strides, padding, useBias: false, name, ...initializer, ...context.init(name) }), x);
}
