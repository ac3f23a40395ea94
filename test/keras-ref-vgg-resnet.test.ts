import { describe } from 'vitest';
import { describeKerasReference } from './helpers/keras-ref-suite';

// VGG, ResNet and ResNetV2 against real Keras 3 (test/fixtures/keras-ref): layer tables and outputs.
describe('VGG, ResNet, ResNetV2 equal Keras', () => {
  for (const builder of ['VGG16', 'VGG19', 'ResNet50', 'ResNet101', 'ResNet152', 'ResNet50V2', 'ResNet101V2', 'ResNet152V2']) {
    describeKerasReference(builder);
  }
});
