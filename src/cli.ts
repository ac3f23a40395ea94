#!/usr/bin/env node
// The `keras-applications` command: classify images, extract features, list and summarise the models,
// fill the weights cache for offline use.
import { realpathSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applications, type AnyApplicationEntry, type ApplicationEntry, type ApplicationName } from './applications/registry';
import type { InputShape } from './applications/types';
import { BACKEND_ENV_VAR } from './backend';
import { cacheFolder, cachedFiles, describeConfiguration, filesToRemove, fitProblem, OFFICIAL_FILES, officialFileFor } from './cache';
import { MODE_NAMES, type PreprocessMode } from './applications/imagenet-utils';
import { classify as classifyInputs, isModelFile, loadFileClassifier, preparedImageBatch } from './classify';
import { readRegularFile } from './files';
import { ArgumentError, DownloadError, KerasApplicationsError, WeightsFileError, WeightsMismatchError } from './errors';
import { DEVICES, type DeviceChoice } from './inference/devices';
import { DEVICE_ENV_VAR } from './inference/index';
import { featureExtractor } from './features';
import { removePartsInProgress, type DownloadProgress } from './weights/download';
import { resolveWeightsFile } from './weights/source';

/** Where the command writes; `process` by default. */
export interface CliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/** The exit codes, as `--help` lists them. */
export const EXIT = { ok: 0, bug: 1, usage: 2, download: 3, input: 4, weightsFile: 5 } as const;

const MODEL_NAMES = Object.keys(applications) as ApplicationName[];
const BACKENDS = ['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'];
const VARIANTS = ['top', 'notop', 'all'];

const USAGE = `Usage:
  keras-applications classify <image...> [options]   top ImageNet classes of images (JPEG, PNG, …)
                                                     (music tags of mp3/wav clips with --model MusicTaggerCRNN)
  keras-applications features <image...> [options]   feature vectors or intermediate outputs of images
  keras-applications list [<pattern>] [--cached] [--json]
                                                     the models (a wildcard pattern such as '*resnet*' picks some):
                                                     weights size, accuracy, parameters, depth, input
  keras-applications summary <model> [options]       layers, output shapes and parameters, as Keras's model.summary()
  keras-applications download <model...> [--variant top|notop|all] [--alpha <n>] [--input-size <n>]
                                                     fill the weights cache for offline use (progress on stderr);
                                                     a file Keras publishes no hash for must have its model's
                                                     weight shapes
  keras-applications cache list|verify [--json]      the cached weights files, their sizes and checks (hash where
                                                     Keras publishes one, else HDF5 length and weight shapes)
  keras-applications cache remove <model|file...>    delete a model's cached files, or cached files by name
  keras-applications --help | --version

Options:
  --model <name>       one of the models that 'list' shows, any letter case (default ResNet50); classify: also
                       the path or URL of a Keras model file (.keras, or a whole model saved to .h5), with --labels
  --labels <file>      classify with a model file: its class names, one per line in the order of its output
  --preprocess <mode>  classify with a model file: caffe, tf, torch or none (default: the mode of the
                       keras.applications model inside the file; required when it has none)
  --top <k>            classify: classes shown per image (default 5)
  --weights <w>        classify, features: 'imagenet' (default: the official Keras file, downloaded once into
                       $KERAS_HOME/models or ~/.keras/models; for MusicTaggerCRNN the author's 'msd' weights),
                       the path or URL of a Keras .h5 file, or 'none' (random)
  --alpha <n>          classify, features, summary, download: the width of MobileNet, V2 and V3, e.g. 0.25
  --input-size <size>  classify, features, summary (with --no-top), download: the input, <n> or <height>x<width> (default:
                       the model's); with the top and 'imagenet' weights, a size Keras publishes a file for
                       (MobileNet: 128, 160, 192 or 224)
  --option <name=value> classify, features, summary: any other option of the model's builder, e.g. minimalistic=true
                       (MobileNetV3), includePreprocessing=false (ConvNeXt, EfficientNetV2); the value is read as
                       JSON where it can be (true, 0.5, [1,2]), else as text; repeatable
  --layer <name>       features: a layer to read (repeatable; 'summary' lists them), from the model without its
                       top (and its smaller file) unless a layer is in the top. Without it: the pooled output of
                       the model without its top (Keras's include_top=False, pooling='avg')
  --no-top             summary: the model without its classifier (Keras's include_top=False)
  --pooling <p>        summary: with --no-top, 'avg' or 'max'
  --variant <v>        download: the file with the top (default), without it ('notop'), or 'all'
  --backend <name>     ${BACKENDS.join(', ')} (default: the fastest one that loads)
  --device <d>         classify: ${DEVICES.join(', ')} (default auto: a GPU when an engine starts on one here; gpu fails
                       naming what is missing); also $${DEVICE_ENV_VAR}
  --cached             list: only the models with weights in the cache, and which files
  --json               print JSON (features: every value) instead of tables

Environment: KERAS_HOME (cache root), KERAS_APPLICATIONS_OFFLINE=1 (cached files only),
KERAS_APPLICATIONS_MIRROR (replaces https://storage.googleapis.com/), KERAS_APPLICATIONS_BACKEND.

Exit codes:
  ${EXIT.ok}  success
  ${EXIT.bug}  unexpected error (a bug: the message has a stack trace to report)
  ${EXIT.usage}  the command line is wrong
  ${EXIT.download}  a weights file could not be downloaded (offline, network, hash): the message names the URL
     and the path where you can put the file by hand
  ${EXIT.input}  an input was rejected: an image or weights path that does not exist or cannot be read, or a
     model option the model does not take (e.g. --alpha for ResNet50)
  ${EXIT.weightsFile}  a weights file cannot be read or does not fit the model (download, cache verify: the
     message names the file)
`;

/** A command line we do not understand: reported in one line, with a pointer to --help. */
class UsageError extends Error {}

type Options = ReturnType<typeof parse>['values'];

/** Runs the command for `argv` (the arguments after the program name) and returns its exit code (`EXIT`). */
export async function main(argv: string[], io: CliIO = process): Promise<number> {
  try {
    const { values, positionals } = parse(argv);
    if (values.help) {
      io.stdout.write(USAGE);
      return EXIT.ok;
    }
    if (values.version) {
      io.stdout.write(`${await packageVersion()}\n`);
      return EXIT.ok;
    }
    const [command, ...rest] = positionals;
    if (values.backend !== undefined) selectBackendByName(values.backend);
    switch (command) {
      case 'list':
        if (rest.length > 1) throw new UsageError(`'list' takes at most one pattern. Received: ${rest.join(' ')}`);
        io.stdout.write(await list(rest[0], values));
        return EXIT.ok;
      case 'classify':
        io.stdout.write(await classify(rest, values));
        return EXIT.ok;
      case 'features':
        io.stdout.write(await features(rest, values));
        return EXIT.ok;
      case 'summary':
        if (rest.length !== 1) throw new UsageError(`'summary' takes one model name. Received: ${rest.join(' ') || 'none'}`);
        io.stdout.write(await summary(rest[0]!, values));
        return EXIT.ok;
      case 'download':
        return await download(rest, values, io);
      case 'cache':
        return await cache(rest, values, io);
      default:
        throw new UsageError(command === undefined ? 'no command given' : `unknown command '${command}'`);
    }
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIO): number {
  if (error instanceof UsageError) {
    io.stderr.write(`error: ${error.message}\nSee 'keras-applications --help'.\n`);
    return EXIT.usage;
  }
  // Our own errors carry a complete message; anything else is a bug, whose stack helps.
  const detail = error instanceof KerasApplicationsError ? error.message : error instanceof Error ? error.stack : String(error);
  io.stderr.write(`error: ${detail}\n`);
  return exitCode(error);
}

function exitCode(error: unknown): number {
  if (error instanceof DownloadError) return EXIT.download;
  if (error instanceof WeightsFileError || error instanceof WeightsMismatchError) return EXIT.weightsFile;
  if (error instanceof ArgumentError) return EXIT.input;
  return EXIT.bug;
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string', default: 'ResNet50' },
        labels: { type: 'string' },
        preprocess: { type: 'string' },
        top: { type: 'string', default: '5' },
        weights: { type: 'string' },
        layer: { type: 'string', multiple: true },
        'no-top': { type: 'boolean', default: false },
        pooling: { type: 'string' },
        'input-size': { type: 'string' },
        alpha: { type: 'string' },
        option: { type: 'string', multiple: true },
        variant: { type: 'string', default: 'top' },
        cached: { type: 'boolean', default: false },
        backend: { type: 'string' },
        device: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function packageVersion(): Promise<string> {
  // src/cli.ts and the built dist/cli.js both sit one folder below package.json.
  const text = await readFile(new URL('../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

function selectBackendByName(backend: string): void {
  if (!BACKENDS.includes(backend)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}. Received: ${backend}`);
  process.env[BACKEND_ENV_VAR] = backend;
}

// ---- list ---------------------------------------------------------------------------------

/**
 * The Keras documentation's table (keras.io/api/applications) for the models `pattern` matches (a
 * case-insensitive wildcard, as timm's `list_models`); with `--cached`, only those with cached files.
 */
async function list(pattern: string | undefined, options: Options): Promise<string> {
  const matches = pattern === undefined ? () => true : wildcard(pattern);
  const cached = options.cached ? await cachedVariants() : undefined;
  const names = MODEL_NAMES.filter((name) => matches(name) && (!cached || cached.has(name)));
  const rows = names.map((name) => {
    const entry: AnyApplicationEntry = applications[name];
    const figures = entry.kind === 'image' ? entry.metadata : undefined;
    return {
      model: name,
      sizeMB: figures?.sizeMB ?? null,
      top1: figures?.top1 ?? null,
      top5: figures?.top5 ?? null,
      parameters: entry.metadata.parameters,
      depth: figures?.depth ?? null,
      input: entry.kind === 'image' ? `${entry.defaultSize}×${entry.defaultSize}` : `${entry.inputShape.join('×')} mel`,
      preprocessing: entry.preprocessing,
      ...(cached && { cached: cached.get(name)! }),
    };
  });
  if (options.json) return `${JSON.stringify(rows, null, 2)}\n`;
  const or = <T>(value: T | null, show: (v: T) => string) => (value === null ? '—' : show(value));
  return table(
    ['Model', 'Size (MB)', 'Top-1 Accuracy', 'Top-5 Accuracy', 'Parameters', 'Depth', 'Input', ...(cached ? ['Cached'] : [])],
    rows.map((r) => [
      r.model,
      or(r.sizeMB, String),
      or(r.top1, (v) => percent(v, 1)),
      or(r.top5, (v) => percent(v, 1)),
      `${(r.parameters / 1e6).toFixed(1)}M`,
      or(r.depth, String),
      r.input,
      ...(r.cached ? [r.cached.join(', ')] : []),
    ]),
    [false, true, true, true, true, true, false, false],
  );
}

/** fnmatch's rules: `*`, `?`, `[abc]`, `[!abc]`; case-insensitive. */
function wildcard(pattern: string): (name: string) => boolean {
  const source = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.')
    .replaceAll('[!', '[^');
  try {
    const regex = new RegExp(`^${source}$`, 'i');
    return (name) => regex.test(name);
  } catch {
    throw new UsageError(`the pattern must be a wildcard pattern such as '*resnet*'. Received: ${pattern}`);
  }
}

/** The models with official files in the cache, and the names of those files. */
async function cachedVariants(): Promise<Map<string, string[]>> {
  const byModel = new Map<string, string[]>();
  for (const { name } of await cachedFiles(false)) {
    const official = OFFICIAL_FILES.find((file) => file.fileName === name);
    if (official) byModel.set(official.model, [...(byModel.get(official.model) ?? []), name]);
  }
  return byModel;
}

// ---- classify -----------------------------------------------------------------------------

async function classify(inputs: string[], options: Options): Promise<string> {
  if (inputs.length === 0) throw new UsageError("'classify' needs at least one image");
  const top = Number(options.top);
  if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top must be a positive integer. Received: ${options.top}`);
  if (isModelFile(options.model)) return classifyWithModelFile(inputs, options.model, top, options);
  if (options.labels !== undefined || options.preprocess !== undefined) {
    throw new UsageError(`--labels and --preprocess are for a model file (--model my_model.keras); ${options.model} classifies into ImageNet's classes`);
  }
  const model = modelName(options.model);
  const weights = weightsOption(options);
  const modelOptions = builderOptions(applications[model], options);
  const device = deviceOption(options.device);
  if (applications[model].kind === 'audio') {
    const tags = await classifyInputs(inputs, { model: 'MusicTaggerCRNN', top, weights, modelOptions, device });
    const results = tags.map((t, i) => ({ clip: inputs[i]!, tags: t }));
    if (options.json) return `${JSON.stringify({ model, results }, null, 2)}\n`;
    return results.map(({ clip, tags }) => report(`${clip} (${model})`, 'Tag', tags.map((t) => [t.tag, t.score]))).join('\n');
  }
  const predictions = await classifyInputs(inputs, { model, top, weights, modelOptions, device });
  const results = predictions.map((p, i) => ({ image: inputs[i]!, predictions: p }));
  if (options.json) return `${JSON.stringify({ model, results }, null, 2)}\n`;
  return results
    .map(({ image, predictions }) => report(`${image} (${model})`, 'Class', predictions.map((p) => [p.className, p.probability])))
    .join('\n');
}

/** `classify --model my_model.keras --labels labels.txt [--preprocess <mode>]`. */
async function classifyWithModelFile(inputs: string[], file: string, top: number, options: Options): Promise<string> {
  const builderOnly = (['weights', 'alpha', 'input-size', 'option'] as const).filter((name) => options[name] !== undefined);
  if (builderOnly.length > 0) {
    throw new UsageError(`--${builderOnly[0]} is for the models 'list' shows; a model file holds its own architecture and weights`);
  }
  if (options.labels === undefined) {
    throw new UsageError("--labels <file> is required with a model file: the model's class names, one per line in the order of its output");
  }
  const preprocess = options.preprocess as PreprocessMode | undefined;
  if (preprocess !== undefined && !MODE_NAMES.includes(preprocess)) {
    throw new UsageError(`--preprocess must be one of ${MODE_NAMES.join(', ')}. Received: ${preprocess}`);
  }
  const text = await readRegularFile(options.labels, {
    maxBytes: LABELS_MAX_BYTES,
    fail: (why) => new ArgumentError(`Cannot read the labels file ${options.labels}: ${why}`),
  });
  const labels = new TextDecoder().decode(text).split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const device = deviceOption(options.device);
  const classifier = await loadFileClassifier(file, {}, device);
  if (preprocess === undefined && classifier.nestedMode === undefined) {
    throw new UsageError(
      `--preprocess is required: ${file} holds no keras.applications model to take the preprocessing from; give the mode its ` +
        `images were preprocessed with in training (${MODE_NAMES.join(', ')})`,
    );
  }
  if (labels.length !== classifier.classes) {
    throw new UsageError(`--labels ${options.labels} names ${labels.length} classes, but the output of ${file} has ${classifier.classes}`);
  }
  const predictions = await classifyInputs(inputs, { model: file, labels, preprocess, top, device });
  const results = predictions.map((p, i) => ({ image: inputs[i]!, predictions: p }));
  if (options.json) return `${JSON.stringify({ model: file, results }, null, 2)}\n`;
  return results.map(({ image, predictions }) => report(`${image} (${file})`, 'Class', predictions.map((p) => [p.className, p.probability]))).join('\n');
}

/** A labels file is a short text: one class name per line. */
const LABELS_MAX_BYTES = 16 * 2 ** 20;

/** A titled table of ranked labels with their scores as percentages. */
function report(title: string, labelHeader: string, ranked: [string, number][]): string {
  const rows = ranked.map(([label, score], rank) => [String(rank + 1), label, percent(score, 2)]);
  return `${title}\n${table(['#', labelHeader, labelHeader === 'Class' ? 'Probability' : 'Score'], rows, [true, false, true])}`;
}

/** `--weights`: undefined (the official file), null for 'none', else a path or URL. */
function weightsOption(options: Options): string | null | undefined {
  return options.weights === 'none' ? null : options.weights;
}

// ---- features -----------------------------------------------------------------------------

/** Values printed per output without --json. */
const PREVIEW_VALUES = 5;

async function features(images: string[], options: Options): Promise<string> {
  if (images.length === 0) throw new UsageError("'features' needs at least one image");
  const entry = imageModel(options.model, 'features');
  const layers = options.layer;
  // The size the images are loaded at, given to the builder too: MobileNet's "inputShape is undefined" warning
  // then only comes where it means something (a size Keras publishes no weights for).
  const modelOptions = { inputShape: [entry.defaultSize, entry.defaultSize, 3] as InputShape, ...builderOptions(entry, options) };
  const batch = await preparedImageBatch(images, entry, { inputShape: modelOptions.inputShape });
  let model: tfl.LayersModel | undefined;
  try {
    const weights = weightsOption(options);
    // Without --layer: Keras's feature-vector recipe, the model without its top, average-pooled.
    model = await entry.build(
      layers && (await needsTop(entry, layers, modelOptions, weights))
        ? { ...modelOptions, weights }
        : { ...modelOptions, weights, includeTop: false, pooling: layers ? undefined : 'avg' },
    );
    const outputs = featureExtractor(model, layers ?? [model.outputs[0]!.sourceLayer.name]).extract(batch);
    const byLayer = await Promise.all(
      Object.entries(outputs).map(async ([layer, output]) => ({ layer, shape: output.shape.slice(1), data: await output.data() })),
    );
    const results = images.map((image, i) => ({
      image,
      features: Object.fromEntries(
        byLayer.map(({ layer, shape, data }) => {
          const size = data.length / images.length;
          return [layer, { shape, values: Array.from(data.subarray(i * size, (i + 1) * size)) }];
        }),
      ),
    }));
    tf.dispose(Object.values(outputs));
    if (options.json) return `${JSON.stringify({ model: entry.kerasName, results })}\n`;
    return results
      .map(({ image, features: found }) =>
        [`${image} (${entry.kerasName})`, ...Object.entries(found).map(([layer, { shape, values }]) => featureLine(layer, shape, values))].join('\n'),
      )
      .join('\n\n')
      .concat('\n');
  } finally {
    // The extractor shares the model's weights: disposing the model frees them.
    tf.dispose(batch);
    model?.dispose();
  }
}

/**
 * Whether reading `layers` needs the model with its top: only when one of them is not in the model without it
 * (whose official file is smaller: VGG16's 58 MB instead of 528 MB). A file of the user's is read as given.
 */
async function needsTop(entry: ApplicationEntry, layers: string[], modelOptions: object, weights: string | null | undefined): Promise<boolean> {
  if (typeof weights === 'string') return true;
  const structure = await entry.build({ ...modelOptions, weights: null, includeTop: false });
  try {
    const names = new Set(structure.layers.map((layer) => layer.name));
    return !layers.every((layer) => names.has(layer));
  } finally {
    structure.dispose();
  }
}

/** One output: its shape, summary statistics and first values. */
function featureLine(layer: string, shape: number[], values: number[]): string {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  const [min, max] = values.reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);
  const first = values.slice(0, PREVIEW_VALUES).map(number).join(', ');
  const more = values.length > PREVIEW_VALUES ? ', …' : '';
  return `  ${layer}  [${shape.join(', ')}]  mean ${number(mean)}  std ${number(std)}  min ${number(min)}  max ${number(max)}  [${first}${more}]`;
}

function number(value: number): string {
  return Number(value.toPrecision(4)).toString();
}

// ---- summary ------------------------------------------------------------------------------

async function summary(name: string, options: Options): Promise<string> {
  const entry: AnyApplicationEntry = applications[modelName(name)];
  const includeTop = !options['no-top'];
  if (includeTop && (options.pooling !== undefined || options['input-size'] !== undefined)) {
    throw new UsageError('--pooling and --input-size need --no-top (with the top the input size is fixed)');
  }
  const modelOptions = builderOptions(entry, options);
  // The structure does not depend on the weights, so nothing is downloaded.
  const model =
    entry.kind === 'audio'
      ? await entry.build({ weights: null, includeTop })
      : await entry.build({ ...modelOptions, weights: null, includeTop, pooling: poolingOption(options.pooling) });
  try {
    return modelSummary(model);
  } finally {
    model.dispose();
  }
}

function poolingOption(pooling: string | undefined): 'avg' | 'max' | undefined {
  if (pooling === undefined || pooling === 'avg' || pooling === 'max') return pooling;
  throw new UsageError(`--pooling must be avg or max. Received: ${pooling}`);
}

/**
 * The builder's own options on the command line: `--alpha`, `--input-size` and `--option name=value`, as far as the
 * command line can check them; the builder checks the rest (an unknown name or a bad value is its ArgumentError).
 */
function builderOptions(entry: AnyApplicationEntry, options: Options): { alpha?: number; inputShape?: InputShape } & Record<string, unknown> {
  const extras = Object.fromEntries((options.option ?? []).map(namedOption));
  if (entry.kind === 'audio') {
    if (options.alpha === undefined && options['input-size'] === undefined) return extras;
    throw new UsageError(`--alpha and --input-size are for image models. Received: --model ${entry.kerasName}`);
  }
  return {
    ...extras,
    ...(options.alpha !== undefined && { alpha: alphaOption(options.alpha) }),
    ...(options['input-size'] !== undefined && { inputShape: inputShapeOption(entry, options['input-size']) }),
  };
}

/** Builder options the command line sets from its own flags, so `--option` may not. */
const COMMAND_LINE_OPTIONS: Record<string, string> = {
  alpha: 'use --alpha',
  inputShape: 'use --input-size',
  weights: 'use --weights',
  includeTop: "use --no-top with 'summary'",
  pooling: "use --pooling with 'summary'",
  classes: 'the classifiers have 1000 ImageNet classes',
  classifierActivation: 'the classifiers end with softmax',
  inputTensor: 'not a command-line value',
};

/** `--option name=value`: the value as JSON where it parses (true, 0.5, [1, 2]), else as text. */
function namedOption(option: string): [string, unknown] {
  const match = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/s.exec(option);
  if (!match) throw new UsageError(`--option must be <name>=<value>, e.g. minimalistic=true. Received: ${option}`);
  const [, name, text] = match as unknown as [string, string, string];
  const own = COMMAND_LINE_OPTIONS[name];
  if (own) throw new UsageError(`--option ${name}=…: the command line sets ${name} itself (${own})`);
  try {
    return [name, JSON.parse(text)];
  } catch {
    return [name, text];
  }
}

function deviceOption(device: string | undefined): DeviceChoice | undefined {
  if (device === undefined || (DEVICES as readonly string[]).includes(device)) return device as DeviceChoice | undefined;
  throw new UsageError(`--device must be one of ${DEVICES.join(', ')}. Received: ${device}`);
}

function alphaOption(alpha: string): number {
  const value = Number(alpha);
  if (alpha.trim() === '' || !Number.isFinite(value) || value <= 0) throw new UsageError(`--alpha must be a positive number, e.g. 0.25. Received: ${alpha}`);
  return value;
}

/** `<n>` (square) or `<height>x<width>`, each at least the model's minimum. */
function inputShapeOption(entry: ApplicationEntry, size: string): InputShape {
  const match = /^(\d+)(?:x(\d+))?$/.exec(size);
  if (!match) throw new UsageError(`--input-size must be <size> or <height>x<width>, e.g. 128 or 128x160. Received: ${size}`);
  const [height, width] = [Number(match[1]), Number(match[2] ?? match[1])];
  if (Math.min(height, width) < entry.minSize) {
    throw new UsageError(`--input-size must be at least ${entry.minSize}x${entry.minSize} for ${entry.kerasName}. Received: ${size}`);
  }
  return [height, width, 3];
}

/** Keras's `model.summary()`: one row per layer, then the parameter totals with their float32 size. */
function modelSummary(model: tfl.LayersModel): string {
  const rows = model.layers.map((layer) => {
    const shape = layer.outputShape;
    const shapes = (Array.isArray(shape[0]) ? shape : [shape]) as (number | null)[][];
    const node = layer.inboundNodes.at(-1)!;
    const inbound = node.inboundLayers.map((source, i) => `${source.name}[${node.nodeIndices[i]}][${node.tensorIndices[i]}]`);
    return [
      `${layer.name} (${layer.getClassName()})`,
      shapes.map((s) => `(${s.map((d) => d ?? 'None').join(', ')})`).join(', '),
      layer.countParams().toLocaleString('en-US'),
      inbound.length > 0 ? inbound.join(', ') : '-',
    ];
  });
  const count = (weights: tfl.LayerVariable[]) => weights.reduce((sum, w) => sum + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
  const trainable = count(model.trainableWeights);
  const nonTrainable = count(model.nonTrainableWeights);
  const body = table(['Layer (type)', 'Output Shape', 'Param #', 'Connected to'], rows, [false, false, true, false]);
  const [header, ...lines] = body.trimEnd().split('\n');
  const rule = (char: string) => char.repeat(Math.max(...body.split('\n').map((line) => line.length)));
  const total = (label: string, n: number) => `${label}: ${n.toLocaleString('en-US')} (${memorySize(n * 4)})`;
  return [
    `Model: "${model.name}"`,
    rule('_'),
    header,
    rule('='),
    ...lines,
    rule('='),
    total('Total params', trainable + nonTrainable),
    total('Trainable params', trainable),
    total('Non-trainable params', nonTrainable),
    rule('_'),
    '',
  ].join('\n');
}

/** Keras's `readable_memory_size`: 1024-based units, two decimals. */
function memorySize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(2)} ${units[unit]}`;
}

// ---- download -----------------------------------------------------------------------------

async function download(names: string[], options: Options, io: CliIO): Promise<number> {
  if (names.length === 0) throw new UsageError("'download' needs at least one model name");
  if (!VARIANTS.includes(options.variant)) throw new UsageError(`--variant must be one of ${VARIANTS.join(', ')}. Received: ${options.variant}`);
  const entries = names.map((name) => applications[modelName(name)] as AnyApplicationEntry);
  const asked = downloadOptions(options);
  // Every file is looked up before the first download.
  const wanted = entries.flatMap((entry) =>
    (options.variant === 'all' ? [true, false] : [options.variant === 'top']).map((includeTop) => {
      const variant = includeTop ? 'top' : 'notop';
      const official = officialFileFor(entry.kerasName, includeTop, asked);
      if (!official && (asked.alpha !== undefined || asked.rows !== undefined)) {
        throw new ArgumentError(`Keras publishes no '${variant}' file for ${entry.kerasName} with ${downloadFlags(options)}`);
      }
      return { entry, variant, official };
    }),
  );
  const failures: number[] = [];
  for (const { entry, variant, official } of wanted) {
    if (!official) {
      io.stderr.write(`${entry.kerasName}: Keras publishes no '${variant}' file; skipped\n`);
      continue;
    }
    try {
      // In Node an official file always resolves to its path in the cache.
      const path = (await resolveWeightsFile(official, { onProgress: progressLines(official.fileName, io) })) as string;
      // Keras publishes no hash for some files (MobileNet): a mirror's wrong file would pass unnoticed. A file
      // with a hash is what Keras published, so its shapes (VGG16: 528 MB read, 138M weights built) are not checked.
      const problem = official.hash ? undefined : await fitProblem(path, official);
      if (problem) {
        throw new WeightsMismatchError(
          `The file ${path} is not ${official.fileName}: ${problem}. Remove it ('keras-applications cache remove ${official.fileName}') and download it again`,
        );
      }
      io.stdout.write(`${entry.kerasName}\t${variant}\t${path}\n`);
    } catch (error) {
      // One file that cannot be had does not stop the others.
      if (!(error instanceof DownloadError || error instanceof WeightsFileError || error instanceof WeightsMismatchError)) throw error;
      failures.push(exitCode(error));
      io.stderr.write(`error: ${entry.kerasName} (${variant}): ${error.message}\n`);
    }
  }
  return failures[0] ?? EXIT.ok;
}

/** `--alpha` and a square `--input-size`, which pick among MobileNet's files. */
function downloadOptions(options: Options): { alpha?: number; rows?: number } {
  const size = options['input-size'];
  const match = size === undefined ? undefined : /^(\d+)(?:x\1)?$/.exec(size);
  if (size !== undefined && !match) throw new UsageError(`download: --input-size must be one square size, e.g. 128. Received: ${size}`);
  return {
    ...(options.alpha !== undefined && { alpha: alphaOption(options.alpha) }),
    ...(match && { rows: Number(match[1]) }),
  };
}

function downloadFlags(options: Options): string {
  return [options.alpha !== undefined && `--alpha ${options.alpha}`, options['input-size'] !== undefined && `--input-size ${options['input-size']}`]
    .filter(Boolean)
    .join(' ');
}

// ---- cache --------------------------------------------------------------------------------

async function cache(args: string[], options: Options, io: CliIO): Promise<number> {
  const [action, ...targets] = args;
  if (action === 'remove') return removeFromCache(targets, io);
  if (action !== 'list' && action !== 'verify') {
    throw new UsageError(`'cache' takes list, verify or remove. Received: ${action ?? 'nothing'}`);
  }
  if (targets.length > 0) throw new UsageError(`'cache ${action}' takes no arguments. Received: ${targets.join(' ')}`);
  const files = await cachedFiles(true);
  const bad = files.filter((file) => file.problem !== undefined);
  if (action === 'verify') for (const file of bad) io.stderr.write(`error: ${file.path}: ${file.problem}\n`);
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ folder: cacheFolder(), files }, null, 2)}\n`);
  } else if (action === 'list') {
    const rows = files.map((file) => {
      const official = OFFICIAL_FILES.find((candidate) => candidate.fileName === file.name);
      const verdict = file.check === 'none' ? 'not checked' : file.problem === undefined ? 'ok' : `BAD: ${file.problem}`;
      return [file.name, (file.bytes / 1e6).toFixed(1), official ? describeConfiguration(official) : '—', file.check, verdict];
    });
    io.stdout.write(`${cacheFolder()}\n${table(['File', 'Size (MB)', 'For', 'Check', 'Verifies'], rows, [false, true, false, false, false])}`);
  } else {
    const unchecked = files.filter((file) => file.check === 'none').length;
    io.stdout.write(`${cacheFolder()}: ${files.length - bad.length - unchecked} verified, ${bad.length} bad, ${unchecked} not checked\n`);
  }
  return action === 'verify' && bad.length > 0 ? EXIT.weightsFile : EXIT.ok;
}

/** Deletes the named cached files, or a model's; only ever files directly in the cache folder. */
async function removeFromCache(targets: string[], io: CliIO): Promise<number> {
  if (targets.length === 0) throw new UsageError("'cache remove' needs a model name or a cached file's name");
  // Every target is checked before the first file goes.
  const chosen = [];
  for (const target of targets) {
    const model = MODEL_NAMES.find((known) => known.toLowerCase() === target.toLowerCase());
    const files = await filesToRemove(target, model);
    if (files.length === 0) io.stderr.write(`${model}: no cached files\n`);
    chosen.push(...files);
  }
  for (const file of chosen) {
    await unlink(file.path);
    io.stdout.write(`removed ${file.path}\n`);
  }
  return EXIT.ok;
}

/**
 * Undefined when stderr is the terminal (`getFile` then draws its own bar); otherwise a line at every
 * quarter of the file, which reads well in logs.
 */
function progressLines(fileName: string, io: CliIO): ((progress: DownloadProgress) => void) | undefined {
  if (io.stderr === process.stderr && process.stderr.isTTY) return undefined;
  let shown = -1;
  return ({ received, total }) => {
    const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
    const quarter = total ? Math.floor((4 * received) / total) : -1;
    if (total && quarter > shown) {
      shown = quarter;
      io.stderr.write(`${fileName}: ${quarter * 25}% (${mb(received)}/${mb(total)} MB)\n`);
    }
  };
}

// ---- shared -------------------------------------------------------------------------------

/** The registry name for `name`, in any letter case. */
function modelName(name: string): ApplicationName {
  const found = MODEL_NAMES.find((known) => known.toLowerCase() === name.toLowerCase());
  if (found) return found;
  const suggestions = closestNames(name);
  const hint = suggestions.length > 0 ? ` Did you mean ${suggestions.join(', ')}?` : '';
  throw new UsageError(`unknown model '${name}'.${hint} ('keras-applications list' shows them all)`);
}

/** Up to three registry names nearest to `name` in edit distance (letter case ignored), if reasonably near. */
function closestNames(name: string): string[] {
  const scored = MODEL_NAMES.map((known) => ({ known, distance: editDistance(name.toLowerCase(), known.toLowerCase()) }));
  const limit = Math.max(2, Math.floor(name.length / 3));
  return scored
    .filter(({ distance }) => distance <= limit)
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 3)
    .map(({ known }) => known);
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function imageModel(name: string, command: string): ApplicationEntry {
  const entry: AnyApplicationEntry = applications[modelName(name)];
  if (entry.kind !== 'image') throw new UsageError(`'${command}' needs an image model. Received: --model ${entry.kerasName}`);
  return entry;
}

function percent(fraction: number, digits: number): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** Columns padded to their widest cell; `alignRight` per column. */
function table(header: string[], rows: string[][], alignRight: boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (alignRight[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/** True when Node runs this file as the program (also through npm's bin symlink), not as an import. */
function isProgram(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) {
  // Ctrl-C or a kill during a download: remove its part files, then end as the signal would have (130, 143).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void removePartsInProgress().finally(() => process.exit(128 + constants.signals[signal]));
    });
  }
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
