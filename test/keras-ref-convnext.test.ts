import { describeKerasReference } from './helpers/keras-ref-suite';

// ConvNeXt Tiny, Small and Base against real Keras 3 (test/fixtures/keras-ref): layer tables and outputs.
// Large and XLarge are in keras-ref-convnext-large.test.ts, so that the two test workers share the family's long run.
for (const size of ['Tiny', 'Small', 'Base']) describeKerasReference(`ConvNeXt${size}`);
