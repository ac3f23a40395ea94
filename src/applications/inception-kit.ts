// What InceptionV3 and InceptionResNetV2 share: Keras's conv2d_bn (Conv2D without bias, BatchNormalization
// without scale, ReLU), the auto-named pooling and concatenation layers, and the common stem.
import * as tfl from '@tensorflow/tfjs-layers';
import { apply, kerasAutoNames, type BuildContext } from './common';

type Tensor = tfl.SymbolicTensor;

/** One conv2d_bn: [filters, kernel rows, kernel cols, stride, padding]. */
export type ConvSpec = [filters: number, rows: number, cols: number, strides?: number, padding?: 'same' | 'valid'];

/** `names` gives the three layers' names; without it Keras names them automatically. */
export interface ConvBnNames {
  conv: string;
  bn: string;
  activation: string;
}

export function inceptionKit(context: BuildContext) {
  const autoName = kerasAutoNames();
  const convBn = (x: Tensor, [filters, rows, cols, strides = 1, padding = 'same']: ConvSpec, names?: ConvBnNames): Tensor => {
    const convName = names?.conv ?? autoName('conv2d');
    x = apply(
      tfl.layers.conv2d({ filters, kernelSize: [rows, cols], strides, padding, useBias: false, name: convName, ...context.init(convName) }),
      x,
    );
    const bnName = names?.bn ?? autoName('batch_normalization');
    x = apply(tfl.layers.batchNormalization({ axis: 3, scale: false, name: bnName, ...context.init(bnName) }), x);
    return apply(tfl.layers.activation({ activation: 'relu', name: names?.activation ?? autoName('activation') }), x);
  };
  return {
    autoName,
    convBn,
    /** A stack of conv2d_bn layers. */
    convs: (x: Tensor, specs: ConvSpec[]) => specs.reduce((t, spec) => convBn(t, spec), x),
    maxPool: (x: Tensor) => apply(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name: autoName('max_pooling2d') }), x),
    avgPool: (x: Tensor) =>
      apply(tfl.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: autoName('average_pooling2d') }), x),
    concat: (xs: Tensor[], name = autoName('concatenate')) => apply(tfl.layers.concatenate({ axis: 3, name }), xs),
  };
}

export type InceptionKit = ReturnType<typeof inceptionKit>;

/** The stem both networks start with: three 3×3 convolutions, pooling, 1×1 and 3×3 convolutions, pooling. */
export function inceptionStem(k: InceptionKit, input: Tensor): Tensor {
  const x = k.maxPool(k.convs(input, [[32, 3, 3, 2, 'valid'], [32, 3, 3, 1, 'valid'], [64, 3, 3]]));
  return k.maxPool(k.convs(x, [[80, 1, 1, 1, 'valid'], [192, 3, 3, 1, 'valid']]));
}

/** A 35×35 module: 1×1, 5×5, double 3×3 and average-pooled branches, concatenated as `name`. */
export function inceptionModuleA(k: InceptionKit, x: Tensor, filters: { first: number; pool: number }, name: string): Tensor {
  return k.concat(
    [
      k.convs(x, [[filters.first, 1, 1]]),
      k.convs(x, [[48, 1, 1], [64, 5, 5]]),
      k.convs(x, [[64, 1, 1], [96, 3, 3], [96, 3, 3]]),
      k.convs(k.avgPool(x), [[filters.pool, 1, 1]]),
    ],
    name,
  );
}

/** The 35→17 reduction: a strided 3×3, a strided double-3×3 stack (`stack`) and max pooling, concatenated. */
export function inceptionReductionA(k: InceptionKit, x: Tensor, stack: [number, number, number], name: string): Tensor {
  return k.concat(
    [
      k.convs(x, [[384, 3, 3, 2, 'valid']]),
      k.convs(x, [[stack[0], 1, 1], [stack[1], 3, 3], [stack[2], 3, 3, 2, 'valid']]),
      k.maxPool(x),
    ],
    name,
  );
}
