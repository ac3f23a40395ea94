// The official Keras weight files (names, URLs, hashes) as data; weights/source.ts fetches them.
import manifest from './weights-manifest.json';
import { ArgumentError } from '../errors';
import type { OfficialWeights, WeightsFileRef } from '../weights/types';

export type { OfficialWeights, WeightsFileRef } from '../weights/types';
export type { WeightsDownloadOptions } from '../weights/source';

/** A builder configuration's files with and without the top, as the manifest lists them. */
interface ManifestFiles {
  top_file: string | null;
  top_hash: string | null;
  notop_file: string | null;
  notop_hash: string | null;
}

interface ManifestEntry extends ManifestFiles {
  builder: string;
  base_url: string;
  /** ResNetRS: the files of each training resolution, by the `weights` value that picks them. */
  variants?: (ManifestFiles & { weights_arg: string })[];
}

/** The official file `file` published under `baseUrl`. */
export function fileRef(baseUrl: string, file: string, hash: string | null): WeightsFileRef {
  return { fileName: file, url: baseUrl + file, hash };
}

function manifestEntry(key: string): ManifestEntry {
  const entry = (manifest.weights as ManifestEntry[]).find((w) => w.builder === key);
  if (!entry) throw new Error(`no official weights listed for ${key}`);
  return entry;
}

function officialFiles(baseUrl: string, files: ManifestFiles): OfficialWeights {
  return {
    top: files.top_file === null ? null : fileRef(baseUrl, files.top_file, files.top_hash),
    notop: files.notop_file === null ? null : fileRef(baseUrl, files.notop_file, files.notop_hash),
  };
}

/**
 * The official files for a manifest key: the Keras class name, e.g. `'ResNet50'` (for ResNetRS: the files of
 * its largest training resolution).
 */
export function officialWeights(key: string): OfficialWeights {
  const entry = manifestEntry(key);
  return officialFiles(entry.base_url, entry);
}

/** ResNetRS's files per training resolution, keyed by the `weights` value that picks them (`'imagenet-i160'`). */
export function officialWeightVariants(key: string): Record<string, OfficialWeights> {
  const { base_url: baseUrl, variants = [] } = manifestEntry(key);
  return Object.fromEntries(variants.map((variant) => [variant.weights_arg, officialFiles(baseUrl, variant)]));
}

/** The official file for `includeTop` (`resolveWeightsFile` fetches it); an ArgumentError where Keras publishes none. */
export function officialFile(official: OfficialWeights, includeTop: boolean): WeightsFileRef {
  const ref = includeTop ? official.top : official.notop;
  if (!ref) {
    throw new ArgumentError(
      `No official 'imagenet' weights exist with includeTop=${includeTop}. Received: weights='imagenet', includeTop=${includeTop}`,
    );
  }
  return ref;
}

/** One official file with the model configuration it is for. */
export interface OfficialFile extends WeightsFileRef {
  /** The registry name, e.g. `'MobileNet'`. */
  model: string;
  includeTop: boolean;
  /** The builder options that change the weights' shapes (MobileNet's width, MobileNetV3's minimalistic). */
  shapeOptions: { alpha?: number; minimalistic?: boolean };
  /** The input size the file was trained at, where Keras publishes one file per size (MobileNet, V2). */
  rows?: number;
}

/** Every file the manifest lists, with the configuration its builder key says, e.g. `MobileNet(alpha=0.25, rows=224)`. */
export function publishedFiles(): OfficialFile[] {
  return (manifest.weights as ManifestEntry[]).flatMap((entry) => {
    const [, model, args = ''] = /^(\w+)(?:\((.*)\))?$/.exec(entry.builder)!;
    const settings = Object.fromEntries(args.split(', ').filter(Boolean).map((arg) => arg.split('=') as [string, string]));
    const shapeOptions = {
      ...(settings.alpha !== undefined && { alpha: Number(settings.alpha) }),
      ...(settings.minimalistic === 'True' && { minimalistic: true }),
    };
    const configuration = { model: model!, shapeOptions, ...(settings.rows !== undefined && { rows: Number(settings.rows) }) };
    return [entry, ...(entry.variants ?? [])].flatMap((files) => {
      const { top, notop } = officialFiles(entry.base_url, files);
      return [
        ...(top ? [{ ...top, includeTop: true, ...configuration }] : []),
        ...(notop ? [{ ...notop, includeTop: false, ...configuration }] : []),
      ];
    });
  });
}
