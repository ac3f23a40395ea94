import { describeKerasReference } from './helpers/keras-ref-suite';
import { xception } from '../src/applications/xception';

// Xception against real Keras 3 (test/fixtures/keras-ref): layer table and outputs.
describeKerasReference('Xception', (options) => xception(options));
