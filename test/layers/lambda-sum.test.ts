import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../src/backend';
import { ArgumentError } from '../../src/errors';
import { GroupedConv2D } from '../../src/layers/grouped-conv2d';
import { LambdaSum } from '../../src/layers/lambda-sum';

// ResNeXt's reduce: a [batch, 1, 1, groups=2, c=2, c=2] tensor summed over axis 4.
function reduceModel(): tfl.LayersModel {
  const x = tfl.input({ shape: [1, 1, 2, 2, 2] });
  const y = new LambdaSum({ axis: 4, name: 'conv2_block1_2_reduce' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: y });
}

async function check(model: tfl.LayersModel): Promise<void> {
  // x[g, a, b] = 100·g + 10·a + b; summing over a gives 200·g + 10 + 2·b.
  const values = [0, 1, 10, 11, 100, 101, 110, 111];
  const out = model.predict(tf.tensor(values, [1, 1, 1, 2, 2, 2])) as tf.Tensor;
  expect(out.shape).toEqual([1, 1, 1, 2, 2]);
  expect(Array.from(await out.data())).toEqual([10, 12, 210, 212]);
  out.dispose();
}

describe('LambdaSum', () => {
  beforeAll(() => ensureBackend());

  it("sums over its axis as Python's sum(x[:, :, :, :, i] for i) does, reporting Keras's class", async () => {
    const model = reduceModel();
    const layer = model.getLayer('conv2_block1_2_reduce');
    expect(layer.getClassName()).toBe('Lambda');
    expect(layer.outputShape).toEqual([null, 1, 1, 2, 2]);
    expect(layer.weights).toHaveLength(0);
    await check(model);
    model.dispose();
  });

  it('refuses the batch axis, and an axis past the input\'s rank, naming the layer', () => {
    expect(() => new LambdaSum({ axis: 0, name: 'reduce' })).toThrow(
      new ArgumentError("LambdaSum 'reduce': `axis` must be an integer >= 1 (the batch axis is 0). Received: axis=0"),
    );
    const x = tfl.input({ shape: [2, 3] });
    expect(() => new LambdaSum({ axis: 3, name: 'reduce' }).apply(x)).toThrow(
      new ArgumentError("LambdaSum 'reduce': `axis` must be less than the input's rank. Received: axis=3 for input shape [null,2,3] (rank 3)"),
    );
  });

  it("completes ResNeXt's grouped convolution: DepthwiseConv2D → Reshape → sum = Conv2D(groups)", async () => {
    // 8 channels in 2 groups of c = 4; Keras's grouped kernel K[i, j, a, g·c + b] is the depthwise kernel's
    // D[i, j, g·c + a, b] (input channel a of group g, output b).
    const [groups, c] = [2, 4];
    const depthwise = tf.randomUniform([3, 3, groups * c, c], -1, 1, 'float32', 7);
    const grouped = tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(depthwise, [3, 3, groups, c, c]), [0, 1, 3, 2, 4]), [3, 3, c, groups * c]));
    const x = tfl.input({ shape: [6, 6, groups * c] });
    let y = tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: c, useBias: false, weights: [depthwise] }).apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.reshape({ targetShape: [4, 4, groups, c, c] }).apply(y) as tfl.SymbolicTensor;
    y = new LambdaSum({ axis: 4 }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.reshape({ targetShape: [4, 4, groups * c] }).apply(y) as tfl.SymbolicTensor;
    const viaSum = tfl.model({ inputs: x, outputs: y });
    const conv = new GroupedConv2D({ filters: groups * c, kernelSize: 3, groups, useBias: false, weights: [grouped] });
    const viaGroups = tfl.model({ inputs: x, outputs: conv.apply(x) as tfl.SymbolicTensor });
    const input = tf.randomUniform([1, 6, 6, groups * c], 0, 1, 'float32', 3);
    const [a, b] = [viaSum.predict(input) as tf.Tensor, viaGroups.predict(input) as tf.Tensor];
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([depthwise, grouped, input, a, b]);
    viaSum.dispose();
    viaGroups.dispose();
  });

  it('survives a toJSON → modelFromJSON round trip', async () => {
    const model = reduceModel();
    const restored = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.serialization.ConfigDict });
    expect(restored.getLayer('conv2_block1_2_reduce')).toBeInstanceOf(LambdaSum);
    expect(restored.getLayer('conv2_block1_2_reduce').getConfig()).toMatchObject({ axis: 4 });
    await check(restored);
    model.dispose();
    restored.dispose();
  });
});
