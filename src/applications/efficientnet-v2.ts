// EfficientNetV2 B0–B3, S, M, L (keras/src/applications/efficientnet_v2.py): fused MBConv blocks (one full
// convolution instead of expand + depthwise) in the early stages, MBConv with squeeze-and-excitation later,
// per-variant stage tables, BatchNormalization momentum 0.9; the preprocessing is part of the model.
import * as tfl from '@tensorflow/tfjs-layers';
import { Normalization } from '../layers/normalization';
import { builderSpec, imageApplications } from './application-entry';
import { apply, buildApplication, kerasAutoNames, resolveOptions, type BuildContext } from './common';
import { validateBoolean } from '../arguments';
import { type ApplicationOptions } from './types';
import { efficientNetTop, layerKit, shortcutAdd, squeezeExcite, type Kit } from './efficientnet';

export interface EfficientNetV2Options extends ApplicationOptions {
  /**
   * Put the preprocessing in front of the model, so inputs are pixels in [0, 255]. Default `true`. B0–B3
   * rescale to [0, 1] and normalise with the ImageNet mean and deviation; S, M and L rescale to [-1, 1].
   */
  includePreprocessing?: boolean;
}

/** One stage: [kernel, repeats, input filters, output filters, expand ratio, squeeze-excite ratio, strides, fused]. */
type Stage = [kernelSize: number, repeats: number, filtersIn: number, filtersOut: number, expandRatio: number, seRatio: number, strides: number, fused: boolean];

const F = true;
const M = false;

/** Keras's DEFAULT_BLOCKS_ARGS; B0–B3 share one table and scale it. */
const STAGES_B: Stage[] = [
  [3, 1, 32, 16, 1, 0, 1, F],
  [3, 2, 16, 32, 4, 0, 2, F],
  [3, 2, 32, 48, 4, 0, 2, F],
  [3, 3, 48, 96, 4, 0.25, 2, M],
  [3, 5, 96, 112, 6, 0.25, 1, M],
  [3, 8, 112, 192, 6, 0.25, 2, M],
];
const STAGES_S: Stage[] = [
  [3, 2, 24, 24, 1, 0, 1, F],
  [3, 4, 24, 48, 4, 0, 2, F],
  [3, 4, 48, 64, 4, 0, 2, F],
  [3, 6, 64, 128, 4, 0.25, 2, M],
  [3, 9, 128, 160, 6, 0.25, 1, M],
  [3, 15, 160, 256, 6, 0.25, 2, M],
];
const STAGES_M: Stage[] = [
  [3, 3, 24, 24, 1, 0, 1, F],
  [3, 5, 24, 48, 4, 0, 2, F],
  [3, 5, 48, 80, 4, 0, 2, F],
  [3, 7, 80, 160, 4, 0.25, 2, M],
  [3, 14, 160, 176, 6, 0.25, 1, M],
  [3, 18, 176, 304, 6, 0.25, 2, M],
  [3, 5, 304, 512, 6, 0.25, 1, M],
];
const STAGES_L: Stage[] = [
  [3, 4, 32, 32, 1, 0, 1, F],
  [3, 7, 32, 64, 4, 0, 2, F],
  [3, 7, 64, 96, 4, 0, 2, F],
  [3, 10, 96, 192, 4, 0.25, 2, M],
  [3, 19, 192, 224, 6, 0.25, 1, M],
  [3, 25, 224, 384, 6, 0.25, 2, M],
  [3, 7, 384, 640, 6, 0.25, 1, M],
];

interface Variant {
  stages: Stage[];
  width: number;
  depth: number;
  /** B0–B3 normalise with ImageNet statistics; S, M, L only rescale. */
  imagenetNormalization: boolean;
}

const VARIANTS = {
  EfficientNetV2B0: { stages: STAGES_B, width: 1.0, depth: 1.0, imagenetNormalization: true },
  EfficientNetV2B1: { stages: STAGES_B, width: 1.0, depth: 1.1, imagenetNormalization: true },
  EfficientNetV2B2: { stages: STAGES_B, width: 1.1, depth: 1.2, imagenetNormalization: true },
  EfficientNetV2B3: { stages: STAGES_B, width: 1.2, depth: 1.4, imagenetNormalization: true },
  EfficientNetV2S: { stages: STAGES_S, width: 1.0, depth: 1.0, imagenetNormalization: false },
  EfficientNetV2M: { stages: STAGES_M, width: 1.0, depth: 1.0, imagenetNormalization: false },
  EfficientNetV2L: { stages: STAGES_L, width: 1.0, depth: 1.0, imagenetNormalization: false },
} satisfies Record<string, Variant>;

type VariantName = keyof typeof VARIANTS;

const BN_MOMENTUM = 0.9;
const DEPTH_DIVISOR = 8;
const MIN_DEPTH = 8;
const DROP_CONNECT_RATE = 0.2;
const TOP_DROPOUT = 0.2;

/** V2's round_filters: scale by the width coefficient, round to the divisor, at least MIN_DEPTH. */
function roundFilters(filters: number, width: number): number {
  return Math.max(MIN_DEPTH, Math.floor(Math.trunc(filters * width + DEPTH_DIVISOR / 2) / DEPTH_DIVISOR) * DEPTH_DIVISOR);
}

interface BlockArgs {
  name: string;
  kernelSize: number;
  filtersIn: number;
  filtersOut: number;
  expandRatio: number;
  seRatio: number;
  strides: number;
  dropRate: number;
}

/** MBConv: 1×1 expansion, depthwise convolution, squeeze-and-excitation, 1×1 projection. */
function mbConvBlock(context: BuildContext, k: Kit, inputs: tfl.SymbolicTensor, args: BlockArgs): tfl.SymbolicTensor {
  const { name, kernelSize, filtersIn, filtersOut, expandRatio, seRatio, strides } = args;
  let x = inputs;
  if (expandRatio !== 1) {
    x = k.activation(k.bn(k.conv(x, filtersIn * expandRatio, 1, `${name}expand_conv`), `${name}expand_bn`), `${name}expand_activation`);
  }
  x = k.depthwise(x, kernelSize, strides, 'same', `${name}dwconv2`);
  x = k.activation(k.bn(x, `${name}bn`), `${name}activation`);
  if (seRatio > 0) x = squeezeExcite(context, x, filtersIn, seRatio, name);
  x = k.bn(k.conv(x, filtersOut, 1, `${name}project_conv`), `${name}project_bn`);
  return strides === 1 && filtersIn === filtersOut ? shortcutAdd(x, inputs, args.dropRate, name) : x;
}

/** Fused MBConv: one full k×k convolution does the expansion (and the stride); without expansion it projects directly. */
function fusedMbConvBlock(context: BuildContext, k: Kit, inputs: tfl.SymbolicTensor, args: BlockArgs): tfl.SymbolicTensor {
  const { name, kernelSize, filtersIn, filtersOut, expandRatio, seRatio, strides } = args;
  const expands = expandRatio !== 1;
  let x = inputs;
  if (expands) {
    x = k.conv(x, filtersIn * expandRatio, kernelSize, `${name}expand_conv`, { strides });
    x = k.activation(k.bn(x, `${name}expand_bn`), `${name}expand_activation`);
  }
  if (seRatio > 0) x = squeezeExcite(context, x, filtersIn, seRatio, name);
  x = k.conv(x, filtersOut, expands ? 1 : kernelSize, `${name}project_conv`, { strides: expands ? 1 : strides });
  x = k.bn(x, `${name}project_bn`);
  if (!expands) x = k.activation(x, `${name}project_activation`);
  return strides === 1 && filtersIn === filtersOut ? shortcutAdd(x, inputs, args.dropRate, name) : x;
}

function preprocessing(input: tfl.SymbolicTensor, context: BuildContext, variant: Variant): tfl.SymbolicTensor {
  const autoName = kerasAutoNames();
  if (variant.imagenetNormalization && context.inputShape[2] === 3) {
    const x = apply(tfl.layers.rescaling({ scale: 1 / 255, name: autoName('rescaling') }), input);
    const normalization = new Normalization({
      axis: 3,
      mean: [0.485, 0.456, 0.406],
      variance: [0.229 ** 2, 0.224 ** 2, 0.225 ** 2],
      name: autoName('normalization'),
    });
    return apply(normalization, x);
  }
  return apply(tfl.layers.rescaling({ scale: 1 / 128, offset: -1, name: autoName('rescaling') }), input);
}

function efficientNetV2Body(variant: Variant, includePreprocessing: boolean) {
  return (input: tfl.SymbolicTensor, context: BuildContext): tfl.SymbolicTensor => {
    const k = layerKit(context, BN_MOMENTUM);
    const filtersOf = (filters: number) => roundFilters(filters, variant.width);
    let x = includePreprocessing ? preprocessing(input, context, variant) : input;
    x = k.conv(x, filtersOf(variant.stages[0]![2]), 3, 'stem_conv', { strides: 2 });
    x = k.activation(k.bn(x, 'stem_bn'), 'stem_activation');

    // Unlike EfficientNet, the drop-connect schedule counts the unscaled repeats.
    const totalBlocks = variant.stages.reduce((sum, stage) => sum + stage[1], 0);
    let blockIndex = 0;
    variant.stages.forEach(([kernelSize, repeats, filtersIn, filtersOut, expandRatio, seRatio, strides, fused], i) => {
      const block = fused ? fusedMbConvBlock : mbConvBlock;
      for (let j = 0; j < Math.ceil(variant.depth * repeats); j++) {
        x = block(context, k, x, {
          name: `block${i + 1}${String.fromCharCode(97 + j)}_`,
          kernelSize,
          filtersIn: filtersOf(j === 0 ? filtersIn : filtersOut),
          filtersOut: filtersOf(filtersOut),
          expandRatio,
          seRatio,
          strides: j === 0 ? strides : 1,
          dropRate: (DROP_CONNECT_RATE * blockIndex) / totalBlocks,
        });
        blockIndex++;
      }
    });
    return efficientNetTop(k, context, x, filtersOf(1280), TOP_DROPOUT);
  };
}

async function efficientNetV2(kerasName: VariantName, options: EfficientNetV2Options = {}): Promise<tfl.LayersModel> {
  // efficientnetv2-b0, …, efficientnetv2-l: Keras's default model names.
  const defaultName = `efficientnetv2-${kerasName.slice('EfficientNetV2'.length).toLowerCase()}`;
  const spec = builderSpec(efficientNetV2Applications[kerasName], { defaultName, extraOptions: ['includePreprocessing'] });
  resolveOptions(spec, options);
  const includePreprocessing = validateBoolean('includePreprocessing', options.includePreprocessing === undefined ? true : options.includePreprocessing);
  return buildApplication(spec, options, efficientNetV2Body(VARIANTS[kerasName], includePreprocessing));
}

// Keras picks the stage table and the preprocessing by the model's `name` and derives the official file's name
// from it, so a custom name there fails or asks for a file that does not exist. Here the builder decides all
// three: `name` renames the model, nothing else.

/**
 * EfficientNetV2B0 (Tan & Le, ICML 2021), as `keras.applications.EfficientNetV2B0`. Default input 224×224×3,
 * pixels in [0, 255]: preprocessing is part of the model (`preprocessInput` mode `none`).
 */
export function efficientNetV2B0(options?: EfficientNetV2Options): Promise<tfl.LayersModel> {
  return efficientNetV2('EfficientNetV2B0', options);
}

/** EfficientNetV2B1, as `keras.applications.EfficientNetV2B1`. Default input 240×240×3, pixels in [0, 255]. */
export function efficientNetV2B1(options?: EfficientNetV2Options): Promise<tfl.LayersModel> {
  return efficientNetV2('EfficientNetV2B1', options);
}

/** EfficientNetV2B2, as `keras.applications.EfficientNetV2B2`. Default input 260×260×3, pixels in [0, 255]. */
export function efficientNetV2B2(options?: EfficientNetV2Options): Promise<tfl.LayersModel> {
  return efficientNetV2('EfficientNetV2B2', options);
}

/** EfficientNetV2B3, as `keras.applications.EfficientNetV2B3`. Default input 300×300×3, pixels in [0, 255]. */
export function efficientNetV2B3(options?: EfficientNetV2Options): Promise<tfl.LayersModel> {
  return efficientNetV2('EfficientNetV2B3', options);
}

/** EfficientNetV2S, as `keras.applications.EfficientNetV2S`. Default input 384×384×3, pixels in [0, 255]. */
export function efficientNetV2S(options?: EfficientNetV2Options): Promise<tfl.LayersModel> {
  return efficientNetV2('EfficientNetV2S', options);
}

/** EfficientNetV2M, as `keras.applications.EfficientNetV2M`. Default input 480×480×3, pixels in [0, 255]. */
export function efficientNetV2M(options?: EfficientNetV2Options): Promise<tfl.LayersModel> {
  return efficientNetV2('EfficientNetV2M', options);
}

/** EfficientNetV2L, as `keras.applications.EfficientNetV2L`. Default input 480×480×3, pixels in [0, 255]. */
export function efficientNetV2L(options?: EfficientNetV2Options): Promise<tfl.LayersModel> {
  return efficientNetV2('EfficientNetV2L', options);
}

const EFFICIENTNET_V2_PAPER = 'EfficientNetV2: Smaller Models and Faster Training (Tan & Le, ICML 2021)';

/** The registry's EfficientNetV2 entries (figures from keras.io/api/applications). */
export const efficientNetV2Applications = imageApplications({
  EfficientNetV2B0: {
    module: 'efficientnet_v2',
    build: efficientNetV2B0,
    preprocessing: 'none',
    metadata: { sizeMB: 29, top1: 0.787, top5: 0.943, parameters: 7_200_312, reference: EFFICIENTNET_V2_PAPER },
  },
  EfficientNetV2B1: {
    module: 'efficientnet_v2',
    build: efficientNetV2B1,
    preprocessing: 'none',
    defaultSize: 240,
    metadata: { sizeMB: 34, top1: 0.798, top5: 0.95, parameters: 8_212_124, reference: EFFICIENTNET_V2_PAPER },
  },
  EfficientNetV2B2: {
    module: 'efficientnet_v2',
    build: efficientNetV2B2,
    preprocessing: 'none',
    defaultSize: 260,
    metadata: { sizeMB: 42, top1: 0.805, top5: 0.951, parameters: 10_178_374, reference: EFFICIENTNET_V2_PAPER },
  },
  EfficientNetV2B3: {
    module: 'efficientnet_v2',
    build: efficientNetV2B3,
    preprocessing: 'none',
    defaultSize: 300,
    metadata: { sizeMB: 59, top1: 0.82, top5: 0.958, parameters: 14_467_622, reference: EFFICIENTNET_V2_PAPER },
  },
  EfficientNetV2S: {
    module: 'efficientnet_v2',
    build: efficientNetV2S,
    preprocessing: 'none',
    defaultSize: 384,
    metadata: { sizeMB: 88, top1: 0.839, top5: 0.967, parameters: 21_612_360, reference: EFFICIENTNET_V2_PAPER },
  },
  EfficientNetV2M: {
    module: 'efficientnet_v2',
    build: efficientNetV2M,
    preprocessing: 'none',
    defaultSize: 480,
    metadata: { sizeMB: 220, top1: 0.853, top5: 0.974, parameters: 54_431_388, reference: EFFICIENTNET_V2_PAPER },
  },
  EfficientNetV2L: {
    module: 'efficientnet_v2',
    build: efficientNetV2L,
    preprocessing: 'none',
    defaultSize: 480,
    metadata: { sizeMB: 479, top1: 0.857, top5: 0.975, parameters: 119_027_848, reference: EFFICIENTNET_V2_PAPER },
  },
});
