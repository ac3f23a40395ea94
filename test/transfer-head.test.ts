import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { ArgumentError } from '../src/errors';
import { withNewHead } from '../src/transfer/head';
import { buildTiny } from './helpers/tiny';

// `tiny`: image → conv1 → bn1 → relu1 → dw → sep (a feature map) → gap (a vector) → head_block (its own head).
const layerSummary = (model: tfl.LayersModel) => model.layers.map((layer) => `${layer.name}:${layer.getClassName()}`);
const TINY_BASE = ['image:InputLayer', 'conv1:Conv2D', 'bn1:BatchNormalization', 'relu1:ReLU', 'dw:DepthwiseConv2D', 'sep:SeparableConv2D'];

describe('withNewHead', () => {
  beforeAll(() => ensureBackend());

  it("replaces a base's head, sharing the base's layers under their names", () => {
    const base = buildTiny();
    const model = withNewHead(base, { classes: 3, after: 'sep', dropout: 0.2 });
    expect(layerSummary(model)).toEqual([...TINY_BASE, 'avg_pool:GlobalAveragePooling2D', 'top_dropout:Dropout', 'predictions:Dense']);
    TINY_BASE.forEach((_, i) => expect(model.layers[i]).toBe(base.layers[i]));
    expect(model.name).toBe('tiny');
    expect(model.outputs[0]!.shape).toEqual([null, 3]);
    const probabilities = tf.tidy(() => Array.from((model.predict(tf.ones([2, 24, 24, 3])) as tf.Tensor).dataSync()));
    [0, 1].forEach((row) => expect(probabilities.slice(row * 3, row * 3 + 3).reduce((a, b) => a + b)).toBeCloseTo(1, 5));
    base.dispose();
  });

  it('pools a feature map as asked and takes a vector as it is', () => {
    const base = buildTiny();
    const heads: [Parameters<typeof withNewHead>[1], string[]][] = [
      [{ classes: 2, after: 'sep', pooling: 'max' }, ['max_pool:GlobalMaxPooling2D', 'predictions:Dense']],
      [{ classes: 2, after: 'sep', pooling: 'flatten' }, ['flatten:Flatten', 'predictions:Dense']],
      [{ classes: 2, after: 'gap' }, ['gap:GlobalAveragePooling2D', 'predictions:Dense']],
    ];
    for (const [options, top] of heads) expect(layerSummary(withNewHead(base, options)).slice(TINY_BASE.length)).toEqual(top);
    base.dispose();
  });

  it('activation: softmax by default, sigmoid, or logits with null', () => {
    const base = buildTiny();
    const activations = (['softmax', 'sigmoid', null, undefined] as const).map((activation) => {
      const model = withNewHead(base, { classes: 2, after: 'gap', activation });
      return (model.getLayer('predictions').getConfig() as { activation: string }).activation;
    });
    expect(activations).toEqual(['softmax', 'sigmoid', 'linear', 'softmax']);
    base.dispose();
  });

  it("a seed gives the same predictions kernel, another seed another one", () => {
    const base = buildTiny();
    const kernel = (seed: number) => Array.from(withNewHead(base, { classes: 4, after: 'gap', seed }).getLayer('predictions').getWeights()[0]!.dataSync());
    expect(kernel(7)).toEqual(kernel(7));
    expect(kernel(7)).not.toEqual(kernel(8));
    base.dispose();
  });

  it("a base frozen with tfjs's base.trainable = false stays frozen, layer by layer; only the head trains", () => {
    const base = buildTiny();
    base.trainable = false;
    const model = withNewHead(base, { classes: 3, after: 'sep' });
    expect(model.trainableWeights.map((w) => w.originalName)).toEqual(['predictions/kernel', 'predictions/bias']);
    expect(TINY_BASE.map((_, i) => model.layers[i]!.trainable)).toEqual(TINY_BASE.map(() => false));
    base.dispose();
  });

  it('rejects what it cannot build, naming the argument and the value', () => {
    const base = buildTiny();
    const withHead = withNewHead(base, { classes: 2, after: 'gap' });
    const cases: [() => unknown, RegExp][] = [
      [() => withNewHead(base, { classes: 0, after: 'gap' }), /`classes` must be an integer >= 1. Received: classes=0/],
      [() => withNewHead(base, {} as never), /`classes` must be an integer >= 1. Received: classes=undefined/],
      [() => withNewHead(base, { classes: 2, after: 'gap', activation: 'relu' as never }), /`activation` must be 'softmax', 'sigmoid' or null. Received: activation='relu'/],
      [() => withNewHead(base, { classes: 2, after: 'gap', dropout: 1 }), /`dropout` must be a number in \[0, 1\). Received: dropout=1/],
      [() => withNewHead(base, { classes: 2, after: 'gap', pooling: 'avg' }), /`pooling` must be one of null for features of rank 2. Received: pooling='avg'/],
      [() => withNewHead(base, { classes: 2, after: 'sep', pooling: null }), /`pooling` must be one of 'avg', 'max', 'flatten' for features of rank 4. Received: pooling=null/],
      [() => withNewHead(base, { classes: 2, after: 'conv9' }), /`after` must be the name of one of the layers of model 'tiny'. Received: after='conv9'/],
      [() => withNewHead(base, { classes: 2, after: 'gap', seed: 0.5 }), /`seed` must be an integer. Received: seed=0.5/],
      [() => withNewHead(base, { classes: 2, include_top: false } as never), /Unknown option `include_top` for withNewHead/],
      [() => withNewHead(withHead, { classes: 2 }), /Model 'tiny' already has a layer named 'predictions': pass `after` to replace its head/],
    ];
    for (const [call, message] of cases) {
      expect(call).toThrow(ArgumentError);
      expect(call).toThrow(message);
    }
    base.dispose();
  });
});
