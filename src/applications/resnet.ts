// ResNet50/101/152 (keras/src/applications/resnet.py) and ResNet50V2/101V2/152V2 (resnet_v2.py):
// one family function, post-activation (v1) or pre-activation (v2) bottleneck blocks.
import * as tfl from '@tensorflow/tfjs-layers';
import { builderSpec, imageApplications } from './application-entry';
import { apply, buildApplication, kerasAutoNames, poolingTop, type BuildContext } from './common';
import { type ApplicationOptions } from './types';

const BN_EPSILON = 1.001e-5;

/** Layer factories that take their initial values from the weights file being loaded, if any. */
function layerKit(context: BuildContext) {
  const autoName = kerasAutoNames();
  return {
    conv: (x: tfl.SymbolicTensor, filters: number, kernelSize: number, name: string, opts: { strides?: number; useBias?: boolean; padding?: 'same' | 'valid' } = {}) =>
      apply(
        tfl.layers.conv2d({
          filters,
          kernelSize,
          strides: opts.strides ?? 1,
          padding: opts.padding ?? 'valid',
          useBias: opts.useBias ?? true,
          name,
          ...context.init(name),
        }),
        x,
      ),
    bn: (x: tfl.SymbolicTensor, name: string) =>
      apply(
        tfl.layers.batchNormalization({ axis: 3, epsilon: BN_EPSILON, name, ...context.init(name) }),
        x,
      ),
    relu: (x: tfl.SymbolicTensor, name: string) => apply(tfl.layers.activation({ activation: 'relu', name }), x),
    pad: (x: tfl.SymbolicTensor, size: number, name: string) =>
      apply(tfl.layers.zeroPadding2d({ padding: [[size, size], [size, size]], name }), x),
    add: (xs: tfl.SymbolicTensor[], name: string) => apply(tfl.layers.add({ name }), xs),
    // Keras leaves v2's shortcut pooling unnamed: max_pooling2d, max_pooling2d_1, … in a fresh process.
    shortcutPool: (x: tfl.SymbolicTensor, stride: number) =>
      apply(tfl.layers.maxPooling2d({ poolSize: 1, strides: stride, name: autoName('max_pooling2d') }), x),
  };
}

type Kit = ReturnType<typeof layerKit>;

/** A post-activation bottleneck block (ResNet v1). */
function blockV1(k: Kit, x: tfl.SymbolicTensor, filters: number, name: string, stride: number, convShortcut: boolean): tfl.SymbolicTensor {
  const shortcut = convShortcut ? k.bn(k.conv(x, 4 * filters, 1, `${name}_0_conv`, { strides: stride }), `${name}_0_bn`) : x;
  x = k.relu(k.bn(k.conv(x, filters, 1, `${name}_1_conv`, { strides: stride }), `${name}_1_bn`), `${name}_1_relu`);
  x = k.relu(k.bn(k.conv(x, filters, 3, `${name}_2_conv`, { padding: 'same' }), `${name}_2_bn`), `${name}_2_relu`);
  x = k.bn(k.conv(x, 4 * filters, 1, `${name}_3_conv`), `${name}_3_bn`);
  return k.relu(k.add([shortcut, x], `${name}_add`), `${name}_out`);
}

/** A pre-activation bottleneck block (ResNet v2); the stride sits in the 3×3 convolution. */
function blockV2(k: Kit, x: tfl.SymbolicTensor, filters: number, name: string, stride: number, convShortcut: boolean): tfl.SymbolicTensor {
  const preact = k.relu(k.bn(x, `${name}_preact_bn`), `${name}_preact_relu`);
  let shortcut = x;
  if (convShortcut) shortcut = k.conv(preact, 4 * filters, 1, `${name}_0_conv`, { strides: stride });
  else if (stride > 1) shortcut = k.shortcutPool(x, stride);
  x = k.relu(k.bn(k.conv(preact, filters, 1, `${name}_1_conv`, { useBias: false }), `${name}_1_bn`), `${name}_1_relu`);
  x = k.pad(x, 1, `${name}_2_pad`);
  x = k.relu(k.bn(k.conv(x, filters, 3, `${name}_2_conv`, { strides: stride, useBias: false }), `${name}_2_bn`), `${name}_2_relu`);
  x = k.conv(x, 4 * filters, 1, `${name}_3_conv`);
  return k.add([shortcut, x], `${name}_out`);
}

/** Stages: [filters, blocks] for conv2…conv5. */
type Stages = [number, number][];

function stackV1(k: Kit, x: tfl.SymbolicTensor, stages: Stages): tfl.SymbolicTensor {
  stages.forEach(([filters, blocks], s) => {
    const stage = `conv${s + 2}`;
    x = blockV1(k, x, filters, `${stage}_block1`, s === 0 ? 1 : 2, true);
    for (let i = 2; i <= blocks; i++) x = blockV1(k, x, filters, `${stage}_block${i}`, 1, false);
  });
  return x;
}

/** In v2 each stage but the last downsamples in its last block. */
function stackV2(k: Kit, x: tfl.SymbolicTensor, stages: Stages): tfl.SymbolicTensor {
  stages.forEach(([filters, blocks], s) => {
    const stage = `conv${s + 2}`;
    const lastStride = s === stages.length - 1 ? 1 : 2;
    x = blockV2(k, x, filters, `${stage}_block1`, 1, true);
    for (let i = 2; i < blocks; i++) x = blockV2(k, x, filters, `${stage}_block${i}`, 1, false);
    x = blockV2(k, x, filters, `${stage}_block${blocks}`, lastStride, false);
  });
  return x;
}

function resnetBody(stages: Stages, preact: boolean) {
  return (input: tfl.SymbolicTensor, context: BuildContext): tfl.SymbolicTensor => {
    const k = layerKit(context);
    let x = k.pad(input, 3, 'conv1_pad');
    x = k.conv(x, 64, 7, 'conv1_conv', { strides: 2 });
    if (!preact) x = k.relu(k.bn(x, 'conv1_bn'), 'conv1_relu');
    x = k.pad(x, 1, 'pool1_pad');
    x = apply(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), x);
    x = preact ? stackV2(k, x, stages) : stackV1(k, x, stages);
    if (preact) x = k.relu(k.bn(x, 'post_bn'), 'post_relu');
    return poolingTop(x, context, { avg: 'avg_pool', max: 'max_pool' });
  };
}

const STAGES_50: Stages = [[64, 3], [128, 4], [256, 6], [512, 3]];
const STAGES_101: Stages = [[64, 3], [128, 4], [256, 23], [512, 3]];
const STAGES_152: Stages = [[64, 3], [128, 8], [256, 36], [512, 3]];

/** ResNet50 (He et al., CVPR 2016), as `keras.applications.ResNet50`. Preprocessing: caffe. */
export function resnet50(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(resnetApplications.ResNet50), options, resnetBody(STAGES_50, false));
}

/** ResNet101, as `keras.applications.ResNet101`. Preprocessing: caffe. */
export function resnet101(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(resnetApplications.ResNet101), options, resnetBody(STAGES_101, false));
}

/** ResNet152, as `keras.applications.ResNet152`. Preprocessing: caffe. */
export function resnet152(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(resnetApplications.ResNet152), options, resnetBody(STAGES_152, false));
}

/** ResNet50V2 (He et al., ECCV 2016, pre-activation), as `keras.applications.ResNet50V2`. Preprocessing: tf. */
export function resnet50V2(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(resnetApplications.ResNet50V2), options, resnetBody(STAGES_50, true));
}

/** ResNet101V2, as `keras.applications.ResNet101V2`. Preprocessing: tf. */
export function resnet101V2(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(resnetApplications.ResNet101V2), options, resnetBody(STAGES_101, true));
}

/** ResNet152V2, as `keras.applications.ResNet152V2`. Preprocessing: tf. */
export function resnet152V2(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(resnetApplications.ResNet152V2), options, resnetBody(STAGES_152, true));
}

const RESNET_PAPER = 'Deep Residual Learning for Image Recognition (He et al., CVPR 2016)';
const RESNET_V2_PAPER = 'Identity Mappings in Deep Residual Networks (He et al., ECCV 2016)';

/** The registry's ResNet entries (figures from keras.io/api/applications). */
export const resnetApplications = imageApplications({
  ResNet50: { module: 'resnet', build: resnet50, preprocessing: 'caffe', metadata: { sizeMB: 98, top1: 0.749, top5: 0.921, parameters: 25_636_712, depth: 107, reference: RESNET_PAPER } },
  ResNet101: { module: 'resnet', build: resnet101, preprocessing: 'caffe', metadata: { sizeMB: 171, top1: 0.764, top5: 0.928, parameters: 44_707_176, depth: 209, reference: RESNET_PAPER } },
  ResNet152: { module: 'resnet', build: resnet152, preprocessing: 'caffe', metadata: { sizeMB: 232, top1: 0.766, top5: 0.931, parameters: 60_419_944, depth: 311, reference: RESNET_PAPER } },
  ResNet50V2: { module: 'resnet_v2', build: resnet50V2, preprocessing: 'tf', metadata: { sizeMB: 98, top1: 0.76, top5: 0.93, parameters: 25_613_800, depth: 103, reference: RESNET_V2_PAPER } },
  ResNet101V2: { module: 'resnet_v2', build: resnet101V2, preprocessing: 'tf', metadata: { sizeMB: 171, top1: 0.772, top5: 0.938, parameters: 44_675_560, depth: 205, reference: RESNET_V2_PAPER } },
  ResNet152V2: { module: 'resnet_v2', build: resnet152V2, preprocessing: 'tf', metadata: { sizeMB: 232, top1: 0.78, top5: 0.942, parameters: 60_380_648, depth: 307, reference: RESNET_V2_PAPER } },
});
