// The ResNeXt fixtures' quirk (test/keras-ref-resnext.test.ts explains it): Keras's run evaluated each
// `*_2_conv` DepthwiseConv2D (depth multiplier > 1) from its kernel's top-left tap only.
import type { WeightsFile } from '../../src/weights/types';

/** `weights` with every `*_2_conv` kernel's taps but the top-left one zeroed, as the fixture's run saw them. */
export function topLeftTapOnly(weights: WeightsFile): WeightsFile {
  return {
    ...weights,
    layers: weights.layers.map((layer) => {
      if (!layer.name.endsWith('_2_conv')) return layer;
      const [kernel] = layer.weights;
      const perTap = kernel!.shape[2]! * kernel!.shape[3]!;
      const data = new Float32Array(kernel!.data.length);
      data.set(kernel!.data.subarray(0, perTap));
      return { ...layer, weights: [{ ...kernel!, data }] };
    }),
  };
}
