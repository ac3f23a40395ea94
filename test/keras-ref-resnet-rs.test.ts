import { describeKerasReference } from './helpers/keras-ref-suite';
import * as resnetRS from '../src/applications/resnet-rs';

// ResNetRS50 … 420 (tf-keras's resnet_rs.py run on Keras 3, test/fixtures/keras-ref): layer tables and outputs.
for (const depth of [50, 101, 152, 200, 270, 350, 420] as const) {
  describeKerasReference(`ResNetRS${depth}`, (options) => resnetRS[`resnetRS${depth}`](options));
}
