// VGG16 and VGG19 (keras/src/applications/vgg16.py, vgg19.py): 3×3 convolution blocks and max pooling.
import * as tfl from '@tensorflow/tfjs-layers';
import { builderSpec, imageApplications } from './application-entry';
import { apply, buildApplication, predictions, type BuildContext } from './common';
import { type ApplicationOptions } from './types';

/** Convolutions per block, for blocks 1–5 (filters 64, 128, 256, 512, 512). */
const BLOCK_FILTERS = [64, 128, 256, 512, 512];

function vggBody(convsPerBlock: number[]) {
  return (input: tfl.SymbolicTensor, context: BuildContext): tfl.SymbolicTensor => {
    let x = input;
    convsPerBlock.forEach((convs, b) => {
      const block = `block${b + 1}`;
      for (let c = 1; c <= convs; c++) {
        x = apply(
          tfl.layers.conv2d({
            filters: BLOCK_FILTERS[b]!,
            kernelSize: 3,
            activation: 'relu',
            padding: 'same',
            name: `${block}_conv${c}`,
            ...context.init(`${block}_conv${c}`),
          }),
          x,
        );
      }
      x = apply(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${block}_pool` }), x);
    });
    if (context.includeTop) {
      x = apply(tfl.layers.flatten({ name: 'flatten' }), x);
      for (const name of ['fc1', 'fc2']) {
        x = apply(tfl.layers.dense({ units: 4096, activation: 'relu', name, ...context.init(name) }), x);
      }
      return predictions(x, context);
    }
    // Keras leaves these two unnamed; a fresh Keras process names them so.
    if (context.pooling === 'avg') return apply(tfl.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }), x);
    if (context.pooling === 'max') return apply(tfl.layers.globalMaxPooling2d({ name: 'global_max_pooling2d' }), x);
    return x;
  };
}

/**
 * VGG16 (Simonyan & Zisserman, ICLR 2015), as `keras.applications.VGG16`.
 * Default input 224×224×3; preprocess with `preprocessInput(x, 'VGG16')` (caffe: BGR, mean-centred).
 */
export function vgg16(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(vggApplications.VGG16), options, vggBody([2, 2, 3, 3, 3]));
}

/**
 * VGG19 (Simonyan & Zisserman, ICLR 2015), as `keras.applications.VGG19`.
 * Default input 224×224×3; preprocess with `preprocessInput(x, 'VGG19')` (caffe: BGR, mean-centred).
 */
export function vgg19(options?: ApplicationOptions): Promise<tfl.LayersModel> {
  return buildApplication(builderSpec(vggApplications.VGG19), options, vggBody([2, 2, 4, 4, 4]));
}

const VGG_PAPER = 'Very Deep Convolutional Networks for Large-Scale Image Recognition (Simonyan & Zisserman, ICLR 2015)';

/** The registry's VGG entries (figures from keras.io/api/applications). */
export const vggApplications = imageApplications({
  VGG16: { module: 'vgg16', build: vgg16, preprocessing: 'caffe', metadata: { sizeMB: 528, top1: 0.713, top5: 0.901, parameters: 138_357_544, depth: 16, reference: VGG_PAPER } },
  VGG19: { module: 'vgg19', build: vgg19, preprocessing: 'caffe', metadata: { sizeMB: 549, top1: 0.713, top5: 0.9, parameters: 143_667_240, depth: 19, reference: VGG_PAPER } },
});
