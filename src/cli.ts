#!/usr/bin/env node
// The `keras-applications` command: classify images with a pretrained model, list the models.
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  applications,
  preprocessInput,
  type AnyApplicationEntry,
  type ApplicationEntry,
  type ApplicationName,
  type AudioApplicationEntry,
} from './applications/registry';
import { computeMelgram } from './preprocess/melgram';
import { decodeMusicTags } from './preprocess/music-tags';
import { BACKEND_ENV_VAR } from './backend';
import { KerasApplicationsError } from './errors';
import { loadImage } from './preprocess/image';
import { decodePredictions } from './preprocess/imagenet';

/** Where the command writes; `process` by default. */
export interface CliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

const MODEL_NAMES = Object.keys(applications) as ApplicationName[];
const BACKENDS = ['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'];

const USAGE = `Usage:
  keras-applications classify <image...> [options]   top ImageNet classes of JPEG or PNG images
                                                     (music tags of mp3/wav clips with --model MusicTaggerCRNN)
  keras-applications list [--json]                   the models, their input size and accuracy
  keras-applications --help | --version

Options of classify:
  --model <name>     one of the models that 'list' shows (default ResNet50)
  --top <k>          classes shown per image (default 5)
  --weights <w>      'imagenet' (default: the official Keras file, downloaded once into
                     $KERAS_HOME/models or ~/.keras/models; for MusicTaggerCRNN the author's
                     'msd' weights), the path or URL of a Keras .h5 file, or 'none' (random)
  --backend <name>   ${BACKENDS.join(', ')} (default: the fastest one that loads)
  --json             print JSON instead of tables
`;

/** A command line we do not understand: reported with the usage text, exit code 2. */
class UsageError extends Error {}

type Options = ReturnType<typeof parse>['values'];

/**
 * Runs the command for `argv` (the arguments after the program name) and returns its exit code:
 * 0 on success, 1 when the work failed, 2 for a command line we do not understand.
 */
export async function main(argv: string[], io: CliIO = process): Promise<number> {
  try {
    const { values, positionals } = parse(argv);
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (values.version) {
      io.stdout.write(`${await packageVersion()}\n`);
      return 0;
    }
    const [command, ...rest] = positionals;
    if (command === 'list') {
      if (rest.length > 0) throw new UsageError(`'list' takes no arguments. Received: ${rest.join(' ')}`);
      io.stdout.write(list(values.json));
    } else if (command === 'classify') {
      io.stdout.write(await classify(rest, values));
    } else {
      throw new UsageError(command === undefined ? 'no command given' : `unknown command '${command}'`);
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    // Our own errors carry a complete message; anything else is a bug, whose stack helps.
    const detail = error instanceof KerasApplicationsError ? error.message : error instanceof Error ? error.stack : String(error);
    io.stderr.write(`error: ${detail}\n`);
    return 1;
  }
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string', default: 'ResNet50' },
        top: { type: 'string', default: '5' },
        weights: { type: 'string', default: 'imagenet' },
        backend: { type: 'string' },
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

function list(json: boolean): string {
  const rows = MODEL_NAMES.map((name) => {
    const entry: AnyApplicationEntry = applications[name];
    const { preprocessing, metadata } = entry;
    return entry.kind === 'image'
      ? { model: name, inputSize: entry.defaultSize, preprocessing, parameters: metadata.parameters, top1: entry.metadata.top1 }
      : { model: name, inputShape: entry.inputShape, preprocessing, parameters: metadata.parameters };
  });
  if (json) return `${JSON.stringify(rows, null, 2)}\n`;
  return table(
    ['Model', 'Input', 'Preprocessing', 'Parameters', 'Top-1'],
    rows.map((r) => [
      r.model,
      'inputSize' in r ? `${r.inputSize}×${r.inputSize}` : `${r.inputShape.join('×')} mel`,
      r.preprocessing,
      r.parameters.toLocaleString('en-US'),
      'top1' in r && r.top1 !== undefined ? percent(r.top1, 1) : '—',
    ]),
    [false, false, false, true, true],
  );
}

async function classify(images: string[], options: Options): Promise<string> {
  if (images.length === 0) throw new UsageError("'classify' needs at least one image");
  const model = modelName(options.model);
  const top = Number(options.top);
  if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top must be a positive integer. Received: ${options.top}`);
  if (options.backend !== undefined) {
    if (!BACKENDS.includes(options.backend)) {
      throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}. Received: ${options.backend}`);
    }
    process.env[BACKEND_ENV_VAR] = options.backend;
  }
  const entry: AnyApplicationEntry = applications[model];
  const weights = options.weights === 'none' ? null : options.weights;
  if (entry.kind === 'audio') {
    const results = await tagMusic(entry, images, weights, top);
    if (options.json) return `${JSON.stringify({ model, results }, null, 2)}\n`;
    return results.map(({ clip, tags }) => report(`${clip} (${model})`, 'Tag', tags.map((t) => [t.tag, t.score]))).join('\n');
  }
  const results = await classifyImages(entry, images, weights, top);
  if (options.json) return `${JSON.stringify({ model, results }, null, 2)}\n`;
  return results
    .map(({ image, predictions }) => report(`${image} (${model})`, 'Class', predictions.map((p) => [p.className, p.probability])))
    .join('\n');
}

/** A titled table of ranked labels with their scores as percentages. */
function report(title: string, labelHeader: string, ranked: [string, number][]): string {
  const rows = ranked.map(([label, score], rank) => [String(rank + 1), label, percent(score, 2)]);
  return `${title}\n${table(['#', labelHeader, labelHeader === 'Class' ? 'Probability' : 'Score'], rows, [true, false, true])}`;
}

/** Each input through `network`, one at a time, disposing every tensor and then the network. */
function predictEach<T>(network: tfl.LayersModel, inputs: (() => tf.Tensor)[], decode: (scores: tf.Tensor) => T): T[] {
  try {
    return inputs.map((input) => {
      const x = input();
      const scores = network.predict(x) as tf.Tensor;
      const decoded = decode(scores);
      tf.dispose([x, scores]);
      return decoded;
    });
  } finally {
    network.dispose();
  }
}

async function classifyImages(entry: ApplicationEntry, images: string[], weights: string | null | undefined, top: number) {
  // Images first, so that a wrong path fails before a weights download.
  const size = entry.defaultSize;
  const pictures = await Promise.all(images.map((path) => loadImage(path, { targetSize: [size, size] })));
  const network = await entry.build({ weights });
  const predictions = predictEach(
    network,
    pictures.map(({ data, height, width, channels }) => () => tf.tensor4d(preprocessInput(data, entry.kerasName), [1, height, width, channels])),
    (scores) => decodePredictions(scores, top)[0]!,
  );
  return predictions.map((p, i) => ({ image: images[i]!, predictions: p }));
}

async function tagMusic(entry: AudioApplicationEntry, clips: string[], weights: string | null | undefined, top: number) {
  // Clips first, so that a wrong path fails before a weights download.
  const melgrams = await Promise.all(clips.map((path) => computeMelgram(path)));
  const network = await entry.build({ weights: weights === 'imagenet' ? 'msd' : weights });
  const tags = predictEach(
    network,
    melgrams.map((melgram) => () => tf.expandDims(melgram, 0)),
    (scores) => decodeMusicTags(scores, top)[0]!,
  );
  tf.dispose(melgrams);
  return tags.map((t, i) => ({ clip: clips[i]!, tags: t }));
}

/** The registry name for `name`, in any letter case. */
function modelName(name: string): ApplicationName {
  const found = MODEL_NAMES.find((known) => known.toLowerCase() === name.toLowerCase());
  if (!found) throw new UsageError(`unknown model '${name}'. Known: ${MODEL_NAMES.join(', ')}`);
  return found;
}

function percent(fraction: number, digits: number): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** Columns padded to their widest cell; `alignRight` per column. */
function table(header: string[], rows: string[][], alignRight: boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (alignRight[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
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
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
