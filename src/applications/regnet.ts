// RegNetX002 … RegNetY320 as tf-keras built them (tf_keras/applications/regnet.py; Radosavovic et al., CVPR 2020):
// a stride-2 stem, four stages of X blocks (1×1 → grouped 3×3 → 1×1 bottlenecks with a residual) or Y blocks
// (X blocks with squeeze-and-excite), then the head. Preprocessing (x / 255) is in the model.
//
// One difference from tf-keras, on purpose: its head never applies `classifier_activation` (the top outputs
// logits even with the default 'softmax'); here the top applies it as the argument says (`null` for logits).
import * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError } from '../errors';
import { GlobalAveragePooling2D } from '../layers/global-average-pooling2d';
import { GroupedConv2D } from '../layers/grouped-conv2d';
import { builderSpec, imageApplications, type ApplicationEntry, type ImageApplicationDeclaration } from './application-entry';
import { apply, buildApplication, kerasAutoNames, type BuildContext } from './common';
import { formatValue } from '../arguments';
import { type ApplicationOptions } from './types';

type Tensor = tfl.SymbolicTensor;

export interface RegNetOptions extends ApplicationOptions {
  /** Rescale the input from [0, 255] to [0, 1] inside the model (tf-keras's `include_preprocessing`). Default `true`. */
  includePreprocessing?: boolean;
}

/** tf-keras's MODEL_CONFIGS: blocks and widths per stage, the group width and the block type. */
interface RegNetConfig {
  depths: [number, number, number, number];
  widths: [number, number, number, number];
  groupWidth: number;
  blockType: 'X' | 'Y';
}

const config = (blockType: 'X' | 'Y', depths: RegNetConfig['depths'], widths: RegNetConfig['widths'], groupWidth: number): RegNetConfig => ({
  depths,
  widths,
  groupWidth,
  blockType,
});

const CONFIGS = {
  RegNetX002: config('X', [1, 1, 4, 7], [24, 56, 152, 368], 8),
  RegNetX004: config('X', [1, 2, 7, 12], [32, 64, 160, 384], 16),
  RegNetX006: config('X', [1, 3, 5, 7], [48, 96, 240, 528], 24),
  RegNetX008: config('X', [1, 3, 7, 5], [64, 128, 288, 672], 16),
  RegNetX016: config('X', [2, 4, 10, 2], [72, 168, 408, 912], 24),
  RegNetX032: config('X', [2, 6, 15, 2], [96, 192, 432, 1008], 48),
  RegNetX040: config('X', [2, 5, 14, 2], [80, 240, 560, 1360], 40),
  RegNetX064: config('X', [2, 4, 10, 1], [168, 392, 784, 1624], 56),
  RegNetX080: config('X', [2, 5, 15, 1], [80, 240, 720, 1920], 120),
  RegNetX120: config('X', [2, 5, 11, 1], [224, 448, 896, 2240], 112),
  RegNetX160: config('X', [2, 6, 13, 1], [256, 512, 896, 2048], 128),
  RegNetX320: config('X', [2, 7, 13, 1], [336, 672, 1344, 2520], 168),
  RegNetY002: config('Y', [1, 1, 4, 7], [24, 56, 152, 368], 8),
  RegNetY004: config('Y', [1, 3, 6, 6], [48, 104, 208, 440], 8),
  RegNetY006: config('Y', [1, 3, 7, 4], [48, 112, 256, 608], 16),
  RegNetY008: config('Y', [1, 3, 8, 2], [64, 128, 320, 768], 16),
  RegNetY016: config('Y', [2, 6, 17, 2], [48, 120, 336, 888], 24),
  RegNetY032: config('Y', [2, 5, 13, 1], [72, 216, 576, 1512], 24),
  RegNetY040: config('Y', [2, 6, 12, 2], [128, 192, 512, 1088], 64),
  RegNetY064: config('Y', [2, 7, 14, 2], [144, 288, 576, 1296], 72),
  RegNetY080: config('Y', [2, 4, 10, 1], [168, 448, 896, 2016], 56),
  RegNetY120: config('Y', [2, 5, 11, 1], [224, 448, 896, 2240], 112),
  RegNetY160: config('Y', [2, 4, 11, 1], [224, 448, 1232, 3024], 112),
  RegNetY320: config('Y', [2, 5, 12, 1], [232, 696, 1392, 3712], 232),
} satisfies Record<string, RegNetConfig>;

export type RegNetName = keyof typeof CONFIGS;

const BN = { momentum: 0.9, epsilon: 1e-5 };

function layerKit(context: BuildContext) {
  const autoName = kerasAutoNames();
  return {
    autoName,
    conv: (x: Tensor, filters: number, name: string, opts: { kernelSize?: number; strides?: number; groups?: number; activation?: 'relu' | 'sigmoid'; useBias?: boolean } = {}) =>
      apply(
        new GroupedConv2D({
          filters,
          kernelSize: opts.kernelSize ?? 1,
          strides: opts.strides ?? 1,
          groups: opts.groups ?? 1,
          padding: opts.kernelSize === 3 ? 'same' : 'valid',
          useBias: opts.useBias ?? false,
          activation: opts.activation,
          name,
          ...context.init(name),
        }),
        x,
      ),
    bn: (x: Tensor, name: string) => apply(tfl.layers.batchNormalization({ axis: 3, ...BN, name, ...context.init(name) }), x),
    relu: (x: Tensor, name: string) => apply(tfl.layers.reLU({ name }), x),
    // `x + skip` and `x * inputs` are Keras 3 operations, not layers: weightless stand-ins named as Keras names them.
    add: (x: Tensor, y: Tensor) => apply(tfl.layers.add({ name: autoName('add') }), [x, y]),
    multiply: (x: Tensor, y: Tensor) => apply(tfl.layers.multiply({ name: autoName('multiply') }), [x, y]),
  };
}

type Kit = ReturnType<typeof layerKit>;

/** Squeeze-and-excite: a per-channel sigmoid gate from the pooled map, multiplied onto the input. */
function squeezeExcite(k: Kit, inputs: Tensor, filters: number, seFilters: number, name: string): Tensor {
  let x = apply(new GlobalAveragePooling2D({ keepdims: true, name: `${name}_squeeze_and_excite_gap` }), inputs);
  x = k.conv(x, seFilters, `${name}_squeeze_and_excite_squeeze`, { activation: 'relu', useBias: true });
  x = k.conv(x, filters, `${name}_squeeze_and_excite_excite`, { activation: 'sigmoid', useBias: true });
  return k.multiply(x, inputs);
}

/** tf-keras's XBlock / YBlock: a grouped bottleneck (with squeeze-and-excite for Y) and a residual. */
function block(k: Kit, inputs: Tensor, type: 'X' | 'Y', filtersIn: number, filtersOut: number, groupWidth: number, stride: number, name: string): Tensor {
  // tf-keras's Conv2D treats `groups=0` as 1: RegNetX080's first stage (width 80, group width 120) is ungrouped.
  const groups = Math.floor(filtersOut / groupWidth) || 1;
  let skip = inputs;
  if (stride !== 1) skip = k.bn(k.conv(inputs, filtersOut, `${name}_skip_1x1`, { strides: stride }), `${name}_skip_bn`);
  let x = k.relu(k.bn(k.conv(inputs, filtersOut, `${name}_conv_1x1_1`), `${name}_conv_1x1_1_bn`), `${name}_conv_1x1_1_relu`);
  x = k.conv(x, filtersOut, `${name}_conv_3x3`, { kernelSize: 3, strides: stride, groups });
  x = k.relu(k.bn(x, `${name}_conv_3x3_bn`), `${name}_conv_3x3_relu`);
  if (type === 'Y') x = squeezeExcite(k, x, filtersOut, Math.floor(filtersIn * 0.25), name);
  x = k.bn(k.conv(x, filtersOut, `${name}_conv_1x1_2`), `${name}_conv_1x1_2_bn`);
  return k.relu(k.add(x, skip), `${name}_exit_relu`);
}

function regnetBody({ depths, widths, groupWidth, blockType }: RegNetConfig, includePreprocessing: boolean) {
  return (input: Tensor, context: BuildContext): Tensor => {
    const k = layerKit(context);
    // tf-keras prefixes every layer with `model_name`, the model's name.
    const prefix = context.name;
    let x = input;
    if (includePreprocessing) x = apply(tfl.layers.rescaling({ scale: 1 / 255, name: `${prefix}_prestem_rescaling` }), x);
    x = k.conv(x, 32, `${prefix}_stem_conv`, { kernelSize: 3, strides: 2 });
    x = k.relu(k.bn(x, `${prefix}_stem_bn`), `${prefix}_stem_relu`);
    let filtersIn = 32;
    depths.forEach((depth, s) => {
      const filtersOut = widths[s]!;
      const stage = `${prefix}_Stage_${s}_${blockType}Block`;
      x = block(k, x, blockType, filtersIn, filtersOut, groupWidth, 2, `${stage}_0`);
      for (let i = 1; i < depth; i++) x = block(k, x, blockType, filtersOut, filtersOut, groupWidth, 1, `${stage}_${i}`);
      filtersIn = filtersOut;
    });
    if (context.includeTop) {
      // The head's names come from tf-keras's process-wide uid ("1" in a fresh process) and its missing "_".
      x = apply(tfl.layers.globalAveragePooling2d({ name: '1_head_gap' }), x);
      const activation = (context.classifierActivation ?? 'linear') as never;
      return apply(tfl.layers.dense({ units: context.classes, activation, name: '1head_dense', ...context.init('1head_dense') }), x);
    }
    if (context.pooling === 'avg') return apply(tfl.layers.globalAveragePooling2d({ name: k.autoName('global_average_pooling2d') }), x);
    if (context.pooling === 'max') return apply(tfl.layers.globalMaxPooling2d({ name: k.autoName('global_max_pooling2d') }), x);
    return x;
  };
}

function regnet(kerasName: RegNetName): (options?: RegNetOptions) => Promise<tfl.LayersModel> {
  return (options) => {
    const includePreprocessing = options?.includePreprocessing ?? true;
    if (typeof includePreprocessing !== 'boolean') {
      return Promise.reject(
        new ArgumentError(
          `\`includePreprocessing\` must be true or false. Received: includePreprocessing=${formatValue(includePreprocessing)}`,
        ),
      );
    }
    const spec = builderSpec(regnetApplications[kerasName], { extraOptions: ['includePreprocessing'] });
    return buildApplication(spec, options, regnetBody(CONFIGS[kerasName], includePreprocessing));
  };
}

// RegNet<block type><hundreds of MFLOPs>: Radosavovic et al., "Designing Network Design Spaces" (CVPR 2020).
// Each is `keras.applications.RegNet…` of tf-keras 2.x; input [0, 255] pixels (preprocessing inside).
export const regnetX002 = regnet('RegNetX002');
export const regnetX004 = regnet('RegNetX004');
export const regnetX006 = regnet('RegNetX006');
export const regnetX008 = regnet('RegNetX008');
export const regnetX016 = regnet('RegNetX016');
export const regnetX032 = regnet('RegNetX032');
export const regnetX040 = regnet('RegNetX040');
export const regnetX064 = regnet('RegNetX064');
export const regnetX080 = regnet('RegNetX080');
export const regnetX120 = regnet('RegNetX120');
export const regnetX160 = regnet('RegNetX160');
export const regnetX320 = regnet('RegNetX320');
export const regnetY002 = regnet('RegNetY002');
export const regnetY004 = regnet('RegNetY004');
export const regnetY006 = regnet('RegNetY006');
export const regnetY008 = regnet('RegNetY008');
export const regnetY016 = regnet('RegNetY016');
export const regnetY032 = regnet('RegNetY032');
export const regnetY040 = regnet('RegNetY040');
export const regnetY064 = regnet('RegNetY064');
export const regnetY080 = regnet('RegNetY080');
export const regnetY120 = regnet('RegNetY120');
export const regnetY160 = regnet('RegNetY160');
export const regnetY320 = regnet('RegNetY320');

const REGNET_PAPER = 'Designing Network Design Spaces (Radosavovic et al., CVPR 2020)';

function regnetDeclaration(build: ApplicationEntry['build'], parameters: number): ImageApplicationDeclaration {
  return { module: 'regnet', build, preprocessing: 'none', metadata: { parameters, reference: REGNET_PAPER } };
}

/** The registry's RegNet entries. */
export const regnetApplications = imageApplications({
  RegNetX002: regnetDeclaration(regnetX002, 2_705_640),
  RegNetX004: regnetDeclaration(regnetX004, 5_194_184),
  RegNetX006: regnetDeclaration(regnetX006, 6_229_320),
  RegNetX008: regnetDeclaration(regnetX008, 7_296_968),
  RegNetX016: regnetDeclaration(regnetX016, 9_233_640),
  RegNetX032: regnetDeclaration(regnetX032, 15_359_112),
  RegNetX040: regnetDeclaration(regnetX040, 22_194_312),
  RegNetX064: regnetDeclaration(regnetX064, 26_283_464),
  RegNetX080: regnetDeclaration(regnetX080, 39_663_112),
  RegNetX120: regnetDeclaration(regnetX120, 46_202_440),
  RegNetX160: regnetDeclaration(regnetX160, 54_389_704),
  RegNetX320: regnetDeclaration(regnetX320, 107_973_576),
  RegNetY002: regnetDeclaration(regnetY002, 3_183_844),
  RegNetY004: regnetDeclaration(regnetY004, 4_371_296),
  RegNetY006: regnetDeclaration(regnetY006, 6_084_920),
  RegNetY008: regnetDeclaration(regnetY008, 6_293_056),
  RegNetY016: regnetDeclaration(regnetY016, 11_255_102),
  RegNetY032: regnetDeclaration(regnetY032, 19_502_498),
  RegNetY040: regnetDeclaration(regnetY040, 20_708_928),
  RegNetY064: regnetDeclaration(regnetY064, 30_665_684),
  RegNetY080: regnetDeclaration(regnetY080, 39_265_812),
  RegNetY120: regnetDeclaration(regnetY120, 51_918_928),
  RegNetY160: regnetDeclaration(regnetY160, 83_712_956),
  RegNetY320: regnetDeclaration(regnetY320, 145_205_058),
});
