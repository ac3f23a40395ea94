// DenseNet121/169/201 (keras/src/applications/densenet.py): dense blocks of BN-ReLU-conv "conv blocks"
// whose outputs are concatenated onto their inputs, joined by halving transition blocks.
// Keras builds DenseNet for channels_last only; tfjs models here are always channels-last.
import * as tfl from '@tensorflow/tfjs-layers';
import { builderSpec, imageApplications } from './application-entry';
import { apply, buildApplication, kerasAutoNames, poolingTop, type BuildContext } from './common';
import { type ApplicationOptions } from './types';

type Tensor = tfl.SymbolicTensor;

const BN_EPSILON = 1.001e-5;
const GROWTH_RATE = 32;
const COMPRESSION = 0.5;

function layerKit(context: BuildContext) {
  const autoName = kerasAutoNames();
  return {
    conv: (x: Tensor, filters: number, kernelSize: number, name: string, opts: { strides?: number; padding?: 'same' | 'valid' } = {}) =>
      apply(
        tfl.layers.conv2d({ filters, kernelSize, strides: opts.strides ?? 1, padding: opts.padding ?? 'valid', useBias: false, name, ...context.init(name) }),
        x,
      ),
    bnRelu: (x: Tensor, bnName: string, reluName: string) => {
      x = apply(tfl.layers.batchNormalization({ axis: 3, epsilon: BN_EPSILON, name: bnName, ...context.init(bnName) }), x);
      return apply(tfl.layers.activation({ activation: 'relu', name: reluName }), x);
    },
    // Keras leaves the stem's paddings unnamed.
    pad: (x: Tensor, size: number) =>
      apply(tfl.layers.zeroPadding2d({ padding: [[size, size], [size, size]], name: autoName('zero_padding2d') }), x),
  };
}

type Kit = ReturnType<typeof layerKit>;

/** BN-ReLU-1×1 conv (4·growth) and BN-ReLU-3×3 conv (growth), concatenated onto the block's input. */
function convBlock(k: Kit, x: Tensor, name: string): Tensor {
  let branch = k.bnRelu(x, `${name}_0_bn`, `${name}_0_relu`);
  branch = k.conv(branch, 4 * GROWTH_RATE, 1, `${name}_1_conv`);
  branch = k.bnRelu(branch, `${name}_1_bn`, `${name}_1_relu`);
  branch = k.conv(branch, GROWTH_RATE, 3, `${name}_2_conv`, { padding: 'same' });
  return apply(tfl.layers.concatenate({ axis: -1, name: `${name}_concat` }), [x, branch]);
}

/** BN-ReLU, a 1×1 conv keeping half the channels (rounded down) and 2×2 average pooling. */
function transitionBlock(k: Kit, x: Tensor, name: string): Tensor {
  x = k.bnRelu(x, `${name}_bn`, `${name}_relu`);
  x = k.conv(x, Math.floor(x.shape[3]! * COMPRESSION), 1, `${name}_conv`);
  return apply(tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }), x);
}

/** `blocks`: conv blocks in each of the four dense blocks (conv2…conv5). */
function densenetBody(blocks: [number, number, number, number]) {
  return (input: Tensor, context: BuildContext): Tensor => {
    const k = layerKit(context);
    let x = k.conv(k.pad(input, 3), 64, 7, 'conv1_conv', { strides: 2 });
    x = k.bnRelu(x, 'conv1_bn', 'conv1_relu');
    x = apply(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1' }), k.pad(x, 1));
    blocks.forEach((count, i) => {
      const stage = i + 2;
      for (let b = 1; b <= count; b++) x = convBlock(k, x, `conv${stage}_block${b}`);
      if (i < blocks.length - 1) x = transitionBlock(k, x, `pool${stage}`);
    });
    x = k.bnRelu(x, 'bn', 'relu');
    return poolingTop(x, context, { avg: 'avg_pool', max: 'max_pool' });
  };
}

/** DenseNet121 (Huang et al., CVPR 2017), as `keras.applications.DenseNet121`. Preprocessing: torch. */
export function densenet121(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(densenetApplications.DenseNet121), options, densenetBody([6, 12, 24, 16]));
}

/** DenseNet169, as `keras.applications.DenseNet169`. Preprocessing: torch. */
export function densenet169(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(densenetApplications.DenseNet169), options, densenetBody([6, 12, 32, 32]));
}

/** DenseNet201, as `keras.applications.DenseNet201`. Preprocessing: torch. */
export function densenet201(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(densenetApplications.DenseNet201), options, densenetBody([6, 12, 48, 32]));
}

const DENSENET_PAPER = 'Densely Connected Convolutional Networks (Huang et al., CVPR 2017)';

/** The registry's DenseNet entries (figures from keras.io/api/applications). */
export const densenetApplications = imageApplications({
  DenseNet121: { module: 'densenet', build: densenet121, preprocessing: 'torch', metadata: { sizeMB: 33, top1: 0.75, top5: 0.923, parameters: 8_062_504, depth: 242, reference: DENSENET_PAPER } },
  DenseNet169: { module: 'densenet', build: densenet169, preprocessing: 'torch', metadata: { sizeMB: 57, top1: 0.762, top5: 0.932, parameters: 14_307_880, depth: 338, reference: DENSENET_PAPER } },
  DenseNet201: { module: 'densenet', build: densenet201, preprocessing: 'torch', metadata: { sizeMB: 80, top1: 0.773, top5: 0.936, parameters: 20_242_984, depth: 402, reference: DENSENET_PAPER } },
});
