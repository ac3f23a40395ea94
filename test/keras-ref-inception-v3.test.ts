import { describeKerasReference } from './helpers/keras-ref-suite';
import { inceptionV3 } from '../src/applications/inception-v3';

// InceptionV3 against real Keras 3 (test/fixtures/keras-ref): layer table and outputs.
describeKerasReference('InceptionV3', (options) => inceptionV3(options));
