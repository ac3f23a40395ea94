import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../../src/backend';
import { ArgumentError } from '../../src/errors';
import { GroupedConv2D, type GroupedConv2DArgs } from '../../src/layers/grouped-conv2d';
import { uniform } from '../helpers/generator';

const [H, W] = [5, 6];

function convModel(channels: number, args: GroupedConv2DArgs): tfl.LayersModel {
  const input = tfl.input({ shape: [H, W, channels] });
  return tfl.model({ inputs: input, outputs: new GroupedConv2D({ name: 'conv', ...args }).apply(input) as tfl.SymbolicTensor });
}

/**
 * Keras's grouped convolution written out, stride 1, 'same' padding of an odd kernel: output channel o
 * belongs to group g = floor(o / (filters / groups)) and sums over that group's input channels only.
 */
function referenceConv(x: Float32Array, channels: number, kernel: Float32Array, bias: Float32Array, k: number, groups: number): number[] {
  const filters = bias.length;
  const [cg, fg, pad] = [channels / groups, filters / groups, (k - 1) / 2];
  const out: number[] = [];
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      for (let o = 0; o < filters; o++) {
        const g = Math.floor(o / fg);
        let sum = bias[o]!;
        for (let di = 0; di < k; di++) {
          for (let dj = 0; dj < k; dj++) {
            const [y, z] = [i + di - pad, j + dj - pad];
            if (y < 0 || y >= H || z < 0 || z >= W) continue;
            for (let c = 0; c < cg; c++) sum += x[(y * W + z) * channels + g * cg + c]! * kernel[((di * k + dj) * cg + c) * filters + o]!;
          }
        }
        out.push(sum);
      }
    }
  }
  return out;
}

async function check(channels: number, filters: number, groups: number, kernelSize: number): Promise<void> {
  const model = convModel(channels, { filters, kernelSize, groups, padding: 'same' });
  const kernelShape = [kernelSize, kernelSize, channels / groups, filters];
  expect(model.getLayer('conv').weights.map((w) => w.shape)).toEqual([kernelShape, [filters]]);
  const kernel = uniform('kernel', kernelShape, -1, 1);
  const bias = uniform('bias', [filters], -1, 1);
  const x = uniform('x', [1, H, W, channels], -1, 1);
  model.setWeights([tf.tensor(kernel, kernelShape), tf.tensor1d(bias)]);
  const out = model.predict(tf.tensor4d(x, [1, H, W, channels])) as tf.Tensor;
  const actual = Array.from(await out.data());
  referenceConv(x, channels, kernel, bias, kernelSize, groups).forEach((v, i) => expect(actual[i]).toBeCloseTo(v, 4));
  out.dispose();
  model.dispose();
}

describe('GroupedConv2D (Keras Conv2D with groups)', () => {
  beforeAll(() => ensureBackend());

  it('groups = channels (depthwise, as ConvNeXt): kernel (k, k, 1, filters), two filters per channel', () => check(3, 6, 3, 3));

  it('groups = 2: each half of the channels with its half of the filters', () => check(4, 6, 2, 3));

  it('groups = 1 is an ordinary Conv2D and reports the Keras class', () => check(2, 3, 1, 1));

  it('reports Conv2D and survives a toJSON → modelFromJSON round trip, as do ordinary tfjs Conv2D models', async () => {
    const model = convModel(4, { filters: 4, kernelSize: 3, groups: 4, padding: 'same' });
    expect(model.getLayer('conv').getClassName()).toBe('Conv2D');
    const restored = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.serialization.ConfigDict });
    const layer = restored.getLayer('conv') as GroupedConv2D;
    expect(layer).toBeInstanceOf(GroupedConv2D);
    expect(layer.groups).toBe(4);
    restored.setWeights(model.getWeights());
    const x = tf.tensor4d(uniform('x', [1, H, W, 4], -1, 1), [1, H, W, 4]);
    const [a, b] = [model.predict(x), restored.predict(x)] as tf.Tensor[];
    expect(Array.from(await b!.data())).toEqual(Array.from(await a!.data()));
    tf.dispose([x, a!, b!]);

    const plainInput = tfl.input({ shape: [H, W, 2] });
    const plain = tfl.model({ inputs: plainInput, outputs: tfl.layers.conv2d({ filters: 3, kernelSize: 3 }).apply(plainInput) as tfl.SymbolicTensor });
    const plainRestored = await tfl.models.modelFromJSON({ modelTopology: plain.toJSON(null, false) as tf.serialization.ConfigDict });
    expect((plainRestored.layers[1] as GroupedConv2D).groups).toBe(1);
    [model, restored, plain, plainRestored].forEach((m) => m.dispose());
  });

  it('rejects groups that are not a positive integer or do not divide the filters or the channels, naming the layer', () => {
    expect(() => new GroupedConv2D({ filters: 6, kernelSize: 3, groups: 4, name: 'conv' })).toThrow(
      new ArgumentError(
        "Conv2D 'conv': the number of filters must be evenly divisible by the number of groups. Received: groups=4, filters=6",
      ),
    );
    expect(() => new GroupedConv2D({ filters: 6, kernelSize: 3, groups: 0, name: 'conv' })).toThrow(
      new ArgumentError("Conv2D 'conv': `groups` must be an integer >= 1. Received: groups=0"),
    );
    expect(() => convModel(3, { filters: 4, kernelSize: 3, groups: 2 })).toThrow(ArgumentError);
    expect(() => convModel(3, { filters: 4, kernelSize: 3, groups: 2 })).toThrow(/Conv2D 'conv': .* Received: groups=2, input shape \[null,5,6,3\]/);
  });
});
