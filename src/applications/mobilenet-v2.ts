// MobileNetV2 (keras/src/applications/mobilenet_v2.py): inverted residual blocks (1×1 expansion, 3×3
// depthwise, linear 1×1 projection) with ReLU6, widths rounded to multiples of 8.
import * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError } from '../errors';
import { builderSpec, imageApplications } from './application-entry';
import { buildApplication, poolingTop, type BuildContext, type BuilderSpec } from './common';
import { correctPad, obtainInputShape } from './imagenet-utils';
import { formatValue } from '../arguments';
import { type ApplicationOptions } from './types';
import {
  channels,
  checkImagenetAlpha,
  makeDivisible,
  mobileNetKit,
  officialRows,
  publishedSquareSize,
  pythonFloat,
  validateNumber,
  type MobileNetKit,
  type PublishedCheckpoint,
} from './mobilenet-common';
import { officialWeights, type OfficialWeights } from './official-weights';

export interface MobileNetV2Options extends ApplicationOptions {
  /** Width multiplier. With 'imagenet': 0.35, 0.5, 0.75, 1.0, 1.3 or 1.4. Default 1.0. */
  alpha?: number;
}

const PUBLISHED_ALPHAS = [0.35, 0.5, 0.75, 1.0, 1.3, 1.4];
const PUBLISHED_SIZES = [96, 128, 160, 192, 224];

/** The 22 checkpoints Keras's MobileNetV2 module docstring tabulates. */
export const MOBILENET_V2_CHECKPOINTS: readonly PublishedCheckpoint[] = [
  { checkpoint: 'mobilenet_v2_1.4_224', alpha: 1.4, size: 224, top1: 0.75, top5: 0.925, multiplyAddsMillions: 582, parametersMillions: 6.06 },
  { checkpoint: 'mobilenet_v2_1.3_224', alpha: 1.3, size: 224, top1: 0.744, top5: 0.921, multiplyAddsMillions: 509, parametersMillions: 5.34 },
  { checkpoint: 'mobilenet_v2_1.0_224', alpha: 1.0, size: 224, top1: 0.718, top5: 0.91, multiplyAddsMillions: 300, parametersMillions: 3.47 },
  { checkpoint: 'mobilenet_v2_1.0_192', alpha: 1.0, size: 192, top1: 0.707, top5: 0.901, multiplyAddsMillions: 221, parametersMillions: 3.47 },
  { checkpoint: 'mobilenet_v2_1.0_160', alpha: 1.0, size: 160, top1: 0.688, top5: 0.89, multiplyAddsMillions: 154, parametersMillions: 3.47 },
  { checkpoint: 'mobilenet_v2_1.0_128', alpha: 1.0, size: 128, top1: 0.653, top5: 0.869, multiplyAddsMillions: 99, parametersMillions: 3.47 },
  { checkpoint: 'mobilenet_v2_1.0_96', alpha: 1.0, size: 96, top1: 0.603, top5: 0.832, multiplyAddsMillions: 56, parametersMillions: 3.47 },
  { checkpoint: 'mobilenet_v2_0.75_224', alpha: 0.75, size: 224, top1: 0.698, top5: 0.896, multiplyAddsMillions: 209, parametersMillions: 2.61 },
  { checkpoint: 'mobilenet_v2_0.75_192', alpha: 0.75, size: 192, top1: 0.687, top5: 0.889, multiplyAddsMillions: 153, parametersMillions: 2.61 },
  { checkpoint: 'mobilenet_v2_0.75_160', alpha: 0.75, size: 160, top1: 0.664, top5: 0.873, multiplyAddsMillions: 107, parametersMillions: 2.61 },
  { checkpoint: 'mobilenet_v2_0.75_128', alpha: 0.75, size: 128, top1: 0.632, top5: 0.853, multiplyAddsMillions: 69, parametersMillions: 2.61 },
  { checkpoint: 'mobilenet_v2_0.75_96', alpha: 0.75, size: 96, top1: 0.588, top5: 0.816, multiplyAddsMillions: 39, parametersMillions: 2.61 },
  { checkpoint: 'mobilenet_v2_0.5_224', alpha: 0.5, size: 224, top1: 0.654, top5: 0.864, multiplyAddsMillions: 97, parametersMillions: 1.95 },
  { checkpoint: 'mobilenet_v2_0.5_192', alpha: 0.5, size: 192, top1: 0.639, top5: 0.854, multiplyAddsMillions: 71, parametersMillions: 1.95 },
  { checkpoint: 'mobilenet_v2_0.5_160', alpha: 0.5, size: 160, top1: 0.61, top5: 0.832, multiplyAddsMillions: 50, parametersMillions: 1.95 },
  { checkpoint: 'mobilenet_v2_0.5_128', alpha: 0.5, size: 128, top1: 0.577, top5: 0.808, multiplyAddsMillions: 32, parametersMillions: 1.95 },
  { checkpoint: 'mobilenet_v2_0.5_96', alpha: 0.5, size: 96, top1: 0.512, top5: 0.758, multiplyAddsMillions: 18, parametersMillions: 1.95 },
  { checkpoint: 'mobilenet_v2_0.35_224', alpha: 0.35, size: 224, top1: 0.603, top5: 0.829, multiplyAddsMillions: 59, parametersMillions: 1.66 },
  { checkpoint: 'mobilenet_v2_0.35_192', alpha: 0.35, size: 192, top1: 0.582, top5: 0.812, multiplyAddsMillions: 43, parametersMillions: 1.66 },
  { checkpoint: 'mobilenet_v2_0.35_160', alpha: 0.35, size: 160, top1: 0.557, top5: 0.791, multiplyAddsMillions: 30, parametersMillions: 1.66 },
  { checkpoint: 'mobilenet_v2_0.35_128', alpha: 0.35, size: 128, top1: 0.508, top5: 0.75, multiplyAddsMillions: 20, parametersMillions: 1.66 },
  { checkpoint: 'mobilenet_v2_0.35_96', alpha: 0.35, size: 96, top1: 0.455, top5: 0.704, multiplyAddsMillions: 11, parametersMillions: 1.66 },
];

/** [filters, stride, expansion] of inverted residual blocks 0–16. */
const BLOCKS: [number, number, number][] = [
  [16, 1, 1],
  [24, 2, 6], [24, 1, 6],
  [32, 2, 6], [32, 1, 6], [32, 1, 6],
  [64, 2, 6], [64, 1, 6], [64, 1, 6], [64, 1, 6],
  [96, 1, 6], [96, 1, 6], [96, 1, 6],
  [160, 2, 6], [160, 1, 6], [160, 1, 6],
  [320, 1, 6],
];

/** Expansion (not in block 0) → depthwise 3×3 → linear projection; a residual add where shapes allow. */
function invertedResidualBlock(
  k: MobileNetKit,
  inputs: tfl.SymbolicTensor,
  [filters, stride, expansion]: [number, number, number],
  alpha: number,
  id: number,
): tfl.SymbolicTensor {
  const inChannels = channels(inputs);
  const outChannels = makeDivisible(Math.trunc(filters * alpha));
  const prefix = id === 0 ? 'expanded_conv_' : `block_${id}_`;
  let x = inputs;
  if (id > 0) {
    x = k.conv(x, expansion * inChannels, 1, `${prefix}expand`);
    x = k.relu(k.bn(x, `${prefix}expand_BN`), `${prefix}expand_relu`, 6);
  }
  if (stride === 2) x = k.pad(x, correctPad(x, 3), `${prefix}pad`);
  x = k.depthwise(x, 3, `${prefix}depthwise`, { strides: stride });
  x = k.relu(k.bn(x, `${prefix}depthwise_BN`), `${prefix}depthwise_relu`, 6);
  x = k.bn(k.conv(x, outChannels, 1, `${prefix}project`), `${prefix}project_BN`);
  if (inChannels === outChannels && stride === 1) return tfl.layers.add({ name: `${prefix}add` }).apply([inputs, x]) as tfl.SymbolicTensor;
  return x;
}

function mobilenetV2Body(alpha: number) {
  return (input: tfl.SymbolicTensor, context: BuildContext): tfl.SymbolicTensor => {
    const k = mobileNetKit(context, 0.999);
    let x = k.conv(input, makeDivisible(32 * alpha), 3, 'Conv1', { strides: 2 });
    x = k.relu(k.bn(x, 'bn_Conv1'), 'Conv1_relu', 6);
    BLOCKS.forEach((block, id) => {
      x = invertedResidualBlock(k, x, block, alpha, id);
    });
    // Keras applies no alpha below 1 to the last convolution, as the paper says.
    x = k.conv(x, alpha > 1 ? makeDivisible(1280 * alpha) : 1280, 1, 'Conv_1');
    x = k.relu(k.bn(x, 'Conv_1_bn'), 'out_relu', 6);
    // Keras leaves the pooling layers unnamed; a fresh process names them so.
    return poolingTop(x, context, { avg: 'global_average_pooling2d', max: 'global_max_pooling2d' });
  };
}

/** The official files of width `alpha` at input size `rows`. */
function mobilenetV2Weights(alpha: number, rows: number): OfficialWeights {
  return officialWeights(`MobileNetV2(alpha=${pythonFloat(alpha)}, rows=${rows})`);
}

/**
 * Keras's rules for MobileNetV2's arguments, and the spec for this call: `inputTensor` and `inputShape` must
 * agree, the default size follows a square published input size, and the official file depends on alpha and it.
 */
function mobilenetV2Spec(options: MobileNetV2Options, alpha: number): BuilderSpec {
  const entry = mobilenetV2Applications.MobileNetV2;
  const weights = options.weights === undefined ? 'imagenet' : options.weights;
  const given = options.inputShape ?? undefined;
  const tensorShape = options.inputTensor instanceof tfl.SymbolicTensor ? options.inputTensor.shape : undefined;
  if (given && tensorShape && tensorShape[2] !== given[1]) {
    throw new ArgumentError(
      '`inputTensor` and `inputShape` disagree: inputTensor.shape[2] must equal inputShape[1]. ' +
        `Received: inputTensor.shape=${formatValue(tensorShape)}, inputShape=${formatValue(given)}`,
    );
  }
  const [sizeRows, sizeCols] = given ?? tensorShape?.slice(1, 3) ?? [];
  const defaultSize = publishedSquareSize(sizeRows, sizeCols, PUBLISHED_SIZES);
  const shape = obtainInputShape(given, { defaultSize, minSize: entry.minSize, requireFlatten: options.includeTop ?? true, weights });
  let rows = shape[0];
  let official: OfficialWeights | undefined;
  if (weights === 'imagenet') {
    checkImagenetAlpha(alpha, PUBLISHED_ALPHAS);
    rows = officialRows('MobileNetV2', shape, PUBLISHED_SIZES);
    official = mobilenetV2Weights(alpha, rows);
  }
  return builderSpec(entry, {
    defaultName: `mobilenetv2_${alpha.toFixed(2)}_${rows ?? 'None'}`,
    defaultSize,
    extraOptions: ['alpha'],
    officialWeights: official,
  });
}

/**
 * MobileNetV2 (Sandler et al., CVPR 2018), as `keras.applications.MobileNetV2`. Default input 224×224×3;
 * ImageNet weights exist for alpha 0.35–1.4 at 96–224 pixels. Preprocessing: tf (−1…1).
 */
export async function mobilenetV2(options: MobileNetV2Options = {}): Promise<tfl.LayersModel> {
  options ??= {}; // null as no options, as undefined
  const { alpha = 1.0 } = options;
  validateNumber('alpha', alpha, (a) => a > 0, 'a number > 0');
  return buildApplication(mobilenetV2Spec(options, alpha), options, mobilenetV2Body(alpha));
}

/** The registry's MobileNetV2 entry: alpha 1.0 at 224 (figures from keras.io/api/applications). */
export const mobilenetV2Applications = imageApplications({
  MobileNetV2: {
    module: 'mobilenet_v2',
    build: mobilenetV2,
    preprocessing: 'tf',
    weights: mobilenetV2Weights(1.0, 224),
    metadata: {
      sizeMB: 14,
      top1: 0.713,
      top5: 0.901,
      parameters: 3_538_984,
      depth: 105,
      reference: 'MobileNetV2: Inverted Residuals and Linear Bottlenecks (Sandler et al., CVPR 2018)',
      checkpoints: MOBILENET_V2_CHECKPOINTS,
    },
  },
});
