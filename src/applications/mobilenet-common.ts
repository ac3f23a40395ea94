// What MobileNet, MobileNetV2 and MobileNetV3 (keras/src/applications/mobilenet*.py) share: Keras's channel
// rounding and `correct_pad`, the rules for their own options, and layer factories that name layers as
// Keras does and take their initial values from the weights file being loaded.
import * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError } from '../errors';
import { GlobalAveragePooling2D } from '../layers/global-average-pooling2d';
import { apply, kerasAutoNames, type BuildContext } from './common';
import { formatValue, warnOnce } from '../arguments';

type Padding2D = [[number, number], [number, number]];

/** Keras's `_make_divisible` (v2) / `_depth` (v3): `v` rounded to a multiple of 8, never more than 10 % down. */
export function makeDivisible(v: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * v ? rounded + divisor : rounded;
}

/** A number as Python prints a float (`1.0`, `0.35`): how the weight-file names and manifest keys spell alpha. */
export function pythonFloat(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

export function validateNumber(name: string, value: unknown, rule: (v: number) => boolean, allowed: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !rule(value)) {
    throw new ArgumentError(`\`${name}\` must be ${allowed}. Received: ${name}=${formatValue(value)}`);
  }
  return value;
}

/** `alpha` with 'imagenet' weights: only the widths Keras publishes files for. */
export function checkImagenetAlpha(alpha: number, published: number[], rule = `one of ${published.map(pythonFloat).join(', ')}`): void {
  if (!published.includes(alpha)) {
    throw new ArgumentError(`If imagenet weights are being loaded, \`alpha\` must be ${rule}. Received: alpha=${formatValue(alpha)}`);
  }
}

/**
 * The input size whose official file is loaded (v1, v2): the model's if square and published, else 224 with
 * Keras's warning.
 */
export function officialRows(kerasName: string, shape: readonly (number | null)[], published: number[]): number {
  const [rows, cols] = shape;
  if (rows === cols && rows !== null && published.includes(rows!)) return rows!;
  warnOnce(
    `${kerasName}: \`inputShape\` is undefined or non-square, or \`rows\` is not in [${published.join(', ')}]. ` +
      'Weights for input shape (224, 224) will be loaded as the default.',
  );
  return 224;
}

/** Keras's default size for v1 and v2: a square input of a published size, else 224. */
export function publishedSquareSize(rows: number | null | undefined, cols: number | null | undefined, published: number[]): number {
  return rows === cols && rows != null && published.includes(rows) ? rows : 224;
}

/** Layer factories for one build; `bnMomentum` only matters for training (v1 keeps Keras's default 0.99). */
export function mobileNetKit(context: BuildContext, bnMomentum: number) {
  const autoName = kerasAutoNames();
  return {
    autoName,
    conv: (x: tfl.SymbolicTensor, filters: number, kernelSize: number, name: string, opts: { strides?: number; useBias?: boolean } = {}) =>
      apply(
        tfl.layers.conv2d({
          filters,
          kernelSize,
          strides: opts.strides ?? 1,
          padding: 'same',
          useBias: opts.useBias ?? false,
          name,
          ...context.init(name),
        }),
        x,
      ),
    /** Keras's blocks pad explicitly before a strided depthwise convolution, so stride 2 means 'valid'. */
    depthwise: (x: tfl.SymbolicTensor, kernelSize: number, name: string, opts: { strides?: number; depthMultiplier?: number } = {}) =>
      apply(
        tfl.layers.depthwiseConv2d({
          kernelSize,
          strides: opts.strides ?? 1,
          padding: (opts.strides ?? 1) === 1 ? 'same' : 'valid',
          depthMultiplier: opts.depthMultiplier ?? 1,
          useBias: false,
          name,
          ...context.init(name),
        }),
        x,
      ),
    bn: (x: tfl.SymbolicTensor, name: string) =>
      apply(tfl.layers.batchNormalization({ axis: 3, epsilon: 1e-3, momentum: bnMomentum, name, ...context.init(name) }), x),
    /** Keras's `ReLU(max_value)`; unnamed ones are `re_lu`, `re_lu_1`, … */
    relu: (x: tfl.SymbolicTensor, name = autoName('re_lu'), maxValue?: number) => apply(tfl.layers.reLU({ maxValue, name }), x),
    pad: (x: tfl.SymbolicTensor, padding: Padding2D, name: string) => apply(tfl.layers.zeroPadding2d({ padding, name }), x),
    /** Global average pooling that keeps the map 4-D (Keras's `keepdims=True`). */
    poolKeepingDims: (x: tfl.SymbolicTensor, name: string) => apply(new GlobalAveragePooling2D({ keepdims: true, name }), x),
    /** The classifier's last layer: a separate Activation named `predictions` (v1, v3). */
    predictionsActivation: (x: tfl.SymbolicTensor) =>
      apply(tfl.layers.activation({ activation: (context.classifierActivation ?? 'linear') as never, name: 'predictions' }), x),
  };
}

export type MobileNetKit = ReturnType<typeof mobileNetKit>;

/** The channel count of a channels-last feature map. */
export function channels(x: tfl.SymbolicTensor): number {
  return x.shape[3]!;
}

/** One published ImageNet checkpoint as the Keras docstrings tabulate it (accuracies 0–1). */
export interface PublishedCheckpoint {
  /** The docstring's name, e.g. `mobilenet_v2_0.35_96`. */
  checkpoint: string;
  alpha: number;
  /** Input height and width. */
  size: number;
  minimalistic?: boolean;
  top1: number;
  /** Listed for MobileNetV2 only. */
  top5?: number;
  multiplyAddsMillions: number;
  parametersMillions: number;
}
