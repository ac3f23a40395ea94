// One-line classification: `await classify('photo.jpg', { model: 'ResNet50' })`. The model is built and
// weighted on first use and kept for the rest of the process (one per model and weights).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkOptionNames, formatValue } from './arguments';
import type { WeightsDownloadOptions } from './applications/official-weights';
import type { ApplicationOptions, InputShape } from './applications/types';
import { applications, getApplication, preprocessInput, type AnyApplicationEntry, type ApplicationEntry, type ApplicationName } from './applications/registry';
import { ArgumentError } from './errors';
import type { DeviceChoice } from './inference/devices';
import { compileForInference } from './inference/index';
import type { Predictor } from './inference/types';
import { loadImageTensor, type ImageSource, type LoadImageOptions } from './image/image';
import { WEIGHTS_DOWNLOAD_OPTION_NAMES } from './weights/source';
import { decodePredictions, MODE_NAMES, preprocessWithMode, type ImagenetPrediction, type PreprocessMode } from './applications/imagenet-utils';
import { loadKerasModel, type KerasModelSource } from './models/load-keras-model';
import { nestedApplications } from './models/nested-application';
import { computeMelgram, type AudioReadOptions, type AudioSource } from './audio/melgram';
import { decodeMusicTags, type MusicTag } from './audio/music-tags';

export interface ClassifyOptions extends WeightsDownloadOptions {
  /**
   * A name of the registry (`applications`), e.g. `'MobileNetV2'`, or a Keras model file as `loadKerasModel`
   * reads it (a `.keras` archive or a full-model `.h5`): its path or URL, or its bytes. Default `'ResNet50'`.
   */
  model?: ApplicationName | KerasModelSource;
  /** With a model file: the names of its classes, in the order of its output. Required then. */
  labels?: string[];
  /**
   * With a model file: how its images are preprocessed, a mode of `preprocessInput` ('caffe', 'tf', 'torch',
   * 'none'). Default: the mode of the keras.applications model inside the file (a transfer model's base); required
   * when the file has none.
   */
  preprocess?: PreprocessMode;
  /** How many classes (or tags) to return per input, best first. Default 5. */
  top?: number;
  /**
   * `'imagenet'` (the official Keras file, downloaded once into the Keras cache; for MusicTaggerCRNN its
   * author's `'msd'` file), the path or URL of a weights file, or `null` (random). Default: the official file.
   */
  weights?: string | null;
  /**
   * The builder's own options, for the variants of a model: e.g. `{ alpha: 0.25, inputShape: [128, 128, 3] }`
   * for MobileNet α=0.25 at 128×128 (images are then loaded at that size). The builder checks them; each set of
   * options is its own cached model. Default: the builder's defaults.
   */
  modelOptions?: ClassifierModelOptions;
  /** Where to predict: 'auto' (default: a GPU when an engine starts on one here), 'cpu' or 'gpu', as `compileForInference`. */
  device?: DeviceChoice;
}

/**
 * What `classify` sets on the builder itself: the model keeps its top (softmax over the 1000 classes) and its
 * own input, and the weights and their download are `classify`'s own options.
 */
const SET_BY_CLASSIFY = ['includeTop', 'pooling', 'classes', 'classifierActivation', 'inputTensor', 'weights', ...WEIGHTS_DOWNLOAD_OPTION_NAMES] as const;

/** A builder's options that `classify` passes on: `inputShape`, and the family's own (MobileNet's `alpha`, …). */
export type ClassifierModelOptions = Omit<ApplicationOptions, (typeof SET_BY_CLASSIFY)[number]> & { [option: string]: unknown };

/** Options for the music tagger: the same, with `model: 'MusicTaggerCRNN'`. */
export type TagMusicOptions = ClassifyOptions & { model: 'MusicTaggerCRNN' };

/** An image: a path or file bytes (JPEG, PNG, … as `loadImage` reads), or a `[height, width, 3]` tensor of 0–255 RGB values. */
export type ClassifyInput = ImageSource | tf.Tensor3D;

const OPTION_NAMES = ['model', 'top', 'weights', 'modelOptions', 'device', 'labels', 'preprocess', ...WEIGHTS_DOWNLOAD_OPTION_NAMES];
const DEFAULT_MODEL: ApplicationName = 'ResNet50';

/** Built models by model name, weights and model options; promises, so that concurrent calls share one build. */
const models = new Map<string, Promise<tfl.LayersModel>>();
/** The same models compiled for the fastest inference engine here (`compileForInference`), by the same key. */
const predictors = new Map<string, Promise<Predictor>>();

/**
 * The top ImageNet classes of an image (or, for `model: 'MusicTaggerCRNN'`, the top tags of an mp3/wav clip),
 * best first. Images are loaded as Keras's `load_img` does at the model's size and preprocessed for it;
 * tensors of another size are resized bilinearly. The model is built once per process (see `loadClassifier`) and
 * predicts on the fastest inference engine here (`compileForInference`: ONNX Runtime when installed).
 *
 * ```ts
 * const [best] = await classify('elephant.jpg', { model: 'ResNet50', top: 3 });
 * // { classId: 'n02504458', className: 'African_elephant', probability: 0.9… }
 * ```
 */
export function classify(clip: AudioSource, options: TagMusicOptions): Promise<MusicTag[]>;
export function classify(clips: AudioSource[], options: TagMusicOptions): Promise<MusicTag[][]>;
export function classify(image: ClassifyInput, options?: ClassifyOptions): Promise<ImagenetPrediction[]>;
/** Several images (an array, or a `[batch, height, width, 3]` tensor): one list of classes per image. */
export function classify(images: ClassifyInput[] | tf.Tensor4D, options?: ClassifyOptions): Promise<ImagenetPrediction[][]>;
export async function classify(
  input: ClassifyInput | ClassifyInput[] | tf.Tensor4D,
  options: ClassifyOptions = {},
): Promise<ImagenetPrediction[] | ImagenetPrediction[][] | MusicTag[] | MusicTag[][]> {
  checkOptionNames('classify', options, OPTION_NAMES);
  const { model: name = DEFAULT_MODEL, top = 5, weights, modelOptions, device, labels, preprocess, ...download } = options;
  if (!Number.isInteger(top) || top < 1) throw new ArgumentError(`\`top\` must be a positive integer. Received: top=${formatValue(top)}`);
  const single = !Array.isArray(input) && !(input instanceof tf.Tensor && input.rank === 4);
  const inputs = Array.isArray(input) ? input : [input];
  if (inputs.length === 0) throw new ArgumentError('`classify` needs at least one input. Received: []');
  if (isModelFile(name)) {
    if (weights !== undefined || modelOptions !== undefined) {
      throw new ArgumentError(
        '`weights` and `modelOptions` are for the models of the registry; a model file holds its own architecture and weights. ' +
          `Received: ${formatValue(weights !== undefined ? { weights } : { modelOptions })}`,
      );
    }
    const decoded = await classifyWithModelFile(inputs as ClassifyInput[], name, { top, labels, preprocess, device, download });
    return single ? decoded[0]! : decoded;
  }
  if (labels !== undefined || preprocess !== undefined) {
    throw new ArgumentError(
      `\`labels\` and \`preprocess\` are for a model file (model: 'my_model.keras'); ${name} classifies into ImageNet's classes ` +
        `with its own preprocessing. Received: ${formatValue(labels !== undefined ? { labels } : { preprocess })}`,
    );
  }
  const entry = getApplication(name);
  validateModelOptions(modelOptions ?? {});
  // Inputs first, so that a wrong path fails before a weights download.
  const { timeoutMs, deadlineMs, signal } = download;
  const batch =
    entry.kind === 'audio'
      ? await melgramBatch(inputs, { timeoutMs, deadlineMs, signal })
      : await preparedImageBatch(inputs, entry, { inputShape: modelOptions?.inputShape, timeoutMs, deadlineMs, signal });
  let scores: tf.Tensor | undefined;
  try {
    const predictor = await loadPredictor(entry.kerasName as ApplicationName, { weights, modelOptions, ...download }, device);
    scores = (await predictor.predict(batch)) as tf.Tensor;
    const decoded = entry.kind === 'audio' ? decodeMusicTags(scores, top) : decodePredictions(scores, top);
    return single ? decoded[0]! : decoded;
  } finally {
    tf.dispose([batch, ...(scores ? [scores] : [])]);
  }
}

/**
 * The model `classify` uses for `name`, `weights` and `modelOptions`: built and weighted on the first call, the
 * same instance afterwards. Do not dispose it yourself; `clearModelCache()` does.
 */
export function loadClassifier(name: ApplicationName, options: ClassifierWeightsOptions = {}): Promise<tfl.LayersModel> {
  const { key, entry, weights, modelOptions, download } = cacheKey(name, options);
  return cached(models, key, () => (entry as AnyApplicationEntry).build({ ...modelOptions, weights, ...download } as never));
}

/**
 * `loadClassifier`'s model compiled for prediction on the fastest engine on `device` (`KERAS_APPLICATIONS_ENGINE` and
 * `KERAS_APPLICATIONS_DEVICE` force one); one predictor per model and device.
 */
function loadPredictor(name: ApplicationName, options: ClassifierWeightsOptions, device: DeviceChoice = 'auto'): Promise<Predictor> {
  const key = `${cacheKey(name, options).key}\n${device}`;
  return cached(predictors, key, async () => compileForInference(await loadClassifier(name, options), { device }));
}

type ClassifierWeightsOptions = Pick<ClassifyOptions, 'weights' | 'modelOptions'> & WeightsDownloadOptions;

function cacheKey(name: ApplicationName, options: ClassifierWeightsOptions) {
  const entry = getApplication(name);
  const { weights = entry.kind === 'audio' ? 'msd' : 'imagenet', modelOptions = {}, ...download } = options;
  validateModelOptions(modelOptions);
  // The music tagger's official file is its author's 'msd' weights.
  const resolved = entry.kind === 'audio' && weights === 'imagenet' ? 'msd' : weights;
  // Sorted, so that the same options in another order share the model; undefined means the default.
  const given = Object.entries(modelOptions).filter(([, value]) => value !== undefined);
  const spelled = JSON.stringify(given.sort(([a], [b]) => (a < b ? -1 : 1)));
  return { key: `${entry.kerasName}\n${resolved}\n${spelled}`, entry, weights: resolved, modelOptions, download };
}

/**
 * `modelOptions` must be an object of builder options that `classify` leaves to the caller, with plain values
 * (numbers, strings, booleans, null, arrays of them): the cache key spells them exactly.
 */
function validateModelOptions(modelOptions: unknown): asserts modelOptions is ClassifierModelOptions {
  if (typeof modelOptions !== 'object' || modelOptions === null || Array.isArray(modelOptions)) {
    throw new ArgumentError(
      `\`modelOptions\` must be an object of the builder's options, e.g. { alpha: 0.25, inputShape: [128, 128, 3] }. Received: modelOptions=${formatValue(modelOptions)}`,
    );
  }
  for (const [option, value] of Object.entries(modelOptions)) {
    if ((SET_BY_CLASSIFY as readonly string[]).includes(option)) {
      throw new ArgumentError(
        `\`modelOptions.${option}\` is not allowed: classify keeps the model's top (softmax over the 1000 classes) and ` +
          `its input, and takes the weights and download options itself (${SET_BY_CLASSIFY.join(', ')}). ` +
          `Received: modelOptions.${option}=${formatValue(value)}`,
      );
    }
    if (value !== undefined && !isPlainValue(value)) {
      throw new ArgumentError(
        `\`modelOptions.${option}\` must be a finite number, a string, a boolean, null or an array of them. ` +
          `Received: modelOptions.${option}=${formatValue(value)}`,
      );
    }
  }
  // Images are loaded at its size before the model is built; the builder checks the rest of it.
  const { inputShape } = modelOptions as ClassifierModelOptions;
  const isSize = (size: unknown) => size === null || (Number.isInteger(size) && (size as number) >= 1);
  if (inputShape != null && !(Array.isArray(inputShape) && inputShape.length === 3 && isSize(inputShape[0]) && isSize(inputShape[1]))) {
    throw new ArgumentError(
      '`modelOptions.inputShape` must be [height, width, channels] with sizes >= 1 (null: free), e.g. [128, 128, 3]. ' +
        `Received: modelOptions.inputShape=${formatValue(inputShape)}`,
    );
  }
}

function isPlainValue(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(isPlainValue);
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** The promise kept under `key`, made by `make` on the first call; a failed one is dropped so the next call retries. */
function cached<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) {
    value = make();
    cache.set(key, value);
    // E.g. a download that failed offline: the next call tries again once the file is in the cache. Only this
    // promise is dropped: after clearModelCache, a newer one may be under the key.
    const made = value;
    made.catch(() => {
      if (cache.get(key) === made) cache.delete(key);
    });
  }
  return value;
}

/** Disposes every model (and compiled predictor) `classify` has built and forgets them; the next call builds afresh. */
export async function clearModelCache(): Promise<void> {
  const pending = [...predictors.values(), ...models.values()];
  const files = [...fileClassifiers.values()];
  predictors.clear();
  models.clear();
  fileClassifiers.clear();
  const built = await Promise.allSettled<Predictor | tfl.LayersModel>(pending);
  for (const result of built) if (result.status === 'fulfilled') result.value.dispose();
  for (const result of await Promise.allSettled(files)) {
    if (result.status === 'fulfilled') {
      result.value.predictor.dispose();
      result.value.model.dispose();
    }
  }
}

/**
 * The images as one `[n, height, width, 3]` batch at the size of the model built with `inputShape` (a free
 * dimension, or none given: `entry`'s default size), preprocessed for it; the other options are for image URLs.
 */
export async function preparedImageBatch(
  inputs: (ClassifyInput | tf.Tensor4D)[],
  entry: ApplicationEntry,
  options: { inputShape?: InputShape | null } & ImageFetchOptions = {},
): Promise<tf.Tensor4D> {
  const { inputShape, ...fetch } = options;
  const size: [number, number] = [inputShape?.[0] ?? entry.defaultSize, inputShape?.[1] ?? entry.defaultSize];
  return imageBatch(inputs, size, (batch) => preprocessInput(batch, entry.kerasName), fetch);
}

type ImageFetchOptions = Pick<LoadImageOptions, 'timeoutMs' | 'deadlineMs' | 'signal'>;

/** The images as one `[n, height, width, 3]` batch, given to `preprocess`. */
async function imageBatch(
  inputs: (ClassifyInput | tf.Tensor4D)[],
  [height, width]: [number, number],
  preprocess: (batch: tf.Tensor4D) => tf.Tensor,
  fetch: ImageFetchOptions,
): Promise<tf.Tensor4D> {
  const loaded = await Promise.allSettled(
    inputs.map(async (input) => {
      if (!(input instanceof tf.Tensor)) return loadImageTensor(input, { targetSize: [height, width], ...fetch });
      if ((input.rank !== 3 && input.rank !== 4) || input.shape.at(-1) !== 3) {
        throw new ArgumentError(
          `An image tensor must be [height, width, 3] or [batch, height, width, 3] RGB values. Received: shape [${input.shape.join(', ')}]`,
        );
      }
      return tf.tidy(() => {
        const pixels = tf.cast(input as tf.Tensor3D | tf.Tensor4D, 'float32');
        const sameSize = input.shape.at(-3) === height && input.shape.at(-2) === width;
        return sameSize ? pixels : tf.image.resizeBilinear(pixels, [height, width]);
      });
    }),
  );
  // Every load settled, so that when one input is rejected the images already made can be freed.
  const images = loaded.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const rejected = loaded.find((result) => result.status === 'rejected');
  if (rejected) {
    tf.dispose(images);
    throw rejected.reason;
  }
  return tf.tidy(() => {
    const batch = tf.concat(images.map((image) => (image.rank === 3 ? tf.expandDims(image, 0) : image)) as tf.Tensor4D[]);
    tf.dispose(images);
    return preprocess(batch) as tf.Tensor4D;
  });
}

/** MusicTaggerCRNN's input for each clip, as one batch. */
async function melgramBatch(clips: unknown[], fetching: AudioReadOptions): Promise<tf.Tensor4D> {
  const isAudio = (clip: unknown): clip is AudioSource => typeof clip === 'string' || clip instanceof Uint8Array || clip instanceof ArrayBuffer;
  const wrong = clips.find((clip) => !isAudio(clip));
  if (wrong !== undefined) {
    throw new ArgumentError(`MusicTaggerCRNN classifies mp3 or wav clips: a path or the file's bytes. Received: ${formatValue(wrong)}`);
  }
  const melgrams = await Promise.all((clips as AudioSource[]).map((clip) => computeMelgram(clip, fetching)));
  const batch = tf.stack(melgrams) as tf.Tensor4D;
  tf.dispose(melgrams);
  return batch;
}

// ---- a Keras model file as the classifier ----------------------------------------------------

/** A model option that names a file: bytes, or a string that is not a registry name and looks like a path or URL. */
export function isModelFile(model: ApplicationName | KerasModelSource): model is KerasModelSource {
  return typeof model !== 'string' || (!(model in applications) && /[./\\:]/.test(model));
}

interface ModelFileOptions {
  top: number;
  labels: unknown;
  preprocess: unknown;
  device: DeviceChoice | undefined;
  download: WeightsDownloadOptions;
}

/** A loaded model file, and how `classify` feeds it. */
export interface FileClassifier {
  model: tfl.LayersModel;
  predictor: Predictor;
  size: [number, number];
  /** The preprocessing mode of a keras.applications model inside it; undefined when it has none (or several). */
  nestedMode: PreprocessMode | undefined;
  classes: number;
}

async function classifyWithModelFile(inputs: ClassifyInput[], source: KerasModelSource, options: ModelFileOptions): Promise<ImagenetPrediction[][]> {
  const { top, labels, preprocess, device, download } = options;
  if (!Array.isArray(labels) || labels.length === 0 || labels.some((label) => typeof label !== 'string')) {
    throw new ArgumentError(
      `\`labels\` must name the classes of the model file, in the order of its output (a non-empty array of strings). Received: labels=${formatValue(labels)}`,
    );
  }
  if (preprocess !== undefined && !MODE_NAMES.includes(preprocess as PreprocessMode)) {
    throw new ArgumentError(`\`preprocess\` must be one of ${MODE_NAMES.map((mode) => `'${mode}'`).join(', ')}. Received: preprocess=${formatValue(preprocess)}`);
  }
  const where = typeof source === 'string' ? source : 'the given model bytes';
  const cachedHere = typeof source === 'string';
  const { model, predictor, size, nestedMode, classes } = await (cachedHere
    ? loadFileClassifier(source, download, device)
    : startFileClassifier(source, where, download, device));
  let scores: tf.Tensor | undefined;
  let batch: tf.Tensor | undefined;
  try {
    const mode = (preprocess as PreprocessMode | undefined) ?? nestedMode;
    if (mode === undefined) {
      throw new ArgumentError(
        `\`preprocess\` is required for ${where}: it holds no keras.applications model (by its Keras name) to take the ` +
          `preprocessing from. Give the mode its images were preprocessed with in training: ${MODE_NAMES.map((m) => `'${m}'`).join(', ')}.`,
      );
    }
    if (labels.length !== classes) {
      throw new ArgumentError(`\`labels\` has ${labels.length} names, but the output of ${where} has ${classes} classes. Received: labels=${formatValue(labels)}`);
    }
    const { timeoutMs, deadlineMs, signal } = download;
    batch = await imageBatch(inputs, size, (pixels) => preprocessWithMode(pixels, mode), { timeoutMs, deadlineMs, signal });
    scores = (await predictor.predict(batch)) as tf.Tensor;
    return decodeLabels(await scores.data(), labels as string[], top);
  } finally {
    tf.dispose([...(batch ? [batch] : []), ...(scores ? [scores] : [])]);
    if (!cachedHere) {
      predictor.dispose();
      model.dispose();
    }
  }
}

/** Loaded model files with their predictors, by path or URL and device; cleared with the registry's models. */
const fileClassifiers = new Map<string, Promise<FileClassifier>>();

/**
 * The classifier of the model file at a path or URL: loaded on the first call, the same afterwards (as the
 * registry's models). The CLI reads its preprocessing and class count from it before classifying.
 */
export function loadFileClassifier(source: string, download: WeightsDownloadOptions = {}, device: DeviceChoice = 'auto'): Promise<FileClassifier> {
  return cached(fileClassifiers, `${source}\n${device}`, () => startFileClassifier(source, source, download, device));
}

async function startFileClassifier(
  source: KerasModelSource,
  where: string,
  download: WeightsDownloadOptions,
  device: DeviceChoice = 'auto',
): Promise<FileClassifier> {
  const model = await loadKerasModel(source, download);
  try {
    const [input] = model.inputs;
    const [output] = model.outputs;
    if (model.inputs.length !== 1 || input!.shape.length !== 4 || input!.shape[3] !== 3 || model.outputs.length !== 1 || output!.shape.length !== 2) {
      throw new ArgumentError(
        `classify takes an image classifier: one input of [height, width, 3] images and one output of class scores; ${where} ` +
          `takes ${model.inputs.map((t) => `[${t.shape.slice(1).join(', ')}]`).join(' and ')} and gives ${model.outputs.map((t) => `[${t.shape.slice(1).join(', ')}]`).join(' and ')}.`,
      );
    }
    const nested = nestedApplications(model);
    const modes = [...new Set(nested.map((entry) => entry.preprocessing))];
    const [height, width] = [input!.shape[1], input!.shape[2]].map((dim) => dim ?? nested[0]?.defaultSize);
    if (height == null || width == null) {
      throw new ArgumentError(`The input of ${where} has a free size, and it holds no keras.applications model whose default size classify could use.`);
    }
    const predictor = await compileForInference(model, { device });
    return { model, predictor, size: [height, width], nestedMode: modes.length === 1 ? modes[0] : undefined, classes: output!.shape[1]! };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The `top` best classes of each row of `scores`, best first (ties by index); `probability` is the model's score. */
function decodeLabels(scores: ArrayLike<number>, labels: string[], top: number): ImagenetPrediction[][] {
  const classes = labels.length;
  return Array.from({ length: scores.length / classes }, (_, row) => {
    const values = Array.from(scores).slice(row * classes, (row + 1) * classes);
    const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);
    return order.slice(0, top).map((i) => ({ classId: String(i), className: labels[i]!, probability: values[i]! }));
  });
}
