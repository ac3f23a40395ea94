import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { PreloadedWeights } from '../src/weights/preload';
import type { WeightsFile } from '../src/weights/types';

// A model with a nested Sequential (as ConvNeXt's stem), built from a file the way builders do.
function build(preloaded: PreloadedWeights): tfl.LayersModel {
  const input = tfl.input({ shape: [4, 4, 2] });
  const stem = tfl.sequential({
    name: 'stem',
    layers: [
      tfl.layers.conv2d({ filters: 3, kernelSize: 2, strides: 2, inputShape: [4, 4, 2], name: 'stem_conv', ...preloaded.initializers('stem_conv') }),
      tfl.layers.layerNormalization({ name: 'stem_norm', ...preloaded.initializers('stem_norm') }),
    ],
  });
  const x = stem.apply(input) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 2, name: 'head', ...preloaded.initializers('head') }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

const weight = (name: string, shape: number[], value: number) => ({ name, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value) });

function file(convScope = 'stem_conv'): WeightsFile {
  return {
    format: 'legacy',
    attributes: {},
    layers: [
      { name: 'input_layer', weights: [] },
      {
        name: 'stem',
        weights: [
          weight(`${convScope}/kernel:0`, [2, 2, 2, 3], 0.5),
          weight(`${convScope}/bias:0`, [3], 0.25),
          weight('stem/stem_norm/gamma:0', [3], 2),
          weight('stem/stem_norm/beta:0', [3], -1),
        ],
      },
      { name: 'head', weights: [weight('head/kernel:0', [3, 2], 3), weight('head/bias:0', [2], 4)] },
    ],
  };
}

describe('PreloadedWeights', () => {
  beforeAll(() => ensureBackend());

  it("offers a nested model's weights to its inner layers by name", () => {
    const preloaded = new PreloadedWeights(file());
    const model = build(preloaded);
    expect(preloaded.matchesModel(model)).toBe(true);
    expect(model.getWeights().map((w) => w.dataSync()[0])).toEqual([0.5, 0.25, 2, -1, 3, 4]);
    model.dispose();
  });

  it('does not match when a weight of the file went to no layer, so the caller loads by order', () => {
    // Layer and short weight names agree by order, but the inner convolution is another one in the file.
    const preloaded = new PreloadedWeights(file('other_conv'));
    const model = build(preloaded);
    expect(preloaded.matchesModel(model)).toBe(false);
    model.dispose();
  });
});
