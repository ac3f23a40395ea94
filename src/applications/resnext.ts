// ResNeXt50/101 as keras_applications 1.0.8 built them (keras_applications/resnet_common.py, `block3`/`stack3`):
// ResNet v1 bottlenecks whose 3×3 convolution is grouped (32 groups). Keras 2 had no grouped Conv2D, so the
// original writes it as DepthwiseConv2D(depth_multiplier=c) → Reshape → a summing Lambda (`*_2_reduce`) →
// Reshape; the same layers here let the official files load as they are.
import * as tfl from '@tensorflow/tfjs-layers';
import { LambdaSum } from '../layers/lambda-sum';
import { ArgumentError } from '../errors';
import { builderSpec, imageApplications, type ApplicationEntry } from './application-entry';
import { apply, buildApplication, kerasAutoNames, type BuildContext } from './common';
import { formatValue } from '../arguments';
import { type ApplicationOptions } from './types';

type Tensor = tfl.SymbolicTensor;

const BN_EPSILON = 1.001e-5;
const GROUPS = 32;

function layerKit(context: BuildContext) {
  const autoName = kerasAutoNames();
  return {
    conv: (x: Tensor, filters: number, kernelSize: number, name: string, strides = 1) =>
      apply(tfl.layers.conv2d({ filters, kernelSize, strides, useBias: false, name, ...context.init(name) }), x),
    bn: (x: Tensor, name: string) =>
      apply(tfl.layers.batchNormalization({ axis: 3, epsilon: BN_EPSILON, name, ...context.init(name) }), x),
    relu: (x: Tensor, name: string) => apply(tfl.layers.activation({ activation: 'relu', name }), x),
    pad: (x: Tensor, size: number, name: string) => apply(tfl.layers.zeroPadding2d({ padding: [[size, size], [size, size]], name }), x),
    /** The grouped 3×3 convolution: each of the `groups` groups sees `c` channels and makes `c` outputs. */
    groupedConv: (x: Tensor, filters: number, strides: number, name: string) => {
      const c = filters / GROUPS;
      x = apply(tfl.layers.depthwiseConv2d({ kernelSize: 3, strides, depthMultiplier: c, useBias: false, name: `${name}_conv`, ...context.init(`${name}_conv`) }), x);
      const spatial = x.shape.slice(1, 3) as number[];
      x = apply(tfl.layers.reshape({ targetShape: [...spatial, GROUPS, c, c], name: autoName('reshape') }), x);
      // Python's `x[:, :, :, :, i]` picks along axis 4 (of batch, h, w, group, c, c): the group's input channels.
      x = apply(new LambdaSum({ axis: 4, name: `${name}_reduce` }), x);
      return apply(tfl.layers.reshape({ targetShape: [...spatial, filters], name: autoName('reshape') }), x);
    },
  };
}

type Kit = ReturnType<typeof layerKit>;

/** keras_applications' `block3`: a post-activation bottleneck with the grouped convolution in its middle. */
function block(k: Kit, x: Tensor, filters: number, name: string, stride: number, convShortcut: boolean): Tensor {
  const outFilters = (64 / GROUPS) * filters;
  const shortcut = convShortcut ? k.bn(k.conv(x, outFilters, 1, `${name}_0_conv`, stride), `${name}_0_bn`) : x;
  x = k.relu(k.bn(k.conv(x, filters, 1, `${name}_1_conv`), `${name}_1_bn`), `${name}_1_relu`);
  x = k.groupedConv(k.pad(x, 1, `${name}_2_pad`), filters, stride, `${name}_2`);
  x = k.relu(k.bn(x, `${name}_2_bn`), `${name}_2_relu`);
  x = k.bn(k.conv(x, outFilters, 1, `${name}_3_conv`), `${name}_3_bn`);
  x = apply(tfl.layers.add({ name: `${name}_add` }), [shortcut, x]);
  return k.relu(x, `${name}_out`);
}

/** Blocks per stage (conv2…conv5); the stages' bottleneck widths are 128, 256, 512, 1024. */
function resnextBody(blocks: [number, number, number, number]) {
  return (input: Tensor, context: BuildContext): Tensor => {
    const k = layerKit(context);
    let x = k.conv(k.pad(input, 3, 'conv1_pad'), 64, 7, 'conv1_conv', 2);
    x = k.relu(k.bn(x, 'conv1_bn'), 'conv1_relu');
    x = apply(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), k.pad(x, 1, 'pool1_pad'));
    blocks.forEach((count, s) => {
      const stage = `conv${s + 2}`;
      const filters = 128 * 2 ** s;
      x = block(k, x, filters, `${stage}_block1`, s === 0 ? 1 : 2, true);
      for (let i = 2; i <= count; i++) x = block(k, x, filters, `${stage}_block${i}`, 1, false);
    });
    if (context.includeTop) {
      x = apply(tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
      // The original's top is always softmax; it has no classifier_activation argument.
      return apply(tfl.layers.dense({ units: context.classes, activation: 'softmax', name: 'probs', ...context.init('probs') }), x);
    }
    if (context.pooling === 'avg') return apply(tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
    if (context.pooling === 'max') return apply(tfl.layers.globalMaxPooling2d({ name: 'max_pool' }), x);
    return x;
  };
}

/** ResNeXt's options: the common ones less `classifierActivation`, which the original does not take. */
export type ResNeXtOptions = Omit<ApplicationOptions, 'classifierActivation'>;

/**
 * The two rules the original adds to the common ones, checked before anything is downloaded: there is no
 * `classifier_activation` argument, and the reshapes of its grouped convolution need a static input size.
 */
function checkResNeXtOptions({ kerasName, defaultSize }: ApplicationEntry, options: ResNeXtOptions = {}): void {
  const given = options as ApplicationOptions;
  if (given.classifierActivation !== undefined) {
    throw new ArgumentError(
      `${kerasName} has no \`classifierActivation\` argument: its top is always softmax ('probs'). ` +
        `Received: classifierActivation=${formatValue(given.classifierActivation)}`,
    );
  }
  const includeTop = options.includeTop ?? true;
  const size = options.inputTensor?.shape.slice(1, 3) ?? options.inputShape?.slice(0, 2) ?? (includeTop ? [defaultSize, defaultSize] : [null, null]);
  if (size.some((dim) => dim === null)) {
    throw new ArgumentError(
      `${kerasName} needs a static input size: its grouped convolutions reshape to the feature map's height and width. ` +
        `Give \`inputShape\` (e.g. [224, 224, 3]). Received: inputShape=${formatValue(options.inputTensor?.shape.slice(1) ?? options.inputShape ?? null)}`,
    );
  }
}

/** ResNeXt50 (Xie et al., CVPR 2017), as keras_applications 1.0.8's `ResNeXt50`. Preprocessing: torch. */
export async function resnext50(options?: ResNeXtOptions): Promise<tfl.LayersModel> {
  const entry = resnextApplications.ResNeXt50;
  checkResNeXtOptions(entry, options);
  return buildApplication(builderSpec(entry), options, resnextBody([3, 4, 6, 3]));
}

/** ResNeXt101, as keras_applications 1.0.8's `ResNeXt101`. Preprocessing: torch. */
export async function resnext101(options?: ResNeXtOptions): Promise<tfl.LayersModel> {
  const entry = resnextApplications.ResNeXt101;
  checkResNeXtOptions(entry, options);
  return buildApplication(builderSpec(entry), options, resnextBody([3, 4, 23, 3]));
}

const RESNEXT_PAPER = 'Aggregated Residual Transformations for Deep Neural Networks (Xie et al., CVPR 2017)';

/** The registry's ResNeXt entries. */
export const resnextApplications = imageApplications({
  ResNeXt50: { module: 'resnext', build: resnext50, preprocessing: 'torch', metadata: { top1: 0.7774, top5: 0.9381, parameters: 25_097_128, reference: RESNEXT_PAPER } },
  ResNeXt101: { module: 'resnext', build: resnext101, preprocessing: 'torch', metadata: { top1: 0.7873, top5: 0.94294, parameters: 44_315_560, reference: RESNEXT_PAPER } },
});
