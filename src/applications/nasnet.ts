// NASNetMobile and NASNetLarge (keras/src/applications/nasnet.py): a stem convolution, two stem reduction
// cells, then three stacks of normal cells separated by reduction cells. Each cell sees the two previous
// cell outputs (`ip`, the latest, and `p`, the one before); `p` is first adjusted to ip's size and width.
// Keras builds NASNet for channels_last only; tfjs models here are always channels-last.
import * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError } from '../errors';
import { builderSpec, imageApplications } from './application-entry';
import { apply, biasFreeConv, buildApplication, kerasAutoNames, poolingTop, type BiasFreeConvOptions, type BuilderSpec, type BuildContext } from './common';
import { correctPad } from './imagenet-utils';
import { type ApplicationOptions, type InputShape } from './types';
import { officialWeights, type OfficialWeights } from './official-weights';

type Tensor = tfl.SymbolicTensor;
type Padding2D = [[number, number], [number, number]];

/** The architecture arguments of Keras's (unexported) `NASNet` function. */
export interface NASNetConfig {
  /** Filters of the last cells; a multiple of 24 · filterMultiplier². */
  penultimateFilters: number;
  /** Normal cells in each of the three stacks. */
  numBlocks: number;
  stemBlockFilters: number;
  /** Whether a normal cell after a reduction skips it, taking the reduction's input as `p`. */
  skipReduction: boolean;
  /** Filter growth at each reduction. */
  filterMultiplier: number;
  /** The input size of the official weights; 224 and 331 have them (NASNetMobile, NASNetLarge). */
  defaultSize: number;
}

/** Options of `nasnet`: the common ones and the architecture arguments (Keras's defaults are NASNetLarge's). */
export type NASNetOptions = ApplicationOptions & Partial<NASNetConfig>;

const NASNET_MOBILE: NASNetConfig = { penultimateFilters: 1056, numBlocks: 4, stemBlockFilters: 32, skipReduction: false, filterMultiplier: 2, defaultSize: 224 };
const NASNET_LARGE: NASNetConfig = { penultimateFilters: 4032, numBlocks: 6, stemBlockFilters: 96, skipReduction: true, filterMultiplier: 2, defaultSize: 331 };

const BN_MOMENTUM = 0.9997;
const BN_EPSILON = 1e-3;

function layerKit(context: BuildContext) {
  const autoName = kerasAutoNames();
  const relu = (x: Tensor, name = autoName('activation')) => apply(tfl.layers.activation({ activation: 'relu', name }), x);
  const bn = (x: Tensor, name: string) =>
    apply(tfl.layers.batchNormalization({ axis: 3, momentum: BN_MOMENTUM, epsilon: BN_EPSILON, name, ...context.init(name) }), x);
  const pad = (x: Tensor, padding: Padding2D, name = autoName('zero_padding2d')) => apply(tfl.layers.zeroPadding2d({ padding, name }), x);
  return {
    relu,
    bn,
    pad,
    conv: (x: Tensor, filters: number, name: string, kernelSize = 1, opts: Omit<BiasFreeConvOptions, 'kernelInitializer'> = {}) =>
      biasFreeConv(context, x, filters, kernelSize, name, { ...opts, kernelInitializer: 'heNormal' }),
    separableConv: (x: Tensor, filters: number, kernelSize: number, strides: number, padding: 'same' | 'valid', name: string) => {
      // tfjs refuses a kernel initialiser on separable convolutions (they have depthwise and pointwise ones).
      const { kernelInitializer: _unused, ...init } = context.init(name);
      return apply(tfl.layers.separableConv2d({ filters, kernelSize, strides, padding, useBias: false, name, ...init }), x);
    },
    avgPool: (x: Tensor, poolSize: number, strides: number, padding: 'same' | 'valid', name: string) =>
      apply(tfl.layers.averagePooling2d({ poolSize, strides, padding, name }), x),
    maxPool: (x: Tensor, name: string) => apply(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name }), x),
    /** Shifts the map by one pixel: pad bottom/right, crop top/left. */
    shift: (x: Tensor) =>
      apply(tfl.layers.cropping2D({ cropping: [[1, 0], [1, 0]], name: autoName('cropping2d') }), pad(x, [[0, 1], [0, 1]])),
    add: (xs: Tensor[], name = autoName('add')) => apply(tfl.layers.add({ name }), xs),
    concat: (xs: Tensor[], name = autoName('concatenate')) => apply(tfl.layers.concatenate({ axis: -1, name }), xs),
  };
}

type Kit = ReturnType<typeof layerKit>;

/** ReLU → separable conv → BN, twice; with stride 2 the first convolution is explicitly padded. */
function separableConvBlock(k: Kit, x: Tensor, filters: number, kernelSize: number, strides: number, id: string): Tensor {
  x = k.relu(x);
  let padding: 'same' | 'valid' = 'same';
  if (strides === 2) {
    x = k.pad(x, correctPad(x, kernelSize), `separable_conv_1_pad_${id}`);
    padding = 'valid';
  }
  x = k.bn(k.separableConv(x, filters, kernelSize, strides, padding, `separable_conv_1_${id}`), `separable_conv_1_bn_${id}`);
  x = k.relu(x);
  return k.bn(k.separableConv(x, filters, kernelSize, 1, 'same', `separable_conv_2_${id}`), `separable_conv_2_bn_${id}`);
}

/**
 * Brings the previous cell's output `p` to ip's size (two half-width strided 1×1 paths, one shifted by a
 * pixel) or to `filters` channels (a 1×1 projection). Keras compares widths, as here.
 */
function adjustBlock(k: Kit, p: Tensor | null, ip: Tensor, filters: number, id: string): Tensor {
  if (p === null) return ip;
  if (p.shape[2] !== ip.shape[2]) {
    p = k.relu(p, `adjust_relu_1_${id}`);
    const p1 = k.conv(k.avgPool(p, 1, 2, 'valid', `adjust_avg_pool_1_${id}`), Math.floor(filters / 2), `adjust_conv_1_${id}`);
    const p2 = k.conv(k.avgPool(k.shift(p), 1, 2, 'valid', `adjust_avg_pool_2_${id}`), Math.floor(filters / 2), `adjust_conv_2_${id}`);
    return k.bn(k.concat([p1, p2]), `adjust_bn_${id}`);
  }
  if (p.shape[3] !== filters) {
    return k.bn(k.conv(k.relu(p), filters, `adjust_conv_projection_${id}`), `adjust_bn_${id}`);
  }
  return p;
}

/** ReLU → 1×1 conv → BN of the cell input: the `h` both cell types start from. */
function cellInput(k: Kit, ip: Tensor, filters: number, kind: 'normal' | 'reduction', id: string): Tensor {
  return k.bn(k.conv(k.relu(ip), filters, `${kind}_conv_1_${id}`), `${kind}_bn_1_${id}`);
}

/** A normal cell; returns [output, ip] (the next cell's `ip` and `p`). */
function normalCell(k: Kit, ip: Tensor, p: Tensor | null, filters: number, id: string): [Tensor, Tensor] {
  const q = adjustBlock(k, p, ip, filters, id);
  const h = cellInput(k, ip, filters, 'normal', id);
  const sep = (x: Tensor, size: number, branch: string) => separableConvBlock(k, x, filters, size, 1, `normal_${branch}_${id}`);
  const pool = (x: Tensor, branch: string) => k.avgPool(x, 3, 1, 'same', `normal_${branch}_${id}`);
  const x1 = k.add([sep(h, 5, 'left1'), sep(q, 3, 'right1')], `normal_add_1_${id}`);
  const x2 = k.add([sep(q, 5, 'left2'), sep(q, 3, 'right2')], `normal_add_2_${id}`);
  const x3 = k.add([pool(h, 'left3'), q], `normal_add_3_${id}`);
  const x4 = k.add([pool(q, 'left4'), pool(q, 'right4')], `normal_add_4_${id}`);
  const x5 = k.add([sep(h, 3, 'left5'), h], `normal_add_5_${id}`);
  return [k.concat([q, x1, x2, x3, x4, x5], `normal_concat_${id}`), ip];
}

/** A reduction cell (stride 2); returns [output, ip]. Keras's names here are irregular (add3, left4 twice). */
function reductionCell(k: Kit, ip: Tensor, p: Tensor | null, filters: number, id: string): [Tensor, Tensor] {
  const q = adjustBlock(k, p, ip, filters, id);
  const h = cellInput(k, ip, filters, 'reduction', id);
  const h3 = k.pad(h, correctPad(h, 3), `reduction_pad_1_${id}`);
  const sep = (x: Tensor, size: number, strides: number, branch: string) =>
    separableConvBlock(k, x, filters, size, strides, `reduction_${branch}_${id}`);
  const x1 = k.add([sep(h, 5, 2, 'left1'), sep(q, 7, 2, 'right1')], `reduction_add_1_${id}`);
  const x2 = k.add([k.maxPool(h3, `reduction_left2_${id}`), sep(q, 7, 2, 'right2')], `reduction_add_2_${id}`);
  const x3 = k.add([k.avgPool(h3, 3, 2, 'valid', `reduction_left3_${id}`), sep(q, 5, 2, 'right3')], `reduction_add3_${id}`);
  const x4 = k.add([x2, k.avgPool(x1, 3, 1, 'same', `reduction_left4_${id}`)]);
  const x5 = k.add([sep(x1, 3, 1, 'left4'), k.maxPool(h3, `reduction_right5_${id}`)], `reduction_add4_${id}`);
  return [k.concat([x2, x3, x4, x5], `reduction_concat_${id}`), ip];
}

function nasnetBody(config: NASNetConfig) {
  const { penultimateFilters, numBlocks, stemBlockFilters, skipReduction, filterMultiplier: m } = config;
  return (input: Tensor, context: BuildContext): Tensor => {
    const k = layerKit(context);
    const filters = Math.floor(penultimateFilters / 24);
    let x = k.bn(k.conv(input, stemBlockFilters, 'stem_conv1', 3, { strides: 2, padding: 'valid' }), 'stem_bn1');
    let p: Tensor | null = null;
    [x, p] = reductionCell(k, x, p, Math.floor(filters / m ** 2), 'stem_1');
    [x, p] = reductionCell(k, x, p, Math.floor(filters / m), 'stem_2');
    for (let stack = 0; stack < 3; stack++) {
      const stackFilters = filters * m ** stack;
      if (stack > 0) {
        const [reduced, reductionInput]: [Tensor, Tensor] = reductionCell(k, x, p, stackFilters, `reduce_${stack * numBlocks}`);
        x = reduced;
        if (!skipReduction) p = reductionInput;
      }
      for (let i = 0; i < numBlocks; i++) {
        const id = stack === 0 ? `${i}` : `${stack * numBlocks + i + 1}`;
        [x, p] = normalCell(k, x, p, stackFilters, id);
      }
    }
    x = k.relu(x);
    // Keras leaves the pooling unnamed, with the top too.
    return poolingTop(x, context, { avg: 'global_average_pooling2d', max: 'global_max_pooling2d' });
  };
}

/** The official files: Keras caches them under its own names, not the URL's (`NASNet-mobile.h5` → `nasnet_mobile.h5`). */
function nasnetWeights(kerasName: string, localName: string): OfficialWeights {
  const { top, notop } = officialWeights(kerasName);
  return {
    top: top && { ...top, fileName: `${localName}.h5` },
    notop: notop && { ...notop, fileName: `${localName}_no_top.h5` },
  };
}

/** Keras picks the official files by the default size alone. */
function officialWeightsOfSize(defaultSize: number): OfficialWeights | undefined {
  return Object.values(nasnetApplications).find((entry) => entry.defaultSize === defaultSize)?.weights;
}

const CONFIG_OPTIONS: (keyof NASNetConfig)[] = ['penultimateFilters', 'numBlocks', 'stemBlockFilters', 'skipReduction', 'filterMultiplier', 'defaultSize'];

function checkConfig(config: NASNetConfig): void {
  for (const key of CONFIG_OPTIONS) {
    const value = config[key];
    const valid = key === 'skipReduction' ? typeof value === 'boolean' : typeof value === 'number' && Number.isInteger(value) && value >= 1;
    if (!valid) {
      const allowed = key === 'skipReduction' ? 'true or false' : 'a positive integer';
      throw new ArgumentError(`\`${key}\` must be ${allowed}. Received: ${key}=${JSON.stringify(value)}`);
    }
  }
  const { penultimateFilters, filterMultiplier } = config;
  if (penultimateFilters % (24 * filterMultiplier ** 2) !== 0) {
    throw new ArgumentError(
      'For NASNet-A models, the `penultimateFilters` must be a multiple of 24 * (`filterMultiplier` ** 2). ' +
        `Received: penultimateFilters=${penultimateFilters}, filterMultiplier=${filterMultiplier}`,
    );
  }
}

/** Keras's NASNet rules that come before its input shape is settled, then the build. */
async function buildNASNet(spec: BuilderSpec, config: NASNetConfig, options: ApplicationOptions | undefined): Promise<tfl.LayersModel> {
  const weights = options?.weights === undefined ? 'imagenet' : options.weights;
  if (weights === 'imagenet' && Array.isArray(options?.inputShape) && options.inputShape.includes(null)) {
    throw new ArgumentError(
      'When specifying the input shape of a NASNet and loading `ImageNet` weights, the inputShape argument must be ' +
        `static (no null entries). Received: inputShape=${JSON.stringify(options.inputShape)}`,
    );
  }
  checkConfig(config);
  if (weights === 'imagenet' && !spec.officialWeights) {
    throw new ArgumentError(
      'ImageNet weights can only be loaded with NASNetLarge or NASNetMobile (defaultSize 331 or 224). ' +
        `Received: weights='imagenet', defaultSize=${config.defaultSize}`,
    );
  }
  return buildApplication(spec, options, nasnetBody(config));
}

/**
 * NASNet-A with its architecture arguments, as Keras's `keras.src.applications.nasnet.NASNet` (which
 * `keras.applications` does not export). Official weights exist only for defaultSize 224 and 331.
 */
export function nasnet(options: NASNetOptions = {}): Promise<tfl.LayersModel> {
  const config = Object.fromEntries(CONFIG_OPTIONS.map((key) => [key, options[key] ?? NASNET_LARGE[key]])) as unknown as NASNetConfig;
  const spec: BuilderSpec = {
    kerasName: 'NASNet',
    defaultName: 'NASNet',
    defaultSize: config.defaultSize,
    minSize: 32,
    officialWeights: officialWeightsOfSize(config.defaultSize),
    extraOptions: CONFIG_OPTIONS,
  };
  return buildNASNet(spec, config, options);
}

/**
 * NASNetMobile (Zoph et al., CVPR 2018), as `keras.applications.NASNetMobile`. Default input 224×224×3
 * (also without the top when no inputShape is given); preprocessing: tf.
 */
export function nasnetMobile(options: ApplicationOptions = {}): Promise<tfl.LayersModel> {
  const withoutTopSize: InputShape = [NASNET_MOBILE.defaultSize, NASNET_MOBILE.defaultSize, 3];
  const fixedSize = options.includeTop === false && options.inputShape == null ? { inputShape: withoutTopSize } : {};
  return buildNASNet(builderSpec(nasnetApplications.NASNetMobile, { defaultName: 'nasnet_mobile' }), NASNET_MOBILE, { ...options, ...fixedSize });
}

/** NASNetLarge (Zoph et al., CVPR 2018), as `keras.applications.NASNetLarge`. Default input 331×331×3; preprocessing: tf. */
export function nasnetLarge(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildNASNet(builderSpec(nasnetApplications.NASNetLarge, { defaultName: 'nasnet_large' }), NASNET_LARGE, options);
}

const NASNET_PAPER = 'Learning Transferable Architectures for Scalable Image Recognition (Zoph et al., CVPR 2018)';

/** The registry's NASNet entries (figures from keras.io/api/applications). */
export const nasnetApplications = imageApplications({
  NASNetMobile: {
    module: 'nasnet',
    build: nasnetMobile,
    preprocessing: 'tf',
    defaultSize: NASNET_MOBILE.defaultSize,
    weights: nasnetWeights('NASNetMobile', 'nasnet_mobile'),
    metadata: { sizeMB: 23, top1: 0.744, top5: 0.919, parameters: 5_326_716, depth: 389, reference: NASNET_PAPER },
  },
  NASNetLarge: {
    module: 'nasnet',
    build: nasnetLarge,
    preprocessing: 'tf',
    defaultSize: NASNET_LARGE.defaultSize,
    weights: nasnetWeights('NASNetLarge', 'nasnet_large'),
    metadata: { sizeMB: 343, top1: 0.825, top5: 0.96, parameters: 88_949_818, depth: 533, reference: NASNET_PAPER },
  },
});
