// ResNetRS50 … ResNetRS420 as tf-keras built them (tf_keras/applications/resnet_rs.py; Bello et al., 2021):
// a ResNet-D stem of four 3×3 convolutions, bottleneck blocks with squeeze-and-excite, average-pool
// projection shortcuts and (for the deeper models) in-block dropout, which is the identity at inference.
// Preprocessing (x / 255, then ImageNet mean and variance) is in the model.
import * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError } from '../errors';
import { Normalization } from '../layers/normalization';
import type { WeightsFile } from '../weights/types';
import { builderSpec, imageApplications, type ApplicationEntry, type ImageApplicationDeclaration } from './application-entry';
import { apply, buildApplication, kerasAutoNames, predictions, resolveOptions, type BuildContext } from './common';
import { formatValue } from '../arguments';
import { type ApplicationOptions } from './types';
import { resolveWeightsFile } from '../weights/source';
import { officialFile, officialWeightVariants } from './official-weights';

type Tensor = tfl.SymbolicTensor;

export interface ResNetRSOptions extends Omit<ApplicationOptions, 'weights'> {
  /**
   * As the common `weights`, plus `'imagenet-i<size>'` for the weights trained at another resolution
   * (`RESNET_RS_WEIGHT_VARIANTS`); `'imagenet'` is the largest of them.
   */
  weights?: ApplicationOptions['weights'] | `imagenet-i${number}`;
  /** Rescale and normalise the input inside the model (tf-keras's `include_preprocessing`). Default `true`. */
  includePreprocessing?: boolean;
}

/** tf-keras's BLOCK_ARGS: blocks per stage (64, 128, 256, 512 filters), and the builders' fixed rates. */
interface ResNetRSConfig {
  depth: number;
  repeats: [number, number, number, number];
  dropoutRate: number;
  dropConnectRate: number;
}

const CONFIGS = {
  ResNetRS50: { depth: 50, repeats: [3, 4, 6, 3], dropoutRate: 0.25, dropConnectRate: 0 },
  ResNetRS101: { depth: 101, repeats: [3, 4, 23, 3], dropoutRate: 0.25, dropConnectRate: 0 },
  ResNetRS152: { depth: 152, repeats: [3, 8, 36, 3], dropoutRate: 0.25, dropConnectRate: 0 },
  ResNetRS200: { depth: 200, repeats: [3, 24, 36, 3], dropoutRate: 0.25, dropConnectRate: 0.1 },
  ResNetRS270: { depth: 270, repeats: [4, 29, 53, 4], dropoutRate: 0.25, dropConnectRate: 0.1 },
  ResNetRS350: { depth: 350, repeats: [4, 36, 72, 4], dropoutRate: 0.4, dropConnectRate: 0.1 },
  ResNetRS420: { depth: 420, repeats: [4, 44, 87, 4], dropoutRate: 0.4, dropConnectRate: 0.1 },
} satisfies Record<string, ResNetRSConfig>;

export type ResNetRSName = keyof typeof CONFIGS;

/** The `weights` values that pick each builder's official files, by training resolution. */
export const RESNET_RS_WEIGHT_VARIANTS = Object.fromEntries(
  Object.keys(CONFIGS).map((name) => [name, Object.keys(officialWeightVariants(name))]),
) as Record<ResNetRSName, string[]>;

const BN = { momentum: 0, epsilon: 1e-5 };

function layerKit(context: BuildContext) {
  const autoName = kerasAutoNames();
  const kit = {
    autoName,
    /** tf-keras's Conv2DFixedPadding: strided convolutions pad explicitly (an unnamed ZeroPadding2D), others 'same'. */
    conv: (x: Tensor, filters: number, kernelSize: number, strides: number, name: string) => {
      if (strides > 1) {
        const before = Math.floor((kernelSize - 1) / 2);
        const after = kernelSize - 1 - before;
        x = apply(tfl.layers.zeroPadding2d({ padding: [[before, after], [before, after]], name: autoName('zero_padding2d') }), x);
      }
      const padding = strides === 1 ? 'same' : 'valid';
      return apply(tfl.layers.conv2d({ filters, kernelSize, strides, padding, useBias: false, name, ...context.init(name) }), x);
    },
    bn: (x: Tensor, name: string) => apply(tfl.layers.batchNormalization({ axis: 3, ...BN, name, ...context.init(name) }), x),
    relu: (x: Tensor, name: string) => apply(tfl.layers.activation({ activation: 'relu', name }), x),
    convBnRelu: (x: Tensor, filters: number, kernelSize: number, strides: number, names: [string, string, string]) =>
      kit.relu(kit.bn(kit.conv(x, filters, kernelSize, strides, names[0]), names[1]), names[2]),
  };
  return kit;
}

type Kit = ReturnType<typeof layerKit>;

/** Squeeze-and-excite over the block's 4·filters channels, squeezed to `filters` (se_ratio 0.25). */
function squeezeExcite(inputs: Tensor, filters: number, name: string, context: BuildContext): Tensor {
  let x = apply(tfl.layers.globalAveragePooling2d({ name: `${name}_se_squeeze` }), inputs);
  x = apply(tfl.layers.reshape({ targetShape: [1, 1, 4 * filters], name: `${name}_se_reshape` }), x);
  for (const [units, activation, suffix] of [[Math.max(1, filters), 'relu', 'reduce'], [4 * filters, 'sigmoid', 'expand']] as const) {
    const convName = `${name}_se_${suffix}`;
    x = apply(tfl.layers.conv2d({ filters: units, kernelSize: 1, padding: 'same', activation, name: convName, ...context.init(convName) }), x);
  }
  return apply(tfl.layers.multiply({ name: `${name}_se_excite` }), [inputs, x]);
}

/** tf-keras's BottleneckBlock (names exactly as it spells them, `…batch_norm_1` without its `_` included). */
function bottleneck(k: Kit, inputs: Tensor, filters: number, strides: number, projection: boolean, survival: number, name: string, context: BuildContext): Tensor {
  let shortcut = inputs;
  if (projection) {
    if (strides === 2) {
      shortcut = apply(tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same', name: `${name}_projection_pooling` }), inputs);
      shortcut = k.conv(shortcut, 4 * filters, 1, 1, `${name}_projection_conv`);
    } else {
      shortcut = k.conv(inputs, 4 * filters, 1, strides, `${name}_projection_conv`);
    }
    shortcut = k.bn(shortcut, `${name}_projection_batch_norm`);
  }
  let x = k.convBnRelu(inputs, filters, 1, 1, [`${name}_conv_1`, `${name}batch_norm_1`, `${name}_act_1`]);
  x = k.convBnRelu(x, filters, 3, strides, [`${name}_conv_2`, `${name}_batch_norm_2`, `${name}_act_2`]);
  x = k.bn(k.conv(x, 4 * filters, 1, 1, `${name}_conv_3`), `${name}_batch_norm_3`);
  x = squeezeExcite(x, filters, `${name}_se`, context);
  // tf-keras passes the survival probability as the drop rate; either way Dropout is the identity at inference.
  if (survival) x = apply(tfl.layers.dropout({ rate: survival, noiseShape: [null, 1, 1, 1] as number[], name: `${name}_drop` }), x);
  x = apply(tfl.layers.add({ name: k.autoName('add') }), [x, shortcut]);
  return k.relu(x, `${name}_output_act`);
}

function resnetRSBody({ repeats, dropoutRate, dropConnectRate }: ResNetRSConfig, includePreprocessing: boolean) {
  return (input: Tensor, context: BuildContext): Tensor => {
    const k = layerKit(context);
    let x = input;
    if (includePreprocessing) {
      x = apply(tfl.layers.rescaling({ scale: 1 / 255, name: k.autoName('rescaling') }), x);
      if (context.inputShape[2] === 3) {
        const normalization = new Normalization({ axis: 3, mean: [0.485, 0.456, 0.406], variance: [0.229 ** 2, 0.224 ** 2, 0.225 ** 2], name: k.autoName('normalization') });
        x = apply(normalization, x);
      }
    }
    // The stem's prefix comes from tf-keras's process-wide uid: "stem_1" in a fresh process.
    const stem = 'stem_1_stem';
    [[32, 2], [32, 1], [64, 1], [64, 2]].forEach(([filters, strides], i) => {
      x = k.convBnRelu(x, filters!, 3, strides!, [`${stem}_conv_${i + 1}`, `${stem}_batch_norm_${i + 1}`, `${stem}_act_${i + 1}`]);
    });
    repeats.forEach((count, i) => {
      const filters = 64 * 2 ** i;
      const survival = (dropConnectRate * (i + 2)) / (repeats.length + 1);
      const group = `BlockGroup${i + 2}_`;
      for (let b = 0; b < count; b++) {
        x = bottleneck(k, x, filters, b === 0 && i > 0 ? 2 : 1, b === 0, survival, `${group}_block_${b}_`, context);
      }
    });
    if (context.includeTop) {
      x = apply(tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
      if (dropoutRate > 0) x = apply(tfl.layers.dropout({ rate: dropoutRate, name: 'top_dropout' }), x);
      return predictions(x, context);
    }
    if (context.pooling === 'avg') return apply(tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
    if (context.pooling === 'max') return apply(tfl.layers.globalMaxPooling2d({ name: 'max_pool' }), x);
    return x;
  };
}

/** Stands in for the official file while the other arguments are checked, so a bad call downloads nothing. */
const NO_FILE_YET: WeightsFile = { format: 'legacy', attributes: {}, layers: [] };

function resnetRS(kerasName: ResNetRSName): (options?: ResNetRSOptions) => Promise<tfl.LayersModel> {
  const config = CONFIGS[kerasName];
  const variants = officialWeightVariants(kerasName);
  const allowed = Object.keys(variants);
  const largest = allowed.reduce((a, b) => (Number(b.slice('imagenet-i'.length)) > Number(a.slice('imagenet-i'.length)) ? b : a));
  return async (options = {}) => {
    // The official files are resolved here, not by buildApplication: tf-keras checks the input shape and the top's
    // activation as for a weights file ('imagenet-i<size>' is not 'imagenet'), so any size ≥ 32 goes with them.
    const spec = builderSpec(resnetRSApplications[kerasName], {
      defaultName: `resnet-rs-${config.depth}`,
      officialWeights: undefined,
      extraOptions: ['includePreprocessing'],
    });
    const includePreprocessing = options.includePreprocessing ?? true;
    if (typeof includePreprocessing !== 'boolean') {
      throw new ArgumentError(`\`includePreprocessing\` must be true or false. Received: includePreprocessing=${formatValue(includePreprocessing)}`);
    }
    const body = resnetRSBody(config, includePreprocessing);
    const weights = options.weights === 'imagenet' || options.weights === undefined ? largest : options.weights;
    if (typeof weights !== 'string' || !weights.startsWith('imagenet')) return buildApplication(spec, options as ApplicationOptions, body);
    if (!allowed.includes(weights)) {
      throw new ArgumentError(
        "The `weights` argument should be either `null` (random initialization), 'imagenet' (pre-training on ImageNet, " +
          `with the highest available input shape), or the path to the weights file to be loaded. For ${kerasName} the ` +
          `following weight variants are available: ${allowed.map(formatValue).join(', ')} (default: the highest). ` +
          `Received: weights=${formatValue(options.weights)}`,
      );
    }
    const includeTop = options.includeTop ?? true;
    if (includeTop && (options.classes ?? 1000) !== 1000) {
      throw new ArgumentError(
        `If using \`weights\` as 'imagenet' or any of ${allowed.map(formatValue).join(', ')} with \`includeTop: true\`, ` +
          `\`classes\` should be 1000. Received: classes=${formatValue(options.classes)}`,
      );
    }
    resolveOptions(spec, { ...(options as ApplicationOptions), weights: NO_FILE_YET });
    const file = await resolveWeightsFile(officialFile(variants[weights]!, includeTop), options);
    return buildApplication(spec, { ...(options as ApplicationOptions), weights: file }, body);
  };
}

// ResNet-RS: Bello et al., "Revisiting ResNets: Improved Training and Scaling Strategies" (NeurIPS 2021).
// Each is `keras.applications.ResNetRS…` of tf-keras 2.x; input [0, 255] pixels (preprocessing inside).
export const resnetRS50 = resnetRS('ResNetRS50');
export const resnetRS101 = resnetRS('ResNetRS101');
export const resnetRS152 = resnetRS('ResNetRS152');
export const resnetRS200 = resnetRS('ResNetRS200');
export const resnetRS270 = resnetRS('ResNetRS270');
export const resnetRS350 = resnetRS('ResNetRS350');
export const resnetRS420 = resnetRS('ResNetRS420');

const RESNET_RS_PAPER = 'Revisiting ResNets: Improved Training and Scaling Strategies (Bello et al., NeurIPS 2021)';

/** An entry's `weights` are the files `'imagenet'` loads: those of the largest training resolution. */
function resnetRSDeclaration(build: ApplicationEntry['build'], parameters: number): ImageApplicationDeclaration {
  return { module: 'resnet_rs', build, preprocessing: 'none', metadata: { parameters, reference: RESNET_RS_PAPER } };
}

/** The registry's ResNetRS entries. */
export const resnetRSApplications = imageApplications({
  ResNetRS50: resnetRSDeclaration(resnetRS50, 35_745_288),
  ResNetRS101: resnetRSDeclaration(resnetRS101, 63_724_296),
  ResNetRS152: resnetRSDeclaration(resnetRS152, 86_773_256),
  ResNetRS200: resnetRSDeclaration(resnetRS200, 93_386_248),
  ResNetRS270: resnetRSDeclaration(resnetRS270, 130_104_520),
  ResNetRS350: resnetRSDeclaration(resnetRS350, 164_268_360),
  ResNetRS420: resnetRSDeclaration(resnetRS420, 192_262_216),
});
