// What every keras.applications builder shares: argument rules (Keras's obtain_input_shape,
// the classes/imagenet rule, validate_activation, the weights rule), the input, the
// classifier head or pooling, and loading weights once the model is built.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ensureBackend } from '../backend';
import { ArgumentError } from '../errors';
import type { WeightsFile } from '../weights/types';
import { loadWeights, readWeightsSource, type WeightsSource } from '../weights/apply';
import { PreloadedWeights, type LayerInitializers } from '../weights/preload';
import { isMissingFile } from '../env';
import { resolveOfficialWeights, type OfficialWeights, type WeightsDownloadOptions } from './official-weights';

/** `[height, width, channels]`; `null` for a size left free. Channels-last, as tfjs. */
export type InputShape = [number | null, number | null, number];

export type Pooling = 'avg' | 'max';

/** The arguments every keras.applications builder takes, in camelCase. */
export interface ApplicationOptions extends WeightsDownloadOptions {
  /** Whether to include the classifier at the top of the network. Default `true`. */
  includeTop?: boolean;
  /**
   * `'imagenet'` (the official Keras weights, downloaded once and cached in `~/.keras/models`),
   * `null` (random initialisation), a path or URL of a Keras `.h5` / `.weights.h5` file, its bytes,
   * or an already read `WeightsFile`. Default `'imagenet'`.
   */
  weights?: 'imagenet' | null | string | WeightsSource;
  /** A symbolic tensor (from `tf.input()` or another model) to use as the image input. */
  inputTensor?: tfl.SymbolicTensor;
  /** `[height, width, 3]`; only free to choose with `includeTop: false` (or without ImageNet weights). */
  inputShape?: InputShape;
  /** Pooling of the last feature map when `includeTop` is false: `'avg'`, `'max'` or none. */
  pooling?: Pooling | null;
  /** Number of classes; only other than 1000 without ImageNet weights or without the top. */
  classes?: number;
  /** Activation of the top layer; `null` returns logits. With pretrained weights only `'softmax'` or `null`. */
  classifierActivation?: string | null;
  /** The model's name. */
  name?: string;
}

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

const ACTIVATIONS = [
  'elu', 'hardSigmoid', 'linear', 'relu', 'relu6', 'selu', 'sigmoid', 'softmax', 'softplus', 'softsign',
  'tanh', 'swish', 'mish', 'gelu', 'gelu_new',
];

/** A value as an error message quotes it: strings quoted, arrays as JSON, bytes by length. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `'${value}'`;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return `<${value.byteLength} bytes>`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
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

/** A boolean option; the error names the option and the value received. */
export function validateBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ArgumentError(`\`${name}\` must be true or false. Received: ${name}=${formatValue(value)}`);
  return value;
}

/** An integer option of at least `min`; the error names the option and the value received. */
export function validateInteger(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ArgumentError(`\`${name}\` must be an integer >= ${min}. Received: ${name}=${formatValue(value)}`);
  }
}

/**
 * Keras's `obtain_input_shape` for channels-last data: the input shape the model gets,
 * or an ArgumentError for the same cases Keras rejects.
 */
export function obtainInputShape(
  inputShape: readonly (number | null)[] | undefined,
  rules: { defaultSize: number; minSize: number; requireFlatten: boolean; weights: unknown },
): InputShape {
  const { defaultSize, minSize, requireFlatten, weights } = rules;
  const imagenet = weights === 'imagenet';
  if (inputShape !== undefined && inputShape !== null) {
    if (!Array.isArray(inputShape) || inputShape.length !== 3) {
      throw new ArgumentError(
        `\`inputShape\` must be an array of three integers [height, width, channels]. Received: inputShape=${formatValue(inputShape)}`,
      );
    }
    inputShape.forEach((dim, i) => {
      if (dim !== null && (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1)) {
        throw new ArgumentError(
          `\`inputShape\` entries must be positive integers or null. Received: inputShape=${formatValue(inputShape)} (entry ${i})`,
        );
      }
    });
  }
  const given = inputShape && inputShape.length > 0 ? (inputShape as InputShape) : undefined;
  const channels = !imagenet && given ? given[2] : 3;
  const defaultShape: InputShape = [defaultSize, defaultSize, channels];
  if (imagenet && requireFlatten) {
    if (given && !given.every((dim, i) => dim === defaultShape[i])) {
      throw new ArgumentError(
        `When setting \`includeTop: true\` and loading 'imagenet' weights, \`inputShape\` should be ` +
          `${formatValue(defaultShape)}. Received: inputShape=${formatValue(given)}`,
      );
    }
    return defaultShape;
  }
  let shape: InputShape;
  if (given) {
    if (given[2] !== 3 && imagenet) {
      throw new ArgumentError(`The input must have 3 channels; Received: inputShape=${formatValue(given)}`);
    }
    if ((given[0] !== null && given[0] < minSize) || (given[1] !== null && given[1] < minSize)) {
      throw new ArgumentError(`Input size must be at least ${minSize}x${minSize}; Received: inputShape=${formatValue(given)}`);
    }
    shape = [...given];
  } else {
    shape = requireFlatten ? defaultShape : [null, null, 3];
  }
  if (requireFlatten && shape.includes(null)) {
    throw new ArgumentError(
      `If \`includeTop\` is true, you should specify a static \`inputShape\`. Received: inputShape=${formatValue(shape)}`,
    );
  }
  return shape;
}

/** Keras's `validate_activation`: with pretrained weights the top may only be softmax or logits. */
export function validateActivation(activation: unknown, weights: unknown): void {
  if (activation !== null && (typeof activation !== 'string' || !ACTIVATIONS.includes(activation))) {
    throw new ArgumentError(
      `\`classifierActivation\` must be null or one of ${ACTIVATIONS.map(formatValue).join(', ')}. ` +
        `Received: classifierActivation=${formatValue(activation)}`,
    );
  }
  if (weights !== null && activation !== null && activation !== 'softmax') {
    throw new ArgumentError(
      'Only `null` and `softmax` activations are allowed for the `classifierActivation` argument when using ' +
        `pretrained weights, with \`includeTop: true\`; Received: classifierActivation=${formatValue(activation)}`,
    );
  }
}

const KNOWN_OPTIONS = new Set([
  'includeTop', 'weights', 'inputTensor', 'inputShape', 'pooling', 'classes', 'classifierActivation', 'name',
  'cacheDir', 'onProgress', 'timeoutMs', 'offline',
]);

/** `options` must be an object of known option names; a misspelt or snake_case name is an error, not ignored. */
export function checkOptionNames(kerasName: string, options: unknown, allowed: readonly string[]): void {
  if (typeof options !== 'object' || options === null) {
    throw new ArgumentError(`${kerasName} options must be an object. Received: ${formatValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new ArgumentError(`Unknown option \`${key}\` for ${kerasName}. Allowed: ${allowed.join(', ')}`);
  }
}

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
    return readWeightsSource(await resolveOfficialWeights(spec.officialWeights!, resolved.includeTop, options), {}, deferData);
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

/**
 * Keras's `imagenet_utils.correct_pad`: the zero padding before a stride-2 'valid' convolution, one less
 * before each axis of even (or unknown) size, so the result lines up with TensorFlow's 'same'.
 */
export function correctPad(x: tfl.SymbolicTensor, kernelSize: number): [[number, number], [number, number]] {
  const half = Math.floor(kernelSize / 2);
  const unknown = x.shape[1] == null;
  const [before0, before1] = [x.shape[1], x.shape[2]].map((size) => half - (unknown ? 1 : 1 - (size! % 2)));
  return [[before0!, half], [before1!, half]];
}

/** Shorthand used by family files: a layer's output as a symbolic tensor. */
export function apply(layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]): tfl.SymbolicTensor {
  return layer.apply(x) as tfl.SymbolicTensor;
}

