import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { regnetX002, regnetY002 } from '../src/applications/regnet';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

useOfflineKerasHome('keras-args-regnet-');

describe("RegNet's argument rules", () => {
  it('includePreprocessing is a boolean', async () => {
    expect(await argumentError(regnetX002({ includePreprocessing: 'yes' as never }))).toMatch(
      /`includePreprocessing` must be true or false.*includePreprocessing='yes'/,
    );
  });

  it('has no other options of its own', async () => {
    expect(await argumentError(regnetX002({ depths: [1, 1, 1, 1] } as never))).toMatch(/Unknown option `depths` for RegNetX002/);
  });

  it('asks for the official file of the builder', async () => {
    const message = await regnetX002({ includeTop: false }).then(() => '', (e: Error) => e.message);
    expect(message).toContain('regnetx002_notop.h5');
  });
});

describe('RegNet builds', () => {
  it("named after the model, with the preprocessing left out on request and max pooling", async () => {
    const model = await regnetY002({ weights: null, includeTop: false, includePreprocessing: false, inputShape: [32, 32, 3], pooling: 'max', name: 'tiny' });
    expect(model.name).toBe('tiny');
    expect(model.layers[1]!.name).toBe('tiny_stem_conv');
    expect(model.layers.at(-1)!.name).toBe('global_max_pooling2d');
    expect(model.outputs[0]!.shape).toEqual([null, 368]);
    model.dispose();
  });

  it('applies the classifier activation (tf-keras returned logits even with softmax)', async () => {
    const model = await regnetX002({ weights: null, classes: 5, inputShape: [224, 224, 3] });
    const out = model.predict(tf.ones([1, 224, 224, 3])) as tf.Tensor;
    expect((await tf.sum(out).data())[0]).toBeCloseTo(1, 5);
    expect(model.layers.at(-1)!.name).toBe('1head_dense');
    out.dispose();
    model.dispose();
  });
});
