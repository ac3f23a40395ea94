import { describeKerasReference } from './helpers/keras-ref-suite';
import {
  efficientNetB0, efficientNetB1, efficientNetB2, efficientNetB3, efficientNetB4, efficientNetB5, efficientNetB6, efficientNetB7,
} from '../src/applications/efficientnet';

// EfficientNetB0…B7 against real Keras 3 (test/fixtures/keras-ref): layer tables and outputs.
describeKerasReference('EfficientNetB0', (options) => efficientNetB0(options));
describeKerasReference('EfficientNetB1', (options) => efficientNetB1(options));
describeKerasReference('EfficientNetB2', (options) => efficientNetB2(options));
describeKerasReference('EfficientNetB3', (options) => efficientNetB3(options));
describeKerasReference('EfficientNetB4', (options) => efficientNetB4(options));
describeKerasReference('EfficientNetB5', (options) => efficientNetB5(options));
describeKerasReference('EfficientNetB6', (options) => efficientNetB6(options));
describeKerasReference('EfficientNetB7', (options) => efficientNetB7(options));
