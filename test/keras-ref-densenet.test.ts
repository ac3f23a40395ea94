import { describeKerasReference } from './helpers/keras-ref-suite';
import { densenet121, densenet169, densenet201 } from '../src/applications/densenet';

// DenseNet121/169/201 against real Keras 3 (test/fixtures/keras-ref): layer tables and outputs.
describeKerasReference('DenseNet121', (options) => densenet121(options));
describeKerasReference('DenseNet169', (options) => densenet169(options));
describeKerasReference('DenseNet201', (options) => densenet201(options));
