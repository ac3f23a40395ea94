// Every application, keyed by its Keras class name: each family file declares its own entries (builder, sizes,
// preprocessing, official files, the figures from keras.io/api/applications); this file puts them in the
// order `list` shows them.
import * as tf from '@tensorflow/tfjs-core';
import { formatValue } from '../arguments';
import { ArgumentError } from '../errors';
import type { AnyApplicationEntry } from './application-entry';
import { convNeXtApplications } from './convnext';
import { densenetApplications } from './densenet';
import { efficientNetApplications } from './efficientnet';
import { efficientNetV2Applications } from './efficientnet-v2';
import { preprocessWithMode, type PixelArray, type PreprocessMode } from './imagenet-utils';
import { inceptionResNetV2Applications } from './inception-resnet-v2';
import { inceptionV3Applications } from './inception-v3';
import { mobilenetApplications } from './mobilenet';
import { mobilenetV2Applications } from './mobilenet-v2';
import { mobilenetV3Applications } from './mobilenet-v3';
import { musicTaggerApplications } from './music-tagger-crnn';
import { nasnetApplications } from './nasnet';
import { regnetApplications } from './regnet';
import { resnetApplications } from './resnet';
import { resnetRSApplications } from './resnet-rs';
import { resnextApplications } from './resnext';
import { vggApplications } from './vgg';
import { xceptionApplications } from './xception';

export type { AnyApplicationEntry, ApplicationEntry, ApplicationMetadata, AudioApplicationEntry } from './application-entry';

/** Every application, keyed by its Keras class name. */
export const applications = {
  ...vggApplications,
  ...resnetApplications,
  ...xceptionApplications,
  ...inceptionV3Applications,
  ...inceptionResNetV2Applications,
  ...densenetApplications,
  ...nasnetApplications,
  ...mobilenetApplications,
  ...mobilenetV2Applications,
  ...mobilenetV3Applications,
  ...efficientNetApplications,
  ...efficientNetV2Applications,
  ...convNeXtApplications,
  ...resnextApplications,
  ...regnetApplications,
  ...resnetRSApplications,
  ...musicTaggerApplications,
} satisfies Record<string, AnyApplicationEntry>;

export type ApplicationName = keyof typeof applications;

/** The registry entry for a Keras class name; the error lists the known names. */
export function getApplication(name: string): AnyApplicationEntry {
  const found = (applications as Record<string, AnyApplicationEntry>)[name];
  if (!found) throw new ArgumentError(`Unknown application '${name}'. Known: ${Object.keys(applications).join(', ')}`);
  return found;
}

const MODES: readonly string[] = ['caffe', 'tf', 'torch', 'none'];

/**
 * Keras's `preprocess_input` for a model (`'ResNet50'`) or a mode (`'caffe'`, `'tf'`, `'torch'`, `'none'`).
 * Takes a 3-D/4-D channels-last tensor or flat RGB pixels; returns a new float32 tensor or array and
 * never modifies its input.
 */
export function preprocessInput(x: tf.Tensor, modeOrModelName: PreprocessMode | ApplicationName | string): tf.Tensor;
export function preprocessInput(x: PixelArray, modeOrModelName: PreprocessMode | ApplicationName | string): Float32Array;
export function preprocessInput(x: tf.Tensor | PixelArray, modeOrModelName: string): tf.Tensor | Float32Array {
  if (!MODES.includes(modeOrModelName) && !(applications as Record<string, unknown>)[modeOrModelName]) {
    throw new ArgumentError(
      `\`preprocessInput\` takes a mode (${MODES.map((m) => `'${m}'`).join(', ')}) or a model name ` +
        `(${Object.keys(applications).join(', ')}). Received: ${formatValue(modeOrModelName)}`,
    );
  }
  const mode = MODES.includes(modeOrModelName) ? (modeOrModelName as PreprocessMode) : getApplication(modeOrModelName).preprocessing;
  return x instanceof tf.Tensor ? preprocessWithMode(x, mode) : preprocessWithMode(x, mode);
}
