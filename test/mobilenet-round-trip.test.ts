import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { mobilenet } from '../src/applications/mobilenet';
import { mobilenetV3Small } from '../src/applications/mobilenet-v3';
import { generatedInput } from './helpers/generator';

// Models with this family's custom layers (DepthwiseConv2D, GlobalAveragePooling2D with keepdims, hard-swish,
// the hard sigmoid's ScalarOperations) save with toJSON and come back as the same model.
describe('MobileNet family models survive toJSON → modelFromJSON', () => {
  const builds: [string, () => Promise<tfl.LayersModel>][] = [
    ['MobileNet', () => mobilenet({ weights: null, alpha: 0.25, inputShape: [128, 128, 3] })],
    ['MobileNetV3Small', () => mobilenetV3Small({ weights: null, alpha: 0.75 })],
  ];
  for (const [name, build] of builds) {
    it(name, async () => {
      const model = await build();
      const restored = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.serialization.ConfigDict });
      expect(restored.layers.map((l) => [l.name, l.getClassName()])).toEqual(model.layers.map((l) => [l.name, l.getClassName()]));
      restored.setWeights(model.getWeights());
      const input = tf.tensor(generatedInput([1, 128, 128, 3]), [1, 128, 128, 3]);
      const [ours, theirs] = [model, restored].map((m) => m.predict(input) as tf.Tensor);
      expect(Array.from(await theirs!.data())).toEqual(Array.from(await ours!.data()));
      tf.dispose([input, ours!, theirs!]);
      model.dispose();
      restored.dispose();
    });
  }
});
