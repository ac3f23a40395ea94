// MusicTaggerCRNN (Choi et al. 2016; keunwoochoi/music-auto_tagging-keras, shipped by the first Keras
// applications, fchollet/deep-learning-models `music_tagger_crnn.py`): a convolutional-recurrent network
// tagging a 29.12 s mel-spectrogram with 50 Million Song Dataset tags. Built with Keras 1's semantics,
// which the author's weights were trained with.
import * as tfl from '@tensorflow/tfjs-layers';
import { ensureBackend } from '../backend';
import { isMissingFile } from '../env';
import { ArgumentError } from '../errors';
import { loadWeights, readWeightsSource, type WeightsSource } from '../weights/apply';
import { convertKeras1Weights, isKeras1File, type Keras1Kernels } from '../weights/keras1';
import type { WeightsFile } from '../weights/types';
import type { AudioApplicationEntry } from './application-entry';
import { apply, sourceInputs } from './common';
import { checkOptionNames, formatValue } from '../arguments';
import { resolveWeightsFile, WEIGHTS_DOWNLOAD_OPTION_NAMES } from '../weights/source';
import type { WeightsDownloadOptions, WeightsFileRef } from './official-weights';

/** Mel bands × frames × 1: what `computeMelgram` returns for one clip. */
export const MELGRAM_SHAPE: [number, number, number] = [96, 1366, 1];

/** The deep-learning-models v0.3 release file (TensorFlow kernels, channels-last); published without a hash. */
export const MSD_WEIGHTS: WeightsFileRef = {
  fileName: 'music_tagger_crnn_weights_tf_kernels_tf_dim_ordering.h5',
  url: 'https://github.com/fchollet/deep-learning-models/releases/download/v0.3/music_tagger_crnn_weights_tf_kernels_tf_dim_ordering.h5',
  hash: null,
};

export interface MusicTaggerOptions extends WeightsDownloadOptions {
  /**
   * `'msd'` (the author's weights trained on the Million Song Dataset, downloaded once and cached), `null`
   * (random initialisation), or the path, URL or bytes of a weights file (the author's Keras 1 files, from
   * either backend, or a Keras 2 file of this model). Default `'msd'`.
   */
  weights?: 'msd' | null | WeightsSource;
  /** A symbolic tensor of shape `[batch, 96, 1366, 1]` to use as the input. */
  inputTensor?: tfl.SymbolicTensor;
  /** Whether to end with the 50 sigmoid tag scores; without it the model returns the 32-dim GRU feature. Default `true`. */
  includeTop?: boolean;
  /**
   * The backend a Keras 1 file's kernels were trained for; read from the weight names when not given
   * (see `keras1Kernels`). `'msd'` is always `'tensorflow'`, as its name says.
   */
  kernels?: Keras1Kernels;
  /** The model's name. Default `'music_tagger_crnn'`. */
  name?: string;
}

const KNOWN_OPTIONS = ['weights', 'inputTensor', 'includeTop', 'kernels', 'name', ...WEIGHTS_DOWNLOAD_OPTION_NAMES];

// Keras 1.1+ BatchNormalization default; its ELU's alpha is 1 and GRU's inner activation the hard sigmoid.
const BN_EPSILON = 1e-3;

function checkOptions(options: MusicTaggerOptions): void {
  checkOptionNames('MusicTaggerCRNN', options, KNOWN_OPTIONS);
  const { weights, includeTop, kernels, inputTensor, name } = options;
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    throw new ArgumentError(`\`name\` must be a non-empty string. Received: name=${formatValue(name)}`);
  }
  const isSource =
    weights === undefined || weights === null || typeof weights === 'string' || weights instanceof Uint8Array ||
    weights instanceof ArrayBuffer || (typeof weights === 'object' && Array.isArray((weights as WeightsFile).layers));
  if (!isSource) throw weightsArgumentError(weights);
  if (includeTop !== undefined && typeof includeTop !== 'boolean') {
    throw new ArgumentError(`\`includeTop\` must be true or false. Received: includeTop=${formatValue(includeTop)}`);
  }
  if (kernels !== undefined && kernels !== 'tensorflow' && kernels !== 'theano') {
    throw new ArgumentError(`\`kernels\` must be 'tensorflow' or 'theano'. Received: kernels=${formatValue(kernels)}`);
  }
  if (inputTensor !== undefined && !(inputTensor instanceof tfl.SymbolicTensor)) {
    throw new ArgumentError(
      '`inputTensor` must be a symbolic tensor, e.g. from `tf.input({ shape: [96, 1366, 1] })`. ' +
        `Received: inputTensor=${formatValue(inputTensor)}`,
    );
  }
}

const ZEROS = {
  kernelInitializer: 'zeros',
  biasInitializer: 'zeros',
  recurrentInitializer: 'zeros',
  gammaInitializer: 'zeros',
  betaInitializer: 'zeros',
  movingMeanInitializer: 'zeros',
  movingVarianceInitializer: 'zeros',
} as const;

/**
 * Initialisers of every weighted layer: zeros (cheap) when a file's values follow at once, tfjs's defaults
 * otherwise, but for the GRUs' recurrent kernels: tfjs's orthogonal initialiser needs tfjs-core's chained
 * ops (`tensor.flatten()`), which only the `@tensorflow/tfjs` bundle registers.
 */
function initializers(fromFile: boolean) {
  return fromFile ? ZEROS : { recurrentInitializer: 'glorotUniform' as const };
}

/** The network on `input` (batch × 96 × 1366 × 1); layers keep the names of the author's weights files. */
function musicTaggerBody(input: tfl.SymbolicTensor, includeTop: boolean, fromFile: boolean): tfl.SymbolicTensor {
  const init = initializers(fromFile);
  // Pad the 1366 frames to 1440 = 2·3·4·4·15, so the pools leave 15 steps for the GRUs.
  let x = apply(tfl.layers.zeroPadding2d({ padding: [[0, 0], [37, 37]], name: 'zeropadding2d_1' }), input);
  // Normalises each time frame (axis 2), as the author wrote it (the name says frequency).
  x = apply(tfl.layers.batchNormalization({ axis: 2, epsilon: BN_EPSILON, name: 'bn_0_freq', ...init }), x);
  const blocks: [filters: number, pool: number][] = [[64, 2], [128, 3], [128, 4], [128, 4]];
  blocks.forEach(([filters, pool], i) => {
    const n = i + 1;
    x = apply(tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', name: `conv${n}`, ...init }), x);
    x = apply(tfl.layers.batchNormalization({ axis: 3, epsilon: BN_EPSILON, name: `bn${n}`, ...init }), x);
    x = apply(tfl.layers.elu({ alpha: 1, name: `elu_${n}` }), x);
    x = apply(tfl.layers.maxPooling2d({ poolSize: pool, strides: pool, name: `pool${n}` }), x);
    x = apply(tfl.layers.dropout({ rate: 0.1, name: `dropout${n}` }), x);
  });
  x = apply(tfl.layers.reshape({ targetShape: [15, 128], name: 'reshape_1' }), x);
  // Keras 1's GRU: the reset gate applied before the recurrent matrix (tfjs's only mode), hard-sigmoid gates.
  x = apply(tfl.layers.gru({ units: 32, returnSequences: true, recurrentActivation: 'hardSigmoid', name: 'gru1', ...init }), x);
  x = apply(tfl.layers.gru({ units: 32, recurrentActivation: 'hardSigmoid', name: 'gru2', ...init }), x);
  x = apply(tfl.layers.dropout({ rate: 0.3, name: 'dropout_1' }), x);
  if (!includeTop) return x;
  return apply(tfl.layers.dense({ units: 50, activation: 'sigmoid', name: 'output', ...init }), x);
}

function weightsArgumentError(weights: unknown, why = ''): ArgumentError {
  return new ArgumentError(
    "The `weights` argument should be either `null` (random initialization), 'msd' (pre-training on the Million " +
      `Song Dataset), or the path, URL or bytes of the weights file to be loaded. Received: weights=${formatValue(weights)}${why}`,
  );
}

async function weightsFile(options: MusicTaggerOptions): Promise<WeightsFile | null> {
  const weights = options.weights === undefined ? 'msd' : options.weights;
  if (weights === null) return null;
  // One file serves both: the model without its top leaves the file's 'output' layer unused.
  if (weights === 'msd') return readWeightsSource(await resolveWeightsFile(MSD_WEIGHTS, options));
  if (typeof weights === 'string' && (await isMissingFile(weights))) throw weightsArgumentError(weights, ' (no file exists at that path)');
  return readWeightsSource(weights, options);
}

/** Puts `file` into `model`: Keras 1 files converted to the model's layout first, others by Keras's legacy rule. */
async function applyWeights(model: tfl.LayersModel, file: WeightsFile, options: MusicTaggerOptions, includeTop: boolean): Promise<void> {
  if (!isKeras1File(file)) return loadWeights(model, file);
  const targets = model.layers
    .filter((layer) => layer.weights.length > 0)
    .map((layer) => ({ name: layer.name, shapes: layer.weights.map((w) => w.shape as number[]) }));
  const kernels = options.kernels ?? (options.weights === 'msd' || options.weights === undefined ? 'tensorflow' : undefined);
  await loadWeights(model, convertKeras1Weights(file, targets, { kernels, unused: includeTop ? [] : ['output'] }));
}

/**
 * MusicTaggerCRNN: a batch of mel-spectrograms `[batch, 96, 1366, 1]` (from `computeMelgram`) → 50 tag
 * scores (`decodeMusicTags` names them), or the 32-dim feature with `includeTop: false`.
 */
export async function musicTaggerCRNN(options: MusicTaggerOptions = {}): Promise<tfl.LayersModel> {
  checkOptions(options);
  const includeTop = options.includeTop ?? true;
  await ensureBackend();
  const file = await weightsFile(options);
  const input = options.inputTensor ?? tfl.input({ shape: MELGRAM_SHAPE, name: 'melgram_input' });
  const output = musicTaggerBody(input, includeTop, file !== null);
  const inputs = options.inputTensor ? sourceInputs(options.inputTensor) : [input];
  const model = tfl.model({ inputs, outputs: output, name: options.name ?? 'music_tagger_crnn' });
  if (file) {
    try {
      await applyWeights(model, file, options, includeTop);
    } catch (error) {
      model.dispose();
      throw error;
    }
  }
  return model;
}

/** The registry's entry: the one model that tags audio. */
export const musicTaggerApplications = {
  MusicTaggerCRNN: {
    kind: 'audio',
    kerasName: 'MusicTaggerCRNN',
    module: 'music_tagger_crnn',
    build: musicTaggerCRNN,
    inputShape: MELGRAM_SHAPE,
    preprocessing: 'none',
    weights: { top: MSD_WEIGHTS, notop: MSD_WEIGHTS },
    metadata: {
      parameters: 400_562,
      reference: 'Convolutional Recurrent Neural Networks for Music Classification (Choi, Fazekas, Sandler, Cho, ICASSP 2017)',
      tags: 50,
    },
  },
} satisfies Record<string, AudioApplicationEntry>;
