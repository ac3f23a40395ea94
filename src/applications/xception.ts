// Xception (keras/src/applications/xception.py): depthwise-separable convolution blocks with
// 1×1 strided convolution shortcuts in the entry and exit flows, identity shortcuts in the middle flow.
import * as tfl from '@tensorflow/tfjs-layers';
import { builderSpec, imageApplications } from './application-entry';
import { apply, buildApplication, kerasAutoNames, poolingTop, type BuildContext } from './common';
import { type ApplicationOptions } from './types';

type Tensor = tfl.SymbolicTensor;

/** Layer factories; the shortcut layers are the ones Keras leaves unnamed. */
function layerKit(context: BuildContext) {
  const autoName = kerasAutoNames();
  const bn = (x: Tensor, name = autoName('batch_normalization')) =>
    apply(tfl.layers.batchNormalization({ axis: 3, name, ...context.init(name) }), x);
  const relu = (x: Tensor, name: string) => apply(tfl.layers.activation({ activation: 'relu', name }), x);
  return {
    bn,
    relu,
    conv: (x: Tensor, filters: number, name: string, strides = 1) =>
      apply(tfl.layers.conv2d({ filters, kernelSize: 3, strides, useBias: false, name, ...context.init(name) }), x),
    /** A SeparableConv2D followed by its BatchNormalization `<name>_bn`. */
    sepConvBn: (x: Tensor, filters: number, name: string) => {
      // tfjs refuses a kernel initialiser on separable convolutions (they have depthwise and pointwise ones).
      const { kernelInitializer: _unused, ...init } = context.init(name);
      const conv = tfl.layers.separableConv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, name, ...init });
      return bn(apply(conv, x), `${name}_bn`);
    },
    /** The 1×1 stride-2 projection shortcut with its BatchNormalization. */
    residual: (x: Tensor, filters: number) => {
      const name = autoName('conv2d');
      const conv = tfl.layers.conv2d({ filters, kernelSize: 1, strides: 2, padding: 'same', useBias: false, name, ...context.init(name) });
      return bn(apply(conv, x));
    },
    pool: (x: Tensor, name: string) => apply(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name }), x),
    add: (xs: Tensor[]) => apply(tfl.layers.add({ name: autoName('add') }), xs),
  };
}

type Kit = ReturnType<typeof layerKit>;

/**
 * An entry/exit flow block: two separable convolutions (the first preceded by ReLU unless `preactivate`
 * is false), max pooling, plus a projected shortcut. Keras builds the shortcut's layers first.
 */
function downsamplingBlock(k: Kit, x: Tensor, block: number, filters: [number, number], preactivate = true): Tensor {
  const residual = k.residual(x, filters[1]);
  const prefix = `block${block}`;
  if (preactivate) x = k.relu(x, `${prefix}_sepconv1_act`);
  x = k.sepConvBn(x, filters[0], `${prefix}_sepconv1`);
  x = k.relu(x, `${prefix}_sepconv2_act`);
  x = k.sepConvBn(x, filters[1], `${prefix}_sepconv2`);
  x = k.pool(x, `${prefix}_pool`);
  return k.add([x, residual]);
}

/** A middle flow block: three ReLU → separable convolutions of 728 filters with an identity shortcut. */
function middleBlock(k: Kit, x: Tensor, block: number): Tensor {
  const residual = x;
  for (let i = 1; i <= 3; i++) x = k.sepConvBn(k.relu(x, `block${block}_sepconv${i}_act`), 728, `block${block}_sepconv${i}`);
  return k.add([x, residual]);
}

function xceptionBody(input: Tensor, context: BuildContext): Tensor {
  const k = layerKit(context);
  let x = k.relu(k.bn(k.conv(input, 32, 'block1_conv1', 2), 'block1_conv1_bn'), 'block1_conv1_act');
  x = k.relu(k.bn(k.conv(x, 64, 'block1_conv2'), 'block1_conv2_bn'), 'block1_conv2_act');
  x = downsamplingBlock(k, x, 2, [128, 128], false);
  x = downsamplingBlock(k, x, 3, [256, 256]);
  x = downsamplingBlock(k, x, 4, [728, 728]);
  for (let block = 5; block <= 12; block++) x = middleBlock(k, x, block);
  x = downsamplingBlock(k, x, 13, [728, 1024]);
  x = k.relu(k.sepConvBn(x, 1536, 'block14_sepconv1'), 'block14_sepconv1_act');
  x = k.relu(k.sepConvBn(x, 2048, 'block14_sepconv2'), 'block14_sepconv2_act');
  // Keras leaves the feature-extraction pooling unnamed.
  return poolingTop(x, context, { avg: context.includeTop ? 'avg_pool' : 'global_average_pooling2d', max: 'global_max_pooling2d' });
}

/**
 * Xception (Chollet, CVPR 2017), as `keras.applications.Xception`. Default input 299×299×3, at least 71×71;
 * preprocess with `preprocessInput(x, 'Xception')` (tf: scaled to [-1, 1]).
 */
export function xception(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(xceptionApplications.Xception), options, xceptionBody);
}

/** The registry's Xception entry (figures from keras.io/api/applications). */
export const xceptionApplications = imageApplications({
  Xception: {
    module: 'xception',
    build: xception,
    preprocessing: 'tf',
    defaultSize: 299,
    minSize: 71,
    metadata: { sizeMB: 88, top1: 0.79, top5: 0.945, parameters: 22_910_480, depth: 81, reference: 'Xception: Deep Learning with Depthwise Separable Convolutions (Chollet, CVPR 2017)' },
  },
});
