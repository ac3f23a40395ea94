import { describeKerasReference } from './helpers/keras-ref-suite';
import { nasnetLarge, nasnetMobile } from '../src/applications/nasnet';

// NASNetMobile and NASNetLarge against real Keras 3 (test/fixtures/keras-ref): layer tables and outputs.
describeKerasReference('NASNetMobile', (options) => nasnetMobile(options));
describeKerasReference('NASNetLarge', (options) => nasnetLarge(options));
