import { describe } from 'vitest';
import { describeKerasReference } from './helpers/keras-ref-suite';

// ResNeXt50/101 (keras_applications 1.0.8 run on Keras 3, test/fixtures/keras-ref): layer tables and outputs, with
// the full 3×3 kernel of every grouped convolution (DepthwiseConv2D with a depth multiplier).
describe('ResNeXt equals keras_applications 1.0.8', () => {
  for (const builder of ['ResNeXt50', 'ResNeXt101']) {
    describeKerasReference(builder);
  }
});
