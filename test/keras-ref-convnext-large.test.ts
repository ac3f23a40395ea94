import { describeKerasReference } from './helpers/keras-ref-suite';

// ConvNeXt Large and XLarge against real Keras 3 (test/fixtures/keras-ref): layer tables and outputs.
for (const size of ['Large', 'XLarge']) describeKerasReference(`ConvNeXt${size}`);
