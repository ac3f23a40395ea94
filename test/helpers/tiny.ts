// The `tiny` model of test/fixtures/keras-ref/README.md ("Keras-written weight files"), built with tfjs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tfl from '@tensorflow/tfjs-layers';

export const H5_DIR = fileURLToPath(new URL('../fixtures/keras-ref/h5/', import.meta.url));

export interface TinyReference {
  weights_in_legacy_order: { layer: string; path: string; owner_class: string; shape: number[] }[];
  input: { shape: number[] };
  output: { shape: number[]; values: number[][] };
}

export const tinyReference = JSON.parse(readFileSync(`${H5_DIR}tiny.json`, 'utf8')) as TinyReference;

/** `tiny` with zero kernels, so nothing but a loaded file can give Keras's outputs. */
export function buildTiny(): tfl.LayersModel {
  const zeros = 'zeros' as const;
  const image = tfl.input({ shape: [24, 24, 3], name: 'image' });
  let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: 'conv1', kernelInitializer: zeros }).apply(image);
  x = tfl.layers.batchNormalization({ name: 'bn1' }).apply(x);
  x = tfl.layers.reLU({ name: 'relu1' }).apply(x);
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'dw', depthwiseInitializer: zeros }).apply(x);
  x = tfl.layers
    .separableConv2d({ filters: 12, kernelSize: 3, padding: 'valid', name: 'sep', depthwiseInitializer: zeros, pointwiseInitializer: zeros })
    .apply(x);
  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x);
  const head = tfl.sequential({
    name: 'head_block',
    layers: [
      tfl.layers.dense({ units: 16, activation: 'relu', name: 'fc1', inputShape: [12], kernelInitializer: zeros }),
      tfl.layers.dense({ units: 10, name: 'fc2', kernelInitializer: zeros }),
    ],
  });
  const output = head.apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: image, outputs: output, name: 'tiny' });
}
