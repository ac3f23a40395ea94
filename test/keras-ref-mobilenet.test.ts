import { describe } from 'vitest';
import { mobilenet } from '../src/applications/mobilenet';
import { mobilenetV2 } from '../src/applications/mobilenet-v2';
import { mobilenetV3Large, mobilenetV3Small } from '../src/applications/mobilenet-v3';
import { describeKerasReference } from './helpers/keras-ref-suite';

// MobileNet, MobileNetV2, MobileNetV3Small/Large against real Keras 3 (test/fixtures/keras-ref).
describe('MobileNet family equals Keras', () => {
  describeKerasReference('MobileNet', (o) => mobilenet(o));
  describeKerasReference('MobileNetV2', (o) => mobilenetV2(o));
  describeKerasReference('MobileNetV3Small', (o) => mobilenetV3Small(o));
  describeKerasReference('MobileNetV3Large', (o) => mobilenetV3Large(o));
});
