// MobileNet (keras/src/applications/mobilenet.py): depthwise separable convolution blocks with ReLU6, a
// width multiplier `alpha`, and a top made of 4-D global pooling, a 1×1 convolution, a reshape and a
// separate activation.
import * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError } from '../errors';
import { builderSpec, imageApplications } from './application-entry';
import { apply, buildApplication, poolingTop, type BuildContext, type BuilderSpec } from './common';
import { formatValue } from '../arguments';
import { obtainInputShape } from './imagenet-utils';
import { type ApplicationOptions } from './types';
import {
  checkImagenetAlpha,
  mobileNetKit,
  officialRows,
  publishedSquareSize,
  pythonFloat,
  validateNumber,
  type MobileNetKit,
  type PublishedCheckpoint,
} from './mobilenet-common';
import { officialWeights, type OfficialWeights } from './official-weights';

export interface MobileNetOptions extends ApplicationOptions {
  /** Width multiplier: scales the filters of every layer. With 'imagenet': 0.25, 0.5, 0.75 or 1.0. Default 1.0. */
  alpha?: number;
  /** Output channels per input channel of each depthwise convolution; 1 with 'imagenet'. Default 1. */
  depthMultiplier?: number;
  /** Dropout rate before the classifier (inactive at inference). Default 0.001. */
  dropout?: number;
}

const EXTRA_OPTIONS = ['alpha', 'depthMultiplier', 'dropout'];
const PUBLISHED_ALPHAS = [0.25, 0.5, 0.75, 1.0];
const PUBLISHED_SIZES = [128, 160, 192, 224];

/**
 * The checkpoints tf-keras's docstring tabulates (widths at 224, sizes at width 1.0; no top-5). Its width table
 * gives 529 M multiply-adds for 1.0 at 224, its size table and the paper 569.
 */
export const MOBILENET_CHECKPOINTS: readonly PublishedCheckpoint[] = [
  { checkpoint: 'mobilenet_1.0_224', alpha: 1.0, size: 224, top1: 0.706, multiplyAddsMillions: 569, parametersMillions: 4.2 },
  { checkpoint: 'mobilenet_0.75_224', alpha: 0.75, size: 224, top1: 0.684, multiplyAddsMillions: 325, parametersMillions: 2.6 },
  { checkpoint: 'mobilenet_0.5_224', alpha: 0.5, size: 224, top1: 0.637, multiplyAddsMillions: 149, parametersMillions: 1.3 },
  { checkpoint: 'mobilenet_0.25_224', alpha: 0.25, size: 224, top1: 0.506, multiplyAddsMillions: 41, parametersMillions: 0.5 },
  { checkpoint: 'mobilenet_1.0_192', alpha: 1.0, size: 192, top1: 0.691, multiplyAddsMillions: 418, parametersMillions: 4.2 },
  { checkpoint: 'mobilenet_1.0_160', alpha: 1.0, size: 160, top1: 0.672, multiplyAddsMillions: 290, parametersMillions: 4.2 },
  { checkpoint: 'mobilenet_1.0_128', alpha: 1.0, size: 128, top1: 0.644, multiplyAddsMillions: 186, parametersMillions: 4.2 },
];

/** [pointwise filters, stride] of depthwise separable blocks 1–13. */
const BLOCKS: [number, number][] = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

/** Depthwise 3×3 → BN → ReLU6 → pointwise 1×1 → BN → ReLU6; a stride-2 block pads bottom and right first. */
function depthwiseSeparableBlock(
  k: MobileNetKit,
  x: tfl.SymbolicTensor,
  filters: number,
  depthMultiplier: number,
  stride: number,
  id: number,
): tfl.SymbolicTensor {
  if (stride === 2) x = k.pad(x, [[0, 1], [0, 1]], `conv_pad_${id}`);
  x = k.depthwise(x, 3, `conv_dw_${id}`, { strides: stride, depthMultiplier });
  x = k.relu(k.bn(x, `conv_dw_${id}_bn`), `conv_dw_${id}_relu`, 6);
  x = k.conv(x, filters, 1, `conv_pw_${id}`);
  return k.relu(k.bn(x, `conv_pw_${id}_bn`), `conv_pw_${id}_relu`, 6);
}

function mobilenetBody(alpha: number, depthMultiplier: number, dropout: number) {
  return (input: tfl.SymbolicTensor, context: BuildContext): tfl.SymbolicTensor => {
    const k = mobileNetKit(context, 0.99);
    let x = k.conv(input, Math.trunc(32 * alpha), 3, 'conv1', { strides: 2 });
    x = k.relu(k.bn(x, 'conv1_bn'), 'conv1_relu', 6);
    BLOCKS.forEach(([filters, stride], i) => {
      x = depthwiseSeparableBlock(k, x, Math.trunc(filters * alpha), depthMultiplier, stride, i + 1);
    });
    // Keras leaves the pooling layers unnamed; a fresh process names them so.
    if (!context.includeTop) return poolingTop(x, context, { avg: 'global_average_pooling2d', max: 'global_max_pooling2d' });
    x = k.poolKeepingDims(x, 'global_average_pooling2d');
    x = apply(tfl.layers.dropout({ rate: dropout, name: 'dropout' }), x);
    x = k.conv(x, context.classes, 1, 'conv_preds', { useBias: true });
    x = apply(tfl.layers.reshape({ targetShape: [context.classes], name: 'reshape_2' }), x);
    return k.predictionsActivation(x);
  };
}

/** The official files of width `alpha` at input size `rows`. */
function mobilenetWeights(alpha: number, rows: number): OfficialWeights {
  return officialWeights(`MobileNet(alpha=${pythonFloat(alpha)}, rows=${rows})`);
}

/**
 * Keras's rules for MobileNet's own arguments, and the spec for this call: the default size follows a
 * square published input size, and the official file depends on alpha and that size.
 */
function mobilenetSpec(options: MobileNetOptions, alpha: number, depthMultiplier: number): BuilderSpec {
  const entry = mobilenetApplications.MobileNet;
  const weights = options.weights === undefined ? 'imagenet' : options.weights;
  const given = options.inputShape ?? undefined;
  const defaultSize = publishedSquareSize(given?.[0], given?.[1], PUBLISHED_SIZES);
  const shape = obtainInputShape(given, { defaultSize, minSize: entry.minSize, requireFlatten: options.includeTop ?? true, weights });
  let rows = shape[0];
  let official: OfficialWeights | undefined;
  if (weights === 'imagenet') {
    if (depthMultiplier !== 1) {
      throw new ArgumentError(
        `If imagenet weights are being loaded, \`depthMultiplier\` must be 1. Received: depthMultiplier=${formatValue(depthMultiplier)}`,
      );
    }
    checkImagenetAlpha(alpha, PUBLISHED_ALPHAS);
    rows = officialRows('MobileNet', shape, PUBLISHED_SIZES);
    official = mobilenetWeights(alpha, rows);
  }
  return builderSpec(entry, {
    defaultName: `mobilenet_${alpha.toFixed(2)}_${rows ?? 'None'}`,
    defaultSize,
    extraOptions: EXTRA_OPTIONS,
    officialWeights: official,
  });
}

/**
 * MobileNet (Howard et al., 2017), as `keras.applications.MobileNet`. Default input 224×224×3; ImageNet
 * weights exist for alpha 0.25/0.5/0.75/1.0 at 128, 160, 192 and 224 pixels. Preprocessing: tf (−1…1).
 */
export async function mobilenet(options: MobileNetOptions = {}): Promise<tfl.LayersModel> {
  options ??= {}; // null as no options, as undefined
  const { alpha = 1.0, depthMultiplier = 1, dropout = 1e-3 } = options;
  // Below 1/32 the first convolution would get no filters.
  validateNumber('alpha', alpha, (a) => Math.trunc(32 * a) >= 1, 'a number >= 0.03125 (1/32)');
  validateNumber('depthMultiplier', depthMultiplier, (d) => Number.isInteger(d) && d >= 1, 'an integer >= 1');
  validateNumber('dropout', dropout, (d) => d >= 0 && d <= 1, 'a number between 0 and 1');
  return buildApplication(mobilenetSpec(options, alpha, depthMultiplier), options, mobilenetBody(alpha, depthMultiplier, dropout));
}

/** The registry's MobileNet entry: alpha 1.0 at 224 (figures from keras.io/api/applications). */
export const mobilenetApplications = imageApplications({
  MobileNet: {
    module: 'mobilenet',
    build: mobilenet,
    preprocessing: 'tf',
    weights: mobilenetWeights(1.0, 224),
    metadata: {
      sizeMB: 16,
      top1: 0.704,
      top5: 0.895,
      parameters: 4_253_864,
      depth: 55,
      reference: 'MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications (Howard et al., 2017)',
      checkpoints: MOBILENET_CHECKPOINTS,
    },
  },
});
