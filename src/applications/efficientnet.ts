// EfficientNetB0…B7 (keras/src/applications/efficientnet.py): MBConv blocks with squeeze-and-excitation,
// scaled in width, depth and input size per variant; the preprocessing (pixels in [0, 255] → ImageNet
// normalisation) is part of the model.
import * as tfl from '@tensorflow/tfjs-layers';
import { Normalization } from '../layers/normalization';
import { builderSpec, imageApplications } from './application-entry';
import { apply, biasFreeConv, buildApplication, kerasAutoNames, poolingTop, predictions, type BiasFreeConvOptions, type BuildContext } from './common';
import { correctPad } from './imagenet-utils';
import { type ApplicationOptions } from './types';

/** One stage of MBConv blocks, before width and depth scaling (Keras's DEFAULT_BLOCKS_ARGS). */
interface StageArgs {
  kernelSize: number;
  repeats: number;
  filtersIn: number;
  filtersOut: number;
  expandRatio: number;
  strides: number;
}

const STAGES: StageArgs[] = [
  { kernelSize: 3, repeats: 1, filtersIn: 32, filtersOut: 16, expandRatio: 1, strides: 1 },
  { kernelSize: 3, repeats: 2, filtersIn: 16, filtersOut: 24, expandRatio: 6, strides: 2 },
  { kernelSize: 5, repeats: 2, filtersIn: 24, filtersOut: 40, expandRatio: 6, strides: 2 },
  { kernelSize: 3, repeats: 3, filtersIn: 40, filtersOut: 80, expandRatio: 6, strides: 2 },
  { kernelSize: 5, repeats: 3, filtersIn: 80, filtersOut: 112, expandRatio: 6, strides: 1 },
  { kernelSize: 5, repeats: 4, filtersIn: 112, filtersOut: 192, expandRatio: 6, strides: 2 },
  { kernelSize: 3, repeats: 1, filtersIn: 192, filtersOut: 320, expandRatio: 6, strides: 1 },
];

/** Every block's squeeze-and-excitation squeezes to a quarter of its input filters. */
const SE_RATIO = 0.25;
const DEPTH_DIVISOR = 8;
const DROP_CONNECT_RATE = 0.2;
const ACTIVATION = 'swish';
const IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225];

/** A variant's scaling: width and depth coefficients, and the dropout before the top. */
interface Variant {
  width: number;
  depth: number;
  dropout: number;
}

/** Keras's round_filters: scale by the width coefficient, round to the divisor, never more than 10% down. */
function roundFilters(filters: number, width: number): number {
  const scaled = filters * width;
  let rounded = Math.max(DEPTH_DIVISOR, Math.floor(Math.trunc(scaled + DEPTH_DIVISOR / 2) / DEPTH_DIVISOR) * DEPTH_DIVISOR);
  if (rounded < 0.9 * scaled) rounded += DEPTH_DIVISOR;
  return rounded;
}

function roundRepeats(repeats: number, depth: number): number {
  return Math.ceil(depth * repeats);
}

/**
 * Layer factories that take their initial values from the weights file being loaded, if any. Shared with
 * EfficientNetV2, which differs only in its BatchNormalization momentum.
 */
export function layerKit(context: BuildContext, bnMomentum = 0.99) {
  return {
    conv: (x: tfl.SymbolicTensor, filters: number, kernelSize: number, name: string, opts: BiasFreeConvOptions = {}) =>
      biasFreeConv(context, x, filters, kernelSize, name, opts),
    depthwise: (x: tfl.SymbolicTensor, kernelSize: number, strides: number, padding: 'same' | 'valid', name: string) =>
      apply(tfl.layers.depthwiseConv2d({ kernelSize, strides, padding, useBias: false, name, ...context.init(name) }), x),
    bn: (x: tfl.SymbolicTensor, name: string) =>
      apply(tfl.layers.batchNormalization({ axis: 3, momentum: bnMomentum, epsilon: 1e-3, name, ...context.init(name) }), x),
    activation: (x: tfl.SymbolicTensor, name: string) => apply(tfl.layers.activation({ activation: ACTIVATION, name }), x),
    pad: (x: tfl.SymbolicTensor, kernelSize: number, name: string) =>
      apply(tfl.layers.zeroPadding2d({ padding: correctPad(x, kernelSize), name }), x),
  };
}

/** Squeeze-and-excitation: per-channel weights from the pooled map, squeezed to `filtersIn · seRatio` channels. */
export function squeezeExcite(context: BuildContext, x: tfl.SymbolicTensor, filtersIn: number, seRatio: number, name: string): tfl.SymbolicTensor {
  const filters = x.shape[3]!;
  const pointwise = (input: tfl.SymbolicTensor, units: number, activation: 'swish' | 'sigmoid', layerName: string) =>
    apply(tfl.layers.conv2d({ filters: units, kernelSize: 1, padding: 'same', activation, name: layerName, ...context.init(layerName) }), input);
  let se = apply(tfl.layers.globalAveragePooling2d({ name: `${name}se_squeeze` }), x);
  se = apply(tfl.layers.reshape({ targetShape: [1, 1, filters], name: `${name}se_reshape` }), se);
  se = pointwise(se, Math.max(1, Math.trunc(filtersIn * seRatio)), ACTIVATION, `${name}se_reduce`);
  se = pointwise(se, filters, 'sigmoid', `${name}se_expand`);
  return apply(tfl.layers.multiply({ name: `${name}se_excite` }), [x, se]);
}

/** The identity shortcut, after drop-connect (whole samples dropped in training; identity at inference). */
export function shortcutAdd(x: tfl.SymbolicTensor, inputs: tfl.SymbolicTensor, dropRate: number, name: string): tfl.SymbolicTensor {
  if (dropRate > 0) {
    // Keras's noise shape (None, 1, 1, 1); tfjs takes null for "the input's size" as Keras does.
    const noiseShape = [null, 1, 1, 1] as unknown as number[];
    x = apply(tfl.layers.dropout({ rate: dropRate, noiseShape, name: `${name}drop` }), x);
  }
  return apply(tfl.layers.add({ name: `${name}add` }), [x, inputs]);
}

/** The 1×1 top convolution, then the classifier (with dropout before it) or the requested pooling. */
export function efficientNetTop(k: Kit, context: BuildContext, x: tfl.SymbolicTensor, filters: number, dropout: number): tfl.SymbolicTensor {
  x = k.activation(k.bn(k.conv(x, filters, 1, 'top_conv'), 'top_bn'), 'top_activation');
  if (!context.includeTop) return poolingTop(x, context, { avg: 'avg_pool', max: 'max_pool' });
  x = apply(tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
  x = apply(tfl.layers.dropout({ rate: dropout, name: 'top_dropout' }), x);
  return predictions(x, context);
}

export type Kit = ReturnType<typeof layerKit>;

interface BlockArgs extends Omit<StageArgs, 'repeats'> {
  name: string;
  dropRate: number;
}

/** An inverted residual (MBConv) block: expand, depthwise, squeeze-and-excite, project, maybe add. */
function mbConvBlock(context: BuildContext, k: Kit, inputs: tfl.SymbolicTensor, args: BlockArgs): tfl.SymbolicTensor {
  const { name, filtersIn, filtersOut, kernelSize, strides, expandRatio, dropRate } = args;
  const filters = filtersIn * expandRatio;
  let x = inputs;
  if (expandRatio !== 1) {
    x = k.activation(k.bn(k.conv(x, filters, 1, `${name}expand_conv`), `${name}expand_bn`), `${name}expand_activation`);
  }
  if (strides === 2) x = k.pad(x, kernelSize, `${name}dwconv_pad`);
  x = k.depthwise(x, kernelSize, strides, strides === 2 ? 'valid' : 'same', `${name}dwconv`);
  x = k.activation(k.bn(x, `${name}bn`), `${name}activation`);

  x = squeezeExcite(context, x, filtersIn, SE_RATIO, name);
  x = k.bn(k.conv(x, filtersOut, 1, `${name}project_conv`), `${name}project_bn`);
  if (strides === 1 && filtersIn === filtersOut) x = shortcutAdd(x, inputs, dropRate, name);
  return x;
}

function efficientNetBody(variant: Variant) {
  return (input: tfl.SymbolicTensor, context: BuildContext): tfl.SymbolicTensor => {
    const k = layerKit(context);
    const autoName = kerasAutoNames();
    const filtersOf = (filters: number) => roundFilters(filters, variant.width);

    let x = apply(tfl.layers.rescaling({ scale: 1 / 255, name: autoName('rescaling') }), input);
    x = apply(new Normalization({ axis: 3, name: autoName('normalization'), ...context.init('normalization') }), x);
    if (context.weights === 'imagenet') {
      // The official weights expect (x - mean) / variance, as the original code normalised; Normalization
      // divides by sqrt(variance), so Keras divides once more by each channel's sqrt(stddev).
      const scale = IMAGENET_STDDEV_RGB.map((stddev) => 1 / Math.sqrt(stddev)) as unknown as number;
      x = apply(tfl.layers.rescaling({ scale, name: autoName('rescaling') }), x);
    }
    x = k.pad(x, 3, 'stem_conv_pad');
    x = k.conv(x, filtersOf(32), 3, 'stem_conv', { strides: 2, padding: 'valid' });
    x = k.activation(k.bn(x, 'stem_bn'), 'stem_activation');

    const totalBlocks = STAGES.reduce((sum, stage) => sum + roundRepeats(stage.repeats, variant.depth), 0);
    let blockIndex = 0;
    STAGES.forEach((stage, i) => {
      const repeats = roundRepeats(stage.repeats, variant.depth);
      for (let j = 0; j < repeats; j++) {
        const first = j === 0;
        x = mbConvBlock(context, k, x, {
          ...stage,
          name: `block${i + 1}${String.fromCharCode(97 + j)}_`,
          filtersIn: first ? filtersOf(stage.filtersIn) : filtersOf(stage.filtersOut),
          filtersOut: filtersOf(stage.filtersOut),
          strides: first ? stage.strides : 1,
          dropRate: (DROP_CONNECT_RATE * blockIndex) / totalBlocks,
        });
        blockIndex++;
      }
    });

    return efficientNetTop(k, context, x, filtersOf(1280), variant.dropout);
  };
}

const VARIANTS = {
  EfficientNetB0: { width: 1.0, depth: 1.0, dropout: 0.2 },
  EfficientNetB1: { width: 1.0, depth: 1.1, dropout: 0.2 },
  EfficientNetB2: { width: 1.1, depth: 1.2, dropout: 0.3 },
  EfficientNetB3: { width: 1.2, depth: 1.4, dropout: 0.3 },
  EfficientNetB4: { width: 1.4, depth: 1.8, dropout: 0.4 },
  EfficientNetB5: { width: 1.6, depth: 2.2, dropout: 0.4 },
  EfficientNetB6: { width: 1.8, depth: 2.6, dropout: 0.5 },
  EfficientNetB7: { width: 2.0, depth: 3.1, dropout: 0.5 },
} satisfies Record<string, Variant>;

type VariantName = keyof typeof VARIANTS;

function efficientNet(kerasName: VariantName, options: ApplicationOptions | undefined): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(efficientNetApplications[kerasName]), options, efficientNetBody(VARIANTS[kerasName]));
}

// Keras derives the official file's name from the model's `name`, so a custom name there asks for a file that
// does not exist. Here the official file always follows the builder: `name` renames the model, nothing else.

/**
 * EfficientNetB0 (Tan & Le, ICML 2019), as `keras.applications.EfficientNetB0`. Default input 224×224×3,
 * pixels in [0, 255]: preprocessing is part of the model (`preprocessInput` mode `none`).
 */
export function efficientNetB0(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return efficientNet('EfficientNetB0', options);
}

/** EfficientNetB1, as `keras.applications.EfficientNetB1`. Default input 240×240×3, pixels in [0, 255]. */
export function efficientNetB1(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return efficientNet('EfficientNetB1', options);
}

/** EfficientNetB2, as `keras.applications.EfficientNetB2`. Default input 260×260×3, pixels in [0, 255]. */
export function efficientNetB2(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return efficientNet('EfficientNetB2', options);
}

/** EfficientNetB3, as `keras.applications.EfficientNetB3`. Default input 300×300×3, pixels in [0, 255]. */
export function efficientNetB3(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return efficientNet('EfficientNetB3', options);
}

/** EfficientNetB4, as `keras.applications.EfficientNetB4`. Default input 380×380×3, pixels in [0, 255]. */
export function efficientNetB4(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return efficientNet('EfficientNetB4', options);
}

/** EfficientNetB5, as `keras.applications.EfficientNetB5`. Default input 456×456×3, pixels in [0, 255]. */
export function efficientNetB5(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return efficientNet('EfficientNetB5', options);
}

/** EfficientNetB6, as `keras.applications.EfficientNetB6`. Default input 528×528×3, pixels in [0, 255]. */
export function efficientNetB6(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return efficientNet('EfficientNetB6', options);
}

/** EfficientNetB7, as `keras.applications.EfficientNetB7`. Default input 600×600×3, pixels in [0, 255]. */
export function efficientNetB7(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return efficientNet('EfficientNetB7', options);
}

const EFFICIENTNET_PAPER = 'EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks (Tan & Le, ICML 2019)';

/** The registry's EfficientNet entries (figures from keras.io/api/applications). */
export const efficientNetApplications = imageApplications({
  EfficientNetB0: {
    module: 'efficientnet',
    build: efficientNetB0,
    preprocessing: 'none',
    metadata: { sizeMB: 29, top1: 0.771, top5: 0.933, parameters: 5_330_571, depth: 132, reference: EFFICIENTNET_PAPER },
  },
  EfficientNetB1: {
    module: 'efficientnet',
    build: efficientNetB1,
    preprocessing: 'none',
    defaultSize: 240,
    metadata: { sizeMB: 31, top1: 0.791, top5: 0.944, parameters: 7_856_239, depth: 186, reference: EFFICIENTNET_PAPER },
  },
  EfficientNetB2: {
    module: 'efficientnet',
    build: efficientNetB2,
    preprocessing: 'none',
    defaultSize: 260,
    metadata: { sizeMB: 36, top1: 0.801, top5: 0.949, parameters: 9_177_569, depth: 186, reference: EFFICIENTNET_PAPER },
  },
  EfficientNetB3: {
    module: 'efficientnet',
    build: efficientNetB3,
    preprocessing: 'none',
    defaultSize: 300,
    metadata: { sizeMB: 48, top1: 0.816, top5: 0.957, parameters: 12_320_535, depth: 210, reference: EFFICIENTNET_PAPER },
  },
  EfficientNetB4: {
    module: 'efficientnet',
    build: efficientNetB4,
    preprocessing: 'none',
    defaultSize: 380,
    metadata: { sizeMB: 75, top1: 0.829, top5: 0.964, parameters: 19_466_823, depth: 258, reference: EFFICIENTNET_PAPER },
  },
  EfficientNetB5: {
    module: 'efficientnet',
    build: efficientNetB5,
    preprocessing: 'none',
    defaultSize: 456,
    metadata: { sizeMB: 118, top1: 0.836, top5: 0.967, parameters: 30_562_527, depth: 312, reference: EFFICIENTNET_PAPER },
  },
  EfficientNetB6: {
    module: 'efficientnet',
    build: efficientNetB6,
    preprocessing: 'none',
    defaultSize: 528,
    metadata: { sizeMB: 166, top1: 0.84, top5: 0.968, parameters: 43_265_143, depth: 360, reference: EFFICIENTNET_PAPER },
  },
  EfficientNetB7: {
    module: 'efficientnet',
    build: efficientNetB7,
    preprocessing: 'none',
    defaultSize: 600,
    metadata: { sizeMB: 256, top1: 0.843, top5: 0.97, parameters: 66_658_687, depth: 438, reference: EFFICIENTNET_PAPER },
  },
});
