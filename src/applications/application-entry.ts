// What the registry knows about an application, declared once in its family file: the registry spreads the
// families' entries into `applications`, and each builder's BuilderSpec is derived from its own entry.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BuilderSpec } from './common';
import type { PreprocessMode } from './imagenet-utils';
import type { PublishedCheckpoint } from './mobilenet-common';
import type { MusicTaggerOptions } from './music-tagger-crnn';
import { officialWeights, type OfficialWeights } from './official-weights';
import type { ApplicationOptions } from './types';

export interface ApplicationMetadata {
  /** Size of the official weights with the top, in MB (Keras docs; absent where Keras publishes none). */
  sizeMB?: number;
  /** ImageNet validation accuracy of the official weights (Keras docs), 0–1; absent where none is published. */
  top1?: number;
  top5?: number;
  /** Parameters with the top (exact, as Keras counts them). */
  parameters: number;
  /** Depth as the Keras docs count it. */
  depth?: number;
  /** The paper the architecture comes from. */
  reference: string;
  /** The other official configurations (alpha, size) with their published accuracy, where Keras lists them. */
  checkpoints?: readonly PublishedCheckpoint[];
}

/** An ImageNet image classifier: every keras.applications builder. */
export interface ApplicationEntry {
  kind: 'image';
  /** The Keras class name, e.g. `'ResNet50'`. */
  kerasName: string;
  /** The Python module it lives in, e.g. `'resnet'`. */
  module: string;
  build: (options?: ApplicationOptions) => Promise<tfl.LayersModel>;
  /** Input height/width of the official weights. */
  defaultSize: number;
  /** Smallest height/width accepted with `includeTop: false`. */
  minSize: number;
  /** Which `preprocessInput` mode the model expects. */
  preprocessing: PreprocessMode;
  weights: OfficialWeights;
  metadata: ApplicationMetadata;
}

/** A music tagger (the first Keras applications' MusicTaggerCRNN): tags a mel-spectrogram of a clip. */
export interface AudioApplicationEntry {
  kind: 'audio';
  kerasName: string;
  module: string;
  build: (options?: MusicTaggerOptions) => Promise<tfl.LayersModel>;
  /** The model's input: `computeMelgram`'s mel bands × frames × 1. */
  inputShape: readonly number[];
  /** `computeMelgram` does all the preprocessing. */
  preprocessing: 'none';
  weights: OfficialWeights;
  metadata: { parameters: number; reference: string; tags: number };
}

export type AnyApplicationEntry = ApplicationEntry | AudioApplicationEntry;

/**
 * One builder as its family declares it. Most builders share the defaults: input 224, at least 32, and the
 * manifest's files listed under the Keras name.
 */
export type ImageApplicationDeclaration = Omit<ApplicationEntry, 'kind' | 'kerasName' | 'defaultSize' | 'minSize' | 'weights'> &
  Partial<Pick<ApplicationEntry, 'defaultSize' | 'minSize' | 'weights'>>;

/** A family's registry entries, keyed by Keras class name in the order declared. */
export function imageApplications<Name extends string>(declarations: Record<Name, ImageApplicationDeclaration>): Record<Name, ApplicationEntry> {
  const entries = Object.entries<ImageApplicationDeclaration>(declarations).map(([kerasName, declared]): [string, ApplicationEntry] => [
    kerasName,
    {
      kind: 'image',
      kerasName,
      module: declared.module,
      build: declared.build,
      defaultSize: declared.defaultSize ?? 224,
      minSize: declared.minSize ?? 32,
      preprocessing: declared.preprocessing,
      metadata: declared.metadata,
      weights: withDocumentedSize(declared.weights ?? officialWeights(kerasName), declared.metadata.sizeMB),
    },
  ]);
  return Object.fromEntries(entries) as Record<Name, ApplicationEntry>;
}

/** The documented size (Keras's table lists the files with the top) on the top file, so that messages can give it. */
function withDocumentedSize(weights: OfficialWeights, sizeMB: number | undefined): OfficialWeights {
  return sizeMB === undefined || !weights.top ? weights : { ...weights, top: { ...weights.top, sizeMB } };
}

/**
 * The BuilderSpec of an entry: its Keras name, sizes and official files, with Keras's default model name (the
 * lower-cased class name unless `overrides` says otherwise) and whatever else differs per call.
 */
export function builderSpec(entry: ApplicationEntry, overrides: Partial<Omit<BuilderSpec, 'kerasName'>> = {}): BuilderSpec {
  return {
    kerasName: entry.kerasName,
    defaultName: entry.kerasName.toLowerCase(),
    defaultSize: entry.defaultSize,
    minSize: entry.minSize,
    officialWeights: entry.weights,
    ...overrides,
  };
}
