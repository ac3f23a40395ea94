import { describeKerasReference } from './helpers/keras-ref-suite';
import { convNeXtBase, convNeXtLarge, convNeXtSmall, convNeXtTiny, convNeXtXLarge } from '../src/applications/convnext';

// ConvNeXt Tiny…XLarge against real Keras 3 (test/fixtures/keras-ref): layer tables and outputs.
describeKerasReference('ConvNeXtTiny', (options) => convNeXtTiny(options));
describeKerasReference('ConvNeXtSmall', (options) => convNeXtSmall(options));
describeKerasReference('ConvNeXtBase', (options) => convNeXtBase(options));
describeKerasReference('ConvNeXtLarge', (options) => convNeXtLarge(options));
describeKerasReference('ConvNeXtXLarge', (options) => convNeXtXLarge(options));
