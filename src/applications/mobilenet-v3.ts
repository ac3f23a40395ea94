// MobileNetV3Small and MobileNetV3Large (keras/src/applications/mobilenet_v3.py): inverted residual blocks
// with squeeze-excite and hard-swish (plain ReLU and 3×3 kernels in the "minimalistic" models), a Rescaling
// layer inside the model, and a 1×1-convolution head; the input size stays free even with the top.
import * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError } from '../errors';
import { HARD_SWISH } from '../layers/hard-swish';
import { ScalarOperation } from '../layers/scalar-operation';
import { builderSpec, imageApplications, type ApplicationEntry } from './application-entry';
import { apply, buildApplication, poolingTop, type BuildContext, type BuilderSpec } from './common';
import { correctPad, obtainInputShape } from './imagenet-utils';
import { formatValue, validateBoolean, warnOnce } from '../arguments';
import { type ApplicationOptions } from './types';
import {
  channels,
  makeDivisible,
  mobileNetKit,
  pythonFloat,
  validateNumber,
  type PublishedCheckpoint,
} from './mobilenet-common';
import { officialWeights, type OfficialWeights } from './official-weights';

export interface MobileNetV3Options extends ApplicationOptions {
  /** Width multiplier. With 'imagenet': 0.75 or 1.0 (1.0 only when minimalistic). Default 1.0. */
  alpha?: number;
  /** Without squeeze-excite, hard-swish and 5×5 kernels. Default false. */
  minimalistic?: boolean;
  /** Dropout rate before the classifier (none when 0). Default 0.2. */
  dropoutRate?: number;
  /** Rescale 0…255 pixels to −1…1 inside the model (a Rescaling layer). Default true. */
  includePreprocessing?: boolean;
}

type Size = 'small' | 'large';

/** The checkpoints Keras's MobileNetV3 docstring tabulates (no top-5; all at 224). */
export const MOBILENET_V3_CHECKPOINTS: Record<Size, readonly PublishedCheckpoint[]> = {
  large: [
    { checkpoint: 'mobilenet_v3_large_1.0_224', alpha: 1.0, size: 224, top1: 0.756, multiplyAddsMillions: 217, parametersMillions: 5.4 },
    { checkpoint: 'mobilenet_v3_large_0.75_224', alpha: 0.75, size: 224, top1: 0.733, multiplyAddsMillions: 155, parametersMillions: 4.0 },
    { checkpoint: 'mobilenet_v3_large_minimalistic_1.0_224', alpha: 1.0, size: 224, minimalistic: true, top1: 0.723, multiplyAddsMillions: 209, parametersMillions: 3.9 },
  ],
  small: [
    { checkpoint: 'mobilenet_v3_small_1.0_224', alpha: 1.0, size: 224, top1: 0.681, multiplyAddsMillions: 66, parametersMillions: 2.9 },
    { checkpoint: 'mobilenet_v3_small_0.75_224', alpha: 0.75, size: 224, top1: 0.654, multiplyAddsMillions: 44, parametersMillions: 2.4 },
    { checkpoint: 'mobilenet_v3_small_minimalistic_1.0_224', alpha: 1.0, size: 224, minimalistic: true, top1: 0.619, multiplyAddsMillions: 65, parametersMillions: 2.0 },
  ],
};

/**
 * [expansion, filters, kernel, stride, squeeze-excite, activation] of each inverted residual block:
 * kernel 'k' and activation 'a' are the model's (5×5 and hard-swish, or 3×3 and ReLU when minimalistic).
 */
type Block = [number, number, 3 | 'k', 1 | 2, boolean, 'relu' | 'a'];

const STACKS: Record<Size, { blocks: Block[]; lastPointChannels: number }> = {
  small: {
    lastPointChannels: 1024,
    blocks: [
      [1, 16, 3, 2, true, 'relu'],
      [72 / 16, 24, 3, 2, false, 'relu'],
      [88 / 24, 24, 3, 1, false, 'relu'],
      [4, 40, 'k', 2, true, 'a'],
      [6, 40, 'k', 1, true, 'a'],
      [6, 40, 'k', 1, true, 'a'],
      [3, 48, 'k', 1, true, 'a'],
      [3, 48, 'k', 1, true, 'a'],
      [6, 96, 'k', 2, true, 'a'],
      [6, 96, 'k', 1, true, 'a'],
      [6, 96, 'k', 1, true, 'a'],
    ],
  },
  large: {
    lastPointChannels: 1280,
    blocks: [
      [1, 16, 3, 1, false, 'relu'],
      [4, 24, 3, 2, false, 'relu'],
      [3, 24, 3, 1, false, 'relu'],
      [3, 40, 'k', 2, true, 'relu'],
      [3, 40, 'k', 1, true, 'relu'],
      [3, 40, 'k', 1, true, 'relu'],
      [6, 80, 3, 2, false, 'a'],
      [2.5, 80, 3, 1, false, 'a'],
      [2.3, 80, 3, 1, false, 'a'],
      [2.3, 80, 3, 1, false, 'a'],
      [6, 112, 3, 1, true, 'a'],
      [6, 112, 3, 1, true, 'a'],
      [6, 160, 'k', 2, true, 'a'],
      [6, 160, 'k', 1, true, 'a'],
      [6, 160, 'k', 1, true, 'a'],
    ],
  },
};

const SE_RATIO = 0.25;

type Activation = (x: tfl.SymbolicTensor) => tfl.SymbolicTensor;

/** The model's activations and Keras's hard sigmoid, each layer named as Keras's unnamed layers are. */
function v3Kit(context: BuildContext) {
  const k = mobileNetKit(context, 0.999);
  const scalar = (x: tfl.SymbolicTensor, operation: 'add' | 'multiply', value: number) =>
    apply(new ScalarOperation({ operation, value, name: k.autoName(operation) }), x);
  return {
    ...k,
    reluActivation: (x: tfl.SymbolicTensor) => k.relu(x),
    hardSwish: (x: tfl.SymbolicTensor) =>
      apply(tfl.layers.activation({ activation: HARD_SWISH as never, name: k.autoName('activation') }), x),
    /** Keras writes it `ReLU(6.0)(x + 3.0) * (1.0 / 6.0)`: the sum and product are graph operations, not layers. */
    hardSigmoid: (x: tfl.SymbolicTensor) => scalar(k.relu(scalar(x, 'add', 3), undefined, 6), 'multiply', 1 / 6),
  };
}

type V3Kit = ReturnType<typeof v3Kit>;

/** A row of STACKS with the model's kernel and activation filled in and the width applied. */
interface ResolvedBlock {
  expansion: number;
  filters: number;
  kernelSize: number;
  stride: number;
  squeezeExcite: boolean;
  activation: Activation;
}

function squeezeExcite(k: V3Kit, inputs: tfl.SymbolicTensor, filters: number, prefix: string): tfl.SymbolicTensor {
  let x = k.poolKeepingDims(inputs, `${prefix}squeeze_excite_avg_pool`);
  x = k.conv(x, makeDivisible(filters * SE_RATIO), 1, `${prefix}squeeze_excite_conv`, { useBias: true });
  x = k.relu(x, `${prefix}squeeze_excite_relu`);
  x = k.hardSigmoid(k.conv(x, filters, 1, `${prefix}squeeze_excite_conv_1`, { useBias: true }));
  return apply(tfl.layers.multiply({ name: `${prefix}squeeze_excite_mul` }), [inputs, x]);
}

/** Expansion (not in block 0) → depthwise → squeeze-excite → linear projection; a residual add where shapes allow. */
function invertedResidualBlock(k: V3Kit, inputs: tfl.SymbolicTensor, block: ResolvedBlock, id: number): tfl.SymbolicTensor {
  const { expansion, filters, kernelSize, stride, activation } = block;
  const inChannels = channels(inputs);
  const expanded = makeDivisible(inChannels * expansion);
  const prefix = id === 0 ? 'expanded_conv_' : `expanded_conv_${id}_`;
  let x = inputs;
  if (id > 0) x = activation(k.bn(k.conv(x, expanded, 1, `${prefix}expand`), `${prefix}expand_bn`));
  if (stride === 2) x = k.pad(x, correctPad(x, kernelSize), `${prefix}depthwise_pad`);
  x = activation(k.bn(k.depthwise(x, kernelSize, `${prefix}depthwise`, { strides: stride }), `${prefix}depthwise_bn`));
  if (block.squeezeExcite) x = squeezeExcite(k, x, expanded, prefix);
  x = k.bn(k.conv(x, filters, 1, `${prefix}project`), `${prefix}project_bn`);
  if (stride === 1 && inChannels === filters) return apply(tfl.layers.add({ name: `${prefix}add` }), [inputs, x]);
  return x;
}

interface V3Settings {
  size: Size;
  alpha: number;
  minimalistic: boolean;
  dropoutRate: number;
  includePreprocessing: boolean;
}

function mobilenetV3Body({ size, alpha, minimalistic, dropoutRate, includePreprocessing }: V3Settings) {
  return (input: tfl.SymbolicTensor, context: BuildContext): tfl.SymbolicTensor => {
    const k = v3Kit(context);
    const modelActivation = minimalistic ? k.reluActivation : k.hardSwish;
    const modelKernel = minimalistic ? 3 : 5;
    const { blocks, lastPointChannels } = STACKS[size];
    let x = input;
    if (includePreprocessing) x = apply(tfl.layers.rescaling({ scale: 1 / 127.5, offset: -1, name: k.autoName('rescaling') }), x);
    x = modelActivation(k.bn(k.conv(x, 16, 3, 'conv', { strides: 2 }), 'conv_bn'));
    blocks.forEach(([expansion, filters, kernel, stride, se, activation], id) => {
      x = invertedResidualBlock(k, x, {
        expansion,
        filters: makeDivisible(filters * alpha),
        kernelSize: kernel === 'k' ? modelKernel : kernel,
        stride,
        squeezeExcite: se && !minimalistic,
        activation: activation === 'a' ? modelActivation : k.reluActivation,
      }, id);
    });
    x = modelActivation(k.bn(k.conv(x, makeDivisible(channels(x) * 6), 1, 'conv_1'), 'conv_1_bn'));
    if (!context.includeTop) return poolingTop(x, context, { avg: 'avg_pool', max: 'max_pool' });
    x = k.poolKeepingDims(x, k.autoName('global_average_pooling2d'));
    // Only widths above 1 widen the head.
    x = modelActivation(k.conv(x, alpha > 1 ? makeDivisible(lastPointChannels * alpha) : lastPointChannels, 1, 'conv_2', { useBias: true }));
    if (dropoutRate > 0) x = apply(tfl.layers.dropout({ rate: dropoutRate, name: k.autoName('dropout') }), x);
    x = k.conv(x, context.classes, 1, 'logits', { useBias: true });
    x = apply(tfl.layers.flatten({ name: k.autoName('flatten') }), x);
    return k.predictionsActivation(x);
  };
}

/**
 * Keras's MobileNetV3 input rules, which are not `obtain_input_shape`: the size stays free (also with the
 * top), only sizes below 32 are refused, and `inputTensor` and `inputShape` must agree on the width.
 * Returns the input size, and the input to build on when no `inputTensor` is given.
 */
function v3Input(options: MobileNetV3Options): { input?: tfl.SymbolicTensor; rows: number | null; cols: number | null } {
  const given = options.inputShape ?? undefined;
  // Checks the entries only: Keras's own size rule for this family follows.
  if (given) obtainInputShape(given, { defaultSize: 224, minSize: 1, requireFlatten: false, weights: null });
  const tensor = options.inputTensor instanceof tfl.SymbolicTensor ? options.inputTensor : undefined;
  if (given && tensor && tensor.shape[2] !== given[1]) {
    throw new ArgumentError(
      '`inputTensor` and `inputShape` disagree: inputShape[1] must equal inputTensor.shape[2]. ' +
        `Received: inputShape=${formatValue(given)}, inputTensor.shape=${formatValue(tensor.shape)}`,
    );
  }
  const [rows = null, cols = null] = given ?? tensor?.shape.slice(1, 3) ?? [];
  if (rows !== null && cols !== null && (rows < 32 || cols < 32)) {
    throw new ArgumentError(`Input size must be at least 32x32; Received: inputShape=${formatValue(given ?? tensor!.shape.slice(1))}`);
  }
  const input = options.inputTensor == null ? tfl.input({ shape: given ?? [null, null, 3], name: 'input_layer' }) : undefined;
  return { input, rows, cols };
}

/** The official files of one configuration of `kerasName` (MobileNetV3Small or MobileNetV3Large). */
function mobilenetV3Weights(kerasName: string, alpha: number, minimalistic: boolean): OfficialWeights {
  return officialWeights(`${kerasName}(alpha=${pythonFloat(alpha)}${minimalistic ? ', minimalistic=True' : ''})`);
}

function mobilenetV3Spec(entry: ApplicationEntry, settings: V3Settings, weights: unknown, rows: number | null, cols: number | null): BuilderSpec {
  const { kerasName } = entry;
  const { alpha, minimalistic } = settings;
  if (weights === 'imagenet') {
    const published = minimalistic ? [1.0] : [0.75, 1.0];
    if (!published.includes(alpha)) {
      throw new ArgumentError(
        'If imagenet weights are being loaded, `alpha` must be 0.75 or 1.0 (non-minimalistic) or 1.0 (minimalistic). ' +
          `Received: alpha=${formatValue(alpha)}, minimalistic=${minimalistic}`,
      );
    }
    if (rows !== cols || rows !== 224) {
      warnOnce(
        `${kerasName}: \`inputShape\` is undefined or non-square, or \`rows\` is not 224. ` +
          'Weights for input shape (224, 224) will be loaded as the default.',
      );
    }
  }
  return builderSpec(entry, {
    defaultName: kerasName,
    extraOptions: ['alpha', 'minimalistic', 'dropoutRate', 'includePreprocessing'],
    officialWeights: weights === 'imagenet' ? mobilenetV3Weights(kerasName, alpha, minimalistic) : undefined,
  });
}

async function mobilenetV3(entry: ApplicationEntry, size: Size, options: MobileNetV3Options = {}): Promise<tfl.LayersModel> {
  options ??= {}; // null as no options, as undefined
  const { alpha = 1.0, minimalistic = false, dropoutRate = 0.2, includePreprocessing = true } = options;
  const settings: V3Settings = {
    size,
    alpha: validateNumber('alpha', alpha, (a) => a > 0, 'a number > 0'),
    minimalistic: validateBoolean('minimalistic', minimalistic),
    // Keras adds no Dropout at a rate <= 0; its Dropout refuses rates above 1.
    dropoutRate: validateNumber('dropoutRate', dropoutRate, (d) => d <= 1, 'a number <= 1 (no dropout when <= 0)'),
    includePreprocessing: validateBoolean('includePreprocessing', includePreprocessing),
  };
  const { input, rows, cols } = v3Input(options);
  const weights = options.weights === undefined ? 'imagenet' : options.weights;
  const spec = mobilenetV3Spec(entry, settings, weights, rows, cols);
  // The input is built here, so the common rules (a fixed size with the top) do not apply to it.
  return buildApplication(spec, { ...options, inputShape: undefined, inputTensor: options.inputTensor ?? input }, mobilenetV3Body(settings));
}

/**
 * MobileNetV3Small (Howard et al., ICCV 2019), as `keras.applications.MobileNetV3Small`. Takes 0…255 pixels
 * (preprocessing is inside the model); any input size from 32×32, also with the top.
 */
export function mobilenetV3Small(options?: MobileNetV3Options): Promise<tfl.LayersModel> {
  return mobilenetV3(mobilenetV3Applications.MobileNetV3Small, 'small', options);
}

/**
 * MobileNetV3Large (Howard et al., ICCV 2019), as `keras.applications.MobileNetV3Large`. Takes 0…255 pixels
 * (preprocessing is inside the model); any input size from 32×32, also with the top.
 */
export function mobilenetV3Large(options?: MobileNetV3Options): Promise<tfl.LayersModel> {
  return mobilenetV3(mobilenetV3Applications.MobileNetV3Large, 'large', options);
}

const MOBILENET_V3_PAPER = 'Searching for MobileNetV3 (Howard et al., ICCV 2019)';

/** The registry's MobileNetV3 entries: alpha 1.0, not minimalistic (figures from keras.io/api/applications). */
export const mobilenetV3Applications = imageApplications({
  MobileNetV3Small: {
    module: 'mobilenet_v3',
    build: mobilenetV3Small,
    preprocessing: 'none',
    weights: mobilenetV3Weights('MobileNetV3Small', 1.0, false),
    metadata: { top1: 0.681, parameters: 2_554_968, reference: MOBILENET_V3_PAPER, checkpoints: MOBILENET_V3_CHECKPOINTS.small },
  },
  MobileNetV3Large: {
    module: 'mobilenet_v3',
    build: mobilenetV3Large,
    preprocessing: 'none',
    weights: mobilenetV3Weights('MobileNetV3Large', 1.0, false),
    metadata: { top1: 0.756, parameters: 5_507_432, reference: MOBILENET_V3_PAPER, checkpoints: MOBILENET_V3_CHECKPOINTS.large },
  },
});
