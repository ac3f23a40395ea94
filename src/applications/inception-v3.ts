// InceptionV3 (keras/src/applications/inception_v3.py): a stem, then Inception modules whose branches
// (stacks of conv + BatchNormalization without scale + ReLU, or pooling) are concatenated.
// Keras names only the concatenations `mixed*`; every other layer gets an automatic name.
import * as tfl from '@tensorflow/tfjs-layers';
import { builderSpec, imageApplications } from './application-entry';
import { buildApplication, poolingTop, type BuildContext } from './common';
import { type ApplicationOptions } from './types';
import { inceptionKit, inceptionModuleA, inceptionReductionA, inceptionStem, type InceptionKit as Kit } from './inception-kit';

type Tensor = tfl.SymbolicTensor;

/** 17×17 module (mixed4–7): factorised 7×7 branches of width `c7`. */
function moduleB(k: Kit, x: Tensor, c7: number, name: string): Tensor {
  return k.concat(
    [
      k.convs(x, [[192, 1, 1]]),
      k.convs(x, [[c7, 1, 1], [c7, 1, 7], [192, 7, 1]]),
      k.convs(x, [[c7, 1, 1], [c7, 7, 1], [c7, 1, 7], [c7, 7, 1], [192, 1, 7]]),
      k.convs(k.avgPool(x), [[192, 1, 1]]),
    ],
    name,
  );
}

/** 8×8 module (mixed9, mixed10): branches that split into 1×3 and 3×1 convolutions. */
function moduleC(k: Kit, x: Tensor, index: number): Tensor {
  const split = (t: Tensor, name?: string) => k.concat([k.convs(t, [[384, 1, 3]]), k.convs(t, [[384, 3, 1]])], name);
  return k.concat(
    [
      k.convs(x, [[320, 1, 1]]),
      split(k.convs(x, [[384, 1, 1]]), `mixed9_${index}`),
      split(k.convs(x, [[448, 1, 1], [384, 3, 3]])),
      k.convs(k.avgPool(x), [[192, 1, 1]]),
    ],
    `mixed${9 + index}`,
  );
}

function inceptionV3Body(input: Tensor, context: BuildContext): Tensor {
  const k = inceptionKit(context);
  let x = inceptionStem(k, input);
  x = inceptionModuleA(k, x, { first: 64, pool: 32 }, 'mixed0');
  x = inceptionModuleA(k, x, { first: 64, pool: 64 }, 'mixed1');
  x = inceptionModuleA(k, x, { first: 64, pool: 64 }, 'mixed2');
  x = inceptionReductionA(k, x, [64, 96, 96], 'mixed3');
  x = moduleB(k, x, 128, 'mixed4');
  x = moduleB(k, x, 160, 'mixed5');
  x = moduleB(k, x, 160, 'mixed6');
  x = moduleB(k, x, 192, 'mixed7');
  x = k.concat(
    [
      k.convs(x, [[192, 1, 1], [320, 3, 3, 2, 'valid']]),
      k.convs(x, [[192, 1, 1], [192, 1, 7], [192, 7, 1], [192, 3, 3, 2, 'valid']]),
      k.maxPool(x),
    ],
    'mixed8',
  );
  x = moduleC(k, x, 0);
  x = moduleC(k, x, 1);
  // Keras leaves the feature-extraction pooling unnamed.
  return poolingTop(x, context, { avg: context.includeTop ? 'avg_pool' : 'global_average_pooling2d', max: 'global_max_pooling2d' });
}

/**
 * InceptionV3 (Szegedy et al., CVPR 2016), as `keras.applications.InceptionV3`. Default input 299×299×3,
 * at least 75×75; preprocess with `preprocessInput(x, 'InceptionV3')` (tf: scaled to [-1, 1]).
 */
export function inceptionV3(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(inceptionV3Applications.InceptionV3, { defaultName: 'inception_v3' }), options, inceptionV3Body);
}

/** The registry's InceptionV3 entry (figures from keras.io/api/applications). */
export const inceptionV3Applications = imageApplications({
  InceptionV3: {
    module: 'inception_v3',
    build: inceptionV3,
    preprocessing: 'tf',
    defaultSize: 299,
    minSize: 75,
    metadata: { sizeMB: 92, top1: 0.779, top5: 0.937, parameters: 23_851_784, depth: 189, reference: 'Rethinking the Inception Architecture for Computer Vision (Szegedy et al., CVPR 2016)' },
  },
});
