import { describeKerasReference } from './helpers/keras-ref-suite';
import { inceptionResNetV2 } from '../src/applications/inception-resnet-v2';

// InceptionResNetV2 against real Keras 3 (test/fixtures/keras-ref): layer table and outputs.
describeKerasReference('InceptionResNetV2', (options) => inceptionResNetV2(options));
