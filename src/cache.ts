// The Keras weights cache as the command line shows it: which official file each cached file is, whether it
// verifies, and whether a weights file fits the model variant it is named for. Node only.
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applications, type AnyApplicationEntry } from './applications/registry';
import { pythonFloat } from './applications/mobilenet-common';
import { publishedFiles, type OfficialFile } from './applications/official-weights';
import { ArgumentError, WeightsFileError } from './errors';
import { defaultCacheDir } from './weights/download';
import { readWeightsFileDeferred } from './weights/h5';
import { fileProblem, hashAlgorithm } from './weights/hash';
import type { WeightsFile } from './weights/types';

/** The manifest's files and those of the models it does not list (MusicTaggerCRNN), one row per file name. */
export const OFFICIAL_FILES: readonly OfficialFile[] = (() => {
  const files = publishedFiles();
  for (const [model, entry] of Object.entries(applications) as [string, AnyApplicationEntry][]) {
    for (const [includeTop, ref] of [[true, entry.weights.top], [false, entry.weights.notop]] as const) {
      if (ref && !files.some((file) => file.fileName === ref.fileName)) files.push({ ...ref, model, includeTop, shapeOptions: {} });
    }
  }
  return files;
})();

/** How a configuration reads in messages: `MobileNet(alpha=0.25) without its top`. */
export function describeConfiguration(file: Pick<OfficialFile, 'model' | 'includeTop' | 'shapeOptions'>): string {
  const { alpha, minimalistic } = file.shapeOptions;
  const args = [...(alpha !== undefined ? [`alpha=${pythonFloat(alpha)}`] : []), ...(minimalistic ? ['minimalistic'] : [])];
  return `${file.model}${args.length > 0 ? `(${args.join(', ')})` : ''} ${file.includeTop ? 'with' : 'without'} its top`;
}

/** The cache folder Keras downloads weights into: $KERAS_HOME/models or ~/.keras/models. */
export function cacheFolder(): string {
  return path.resolve(defaultCacheDir(), 'models');
}

/**
 * The official file of `model` for `includeTop` and the width and input size asked for (defaults: the
 * registry's file); undefined where Keras publishes none.
 */
export function officialFileFor(model: string, includeTop: boolean, asked: { alpha?: number; rows?: number }): OfficialFile | undefined {
  const entry = (applications as Record<string, AnyApplicationEntry>)[model]!;
  const candidates = OFFICIAL_FILES.filter((file) => file.model === model && file.includeTop === includeTop && !file.shapeOptions.minimalistic);
  if (asked.alpha === undefined && asked.rows === undefined) {
    const ref = includeTop ? entry.weights.top : entry.weights.notop;
    return candidates.find((file) => file.fileName === ref?.fileName);
  }
  const rows = asked.rows ?? (entry.kind === 'image' ? entry.defaultSize : undefined);
  return candidates.find((file) => (file.shapeOptions.alpha ?? 1) === (asked.alpha ?? 1) && (file.rows === undefined || file.rows === rows));
}

// ---- does a file fit its model ------------------------------------------------------------

/** The weights' shapes layer by layer (those with weights, in order: Keras's legacy loading rule). */
type ShapeList = number[][][];

function fileShapes(file: WeightsFile): ShapeList {
  return file.layers.filter((layer) => layer.weights.length > 0).map((layer) => layer.weights.map((w) => w.shape));
}

async function modelShapes(configuration: OfficialFile): Promise<ShapeList | undefined> {
  const entry = (applications as Record<string, AnyApplicationEntry>)[configuration.model];
  if (!entry) return undefined;
  // The structure only: no file is read, and no input size changes a weight's shape.
  const build = entry.build as (options: object) => Promise<tfl.LayersModel>;
  const model = await build({ weights: null, includeTop: configuration.includeTop, ...configuration.shapeOptions });
  try {
    return model.layers.filter((layer) => layer.weights.length > 0).map((layer) => layer.weights.map((w) => w.shape as number[]));
  } finally {
    model.dispose();
  }
}

/** The first place where two shape lists part, or undefined when they agree. */
function firstDifference(expected: ShapeList, found: ShapeList): string | undefined {
  const index = expected.findIndex((shapes, i) => JSON.stringify(shapes) !== JSON.stringify(found[i]));
  if (index < 0) return found.length > expected.length ? `it has ${found.length} layers with weights, the model ${expected.length}` : undefined;
  if (found[index] === undefined) return `it has ${found.length} layers with weights, the model ${expected.length}`;
  const show = (shapes: number[][]) => shapes.map((s) => `[${s.join(', ')}]`).join(' ');
  return `weighted layer ${index} has shapes ${show(found[index]!)}, the model's ${show(expected[index]!)}`;
}

/**
 * Why the weights file at `file` does not fit `official`'s model (`it does not fit …; it seems to be …`),
 * naming the configuration whose shapes it has; undefined when it fits (or the model is not in the registry). Reads the file: a WeightsFileError
 * when it is no weights file.
 */
export async function fitProblem(file: string, official: OfficialFile): Promise<string | undefined> {
  const expected = await modelShapes(official);
  if (!expected) return undefined;
  const found = fileShapes(await readWeightsFileDeferred(file));
  const difference = firstDifference(expected, found);
  if (difference === undefined) return undefined;
  const likely = await matchingConfiguration(found, official);
  const guess = likely ? `it seems to be ${describeConfiguration(likely)}` : `it fits no file Keras publishes for ${official.model}`;
  return `it does not fit ${describeConfiguration(official)} (${difference}); ${guess}`;
}

/** The configuration of the same model, among those Keras publishes, whose shapes are `found`. */
async function matchingConfiguration(found: ShapeList, official: OfficialFile): Promise<OfficialFile | undefined> {
  const tried = new Set([describeConfiguration(official)]);
  for (const candidate of OFFICIAL_FILES.filter((file) => file.model === official.model)) {
    const description = describeConfiguration(candidate);
    if (tried.has(description)) continue;
    tried.add(description);
    const shapes = await modelShapes(candidate);
    if (shapes && firstDifference(shapes, found) === undefined) return candidate;
  }
  return undefined;
}

// ---- the cache folder ---------------------------------------------------------------------

export interface CachedFile {
  name: string;
  path: string;
  bytes: number;
  /** How it was checked: `md5`, `sha256`, `HDF5 length and shapes`, `HDF5 length`, or `none` (not a weights file we know). */
  check: string;
  /** Why it is bad; undefined when it verifies. */
  problem?: string;
}

/** The regular files in the cache folder, sorted by name; `verify` checks each (hash, HDF5 length, shapes). */
export async function cachedFiles(verify: boolean): Promise<CachedFile[]> {
  const folder = cacheFolder();
  const names = await readdir(folder).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const files: CachedFile[] = [];
  for (const name of names.sort()) {
    const file = path.join(folder, name);
    const stats = await lstat(file);
    if (!stats.isFile()) continue;
    files.push({ name, path: file, bytes: stats.size, ...(verify ? await verifyCachedFile(file, name) : { check: '' }) });
  }
  return files;
}

/** Keras's hash where it publishes one; else the HDF5 length, and for an official file the shapes of its model. */
async function verifyCachedFile(file: string, name: string): Promise<Pick<CachedFile, 'check' | 'problem'>> {
  const official = OFFICIAL_FILES.find((candidate) => candidate.fileName === name);
  const hash = official?.hash ?? null;
  const isHdf5 = /\.(h5|hdf5)$/i.test(name);
  const check = hash ? hashAlgorithm(hash) : !isHdf5 ? 'none' : official ? 'HDF5 length and shapes' : 'HDF5 length';
  if (check === 'none') return { check };
  const problem = (await fileProblem(file, name, hash)) ?? (official && !hash ? await fitProblem(file, official).catch(unreadable) : undefined);
  return problem === undefined ? { check } : { check, problem };
}

/** A file that passes the length check but cannot be read as weights is bad, not a reason to stop. */
function unreadable(error: unknown): string {
  if (error instanceof WeightsFileError) return error.message;
  throw error;
}

/**
 * The cached files `target` names: a file name in the cache folder, or a model whose official files are
 * there. Never a path: nothing outside the cache folder can be named.
 */
export async function filesToRemove(target: string, model: string | undefined): Promise<CachedFile[]> {
  const present = await cachedFiles(false);
  if (model !== undefined) {
    const names = new Set(OFFICIAL_FILES.filter((file) => file.model === model).map((file) => file.fileName));
    return present.filter((file) => names.has(file.name));
  }
  if (path.basename(target) !== target || target === '.' || target === '..') {
    throw new ArgumentError(`'cache remove' takes a model name or the name of a file in ${cacheFolder()}, not a path. Received: ${target}`);
  }
  const found = present.find((file) => file.name === target);
  if (!found) {
    throw new ArgumentError(`${cacheFolder()} has no file '${target}' (and no model has that name). Its files: ${present.map((f) => f.name).join(', ') || 'none'}`);
  }
  return [found];
}
