// InceptionResNetV2 (keras/src/applications/inception_resnet_v2.py): the Inception stem, then three
// stages of Inception-ResNet blocks whose residual branch is scaled before it joins the shortcut
// (Keras 3's CustomScaleLayer), separated by reductions.
import * as tfl from '@tensorflow/tfjs-layers';
import { CustomScaleLayer } from '../layers/custom-scale-layer';
import { builderSpec, imageApplications } from './application-entry';
import { apply, buildApplication, poolingTop, type BuildContext } from './common';
import { type ApplicationOptions } from './types';
import { inceptionKit, inceptionModuleA, inceptionReductionA, inceptionStem, type ConvSpec, type InceptionKit as Kit } from './inception-kit';

type Tensor = tfl.SymbolicTensor;

/** The residual branches of each block type, as stacks of conv2d_bn. */
const BLOCK_BRANCHES: Record<'block35' | 'block17' | 'block8', ConvSpec[][]> = {
  block35: [[[32, 1, 1]], [[32, 1, 1], [32, 3, 3]], [[32, 1, 1], [48, 3, 3], [64, 3, 3]]],
  block17: [[[192, 1, 1]], [[128, 1, 1], [160, 1, 7], [192, 7, 1]]],
  block8: [[[192, 1, 1]], [[192, 1, 1], [224, 1, 3], [256, 3, 1]]],
};

/**
 * `x + scale · conv1×1(concat(branches))`, then ReLU unless `activate` is false. The 1×1 projection back
 * to x's width has a bias and no BatchNormalization.
 */
function inceptionResnetBlock(
  k: Kit,
  context: BuildContext,
  x: Tensor,
  blockType: keyof typeof BLOCK_BRANCHES,
  index: number,
  scale: number,
  activate = true,
): Tensor {
  const name = `${blockType}_${index}`;
  const mixed = k.concat(BLOCK_BRANCHES[blockType].map((specs) => k.convs(x, specs)), `${name}_mixed`);
  const convName = `${name}_conv`;
  const up = apply(tfl.layers.conv2d({ filters: x.shape[3]!, kernelSize: 1, padding: 'same', name: convName, ...context.init(convName) }), mixed);
  x = apply(new CustomScaleLayer({ scale, name: k.autoName('custom_scale_layer') }), [x, up]);
  return activate ? apply(tfl.layers.activation({ activation: 'relu', name: `${name}_ac` }), x) : x;
}

function inceptionResnetV2Body(input: Tensor, context: BuildContext): Tensor {
  const k = inceptionKit(context);
  let x = inceptionStem(k, input);
  x = inceptionModuleA(k, x, { first: 96, pool: 64 }, 'mixed_5b');
  for (let i = 1; i <= 10; i++) x = inceptionResnetBlock(k, context, x, 'block35', i, 0.17);
  x = inceptionReductionA(k, x, [256, 256, 384], 'mixed_6a');
  for (let i = 1; i <= 20; i++) x = inceptionResnetBlock(k, context, x, 'block17', i, 0.1);
  x = k.concat(
    [
      k.convs(x, [[256, 1, 1], [384, 3, 3, 2, 'valid']]),
      k.convs(x, [[256, 1, 1], [288, 3, 3, 2, 'valid']]),
      k.convs(x, [[256, 1, 1], [288, 3, 3], [320, 3, 3, 2, 'valid']]),
      k.maxPool(x),
    ],
    'mixed_7a',
  );
  for (let i = 1; i <= 9; i++) x = inceptionResnetBlock(k, context, x, 'block8', i, 0.2);
  x = inceptionResnetBlock(k, context, x, 'block8', 10, 1.0, false);
  x = k.convBn(x, [1536, 1, 1], { conv: 'conv_7b', bn: 'conv_7b_bn', activation: 'conv_7b_ac' });
  // Keras leaves the feature-extraction pooling unnamed.
  return poolingTop(x, context, { avg: context.includeTop ? 'avg_pool' : 'global_average_pooling2d', max: 'global_max_pooling2d' });
}

/**
 * InceptionResNetV2 (Szegedy et al., AAAI 2017), as `keras.applications.InceptionResNetV2`. Default input
 * 299×299×3, at least 75×75; preprocess with `preprocessInput(x, 'InceptionResNetV2')` (tf: scaled to [-1, 1]).
 */
export function inceptionResNetV2(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(inceptionResNetV2Applications.InceptionResNetV2, { defaultName: 'inception_resnet_v2' }), options, inceptionResnetV2Body);
}

/** The registry's InceptionResNetV2 entry (figures from keras.io/api/applications). */
export const inceptionResNetV2Applications = imageApplications({
  InceptionResNetV2: {
    module: 'inception_resnet_v2',
    build: inceptionResNetV2,
    preprocessing: 'tf',
    defaultSize: 299,
    minSize: 75,
    metadata: {
      sizeMB: 215,
      top1: 0.803,
      top5: 0.953,
      parameters: 55_873_736,
      depth: 449,
      reference: 'Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning (Szegedy et al., AAAI 2017)',
    },
  },
});
