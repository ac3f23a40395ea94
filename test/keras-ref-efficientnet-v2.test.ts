import { describeKerasReference } from './helpers/keras-ref-suite';
import {
  efficientNetV2B0, efficientNetV2B1, efficientNetV2B2, efficientNetV2B3, efficientNetV2L, efficientNetV2M, efficientNetV2S,
} from '../src/applications/efficientnet-v2';

// EfficientNetV2 B0–B3, S, M, L against real Keras 3 (test/fixtures/keras-ref): layer tables and outputs.
describeKerasReference('EfficientNetV2B0', (options) => efficientNetV2B0(options));
describeKerasReference('EfficientNetV2B1', (options) => efficientNetV2B1(options));
describeKerasReference('EfficientNetV2B2', (options) => efficientNetV2B2(options));
describeKerasReference('EfficientNetV2B3', (options) => efficientNetV2B3(options));
describeKerasReference('EfficientNetV2S', (options) => efficientNetV2S(options));
describeKerasReference('EfficientNetV2M', (options) => efficientNetV2M(options));
describeKerasReference('EfficientNetV2L', (options) => efficientNetV2L(options));
