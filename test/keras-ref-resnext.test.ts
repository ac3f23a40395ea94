import type { WeightsFile } from '../src/weights/types';
import { resnext101, resnext50 } from '../src/applications/resnext';
import { describeKerasReference } from './helpers/keras-ref-suite';
import { topLeftTapOnly } from './helpers/resnext-fixture';

// ResNeXt50/101 (keras_applications 1.0.8 run on Keras 3, test/fixtures/keras-ref): layer tables and outputs.
//
// The fixture's torch CPU run evaluated DepthwiseConv2D with depth_multiplier > 1 (the `*_2_conv` of every block)
// from the kernel's top-left tap only: the same weights with the other eight taps zeroed reproduce every output.
// So these checks zero those taps, which tests everything but the 3×3 window; the window itself is tfjs's
// depthwise convolution, and test/layers/lambda-sum.test.ts checks the whole grouped convolution against
// GroupedConv2D.

for (const [builder, build] of [['ResNeXt50', resnext50], ['ResNeXt101', resnext101]] as const) {
  describeKerasReference(builder, (options) => build({ ...options, weights: topLeftTapOnly(options.weights as WeightsFile) }));
}
