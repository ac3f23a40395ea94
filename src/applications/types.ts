// The types every builder's options share.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { WeightsSource } from '../weights/apply';
import type { WeightsDownloadOptions } from './official-weights';

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
