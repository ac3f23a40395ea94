import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createFeatureModel, featureExtractor, FEATURE_STRIDES } from '../src/features';
import { resnet50 } from '../src/applications/resnet';
import { ArgumentError } from '../src/errors';
import { argumentError } from './helpers/offline-arguments';
import { loadFixture, type FixtureConfig } from './helpers/keras-ref';

// The smallest builder of every image family, each built once at the size of its Keras fixture's
// no-top config: the levels chosen must be the ones the rule picks from Keras's own layer table.
const FAMILIES = [
  'VGG16', 'ResNet50', 'ResNet50V2', 'Xception', 'InceptionV3', 'InceptionResNetV2', 'DenseNet121', 'NASNetMobile',
  'MobileNet', 'MobileNetV2', 'MobileNetV3Small', 'EfficientNetB0', 'EfficientNetV2B0', 'ConvNeXtTiny', 'ResNeXt50',
  'RegNetX002', 'RegNetY002', 'ResNetRS50',
];

interface KerasNode {
  name: string;
  className: string;
  shape: unknown;
  /** Indices into the node list (layers, then operations). */
  inbound: number[];
  /** Its place in Keras's graph order: a layer's index; an operation sits just after its deepest input. */
  depth: number;
}

/** Keras's layers and non-layer operations (`x + y`, which our models hold as stand-in layers), in graph order. */
function kerasNodes(config: FixtureConfig): KerasNode[] {
  const { layers, non_layer_ops: ops } = config.structure;
  const nodes: KerasNode[] = layers.map(([name, className, shape, , , inbound], depth) => ({ name, className, shape, inbound, depth }));
  for (const op of ops) {
    const [name, className, shape, inbound] = op as [string, string, unknown, number[]];
    nodes.push({ name, className, shape, inbound, depth: Number.NaN });
  }
  const depthOf = (i: number): number => {
    const node = nodes[i]!;
    if (Number.isNaN(node.depth)) node.depth = Math.max(...node.inbound.map(depthOf)) + 0.5;
    return node.depth;
  };
  nodes.forEach((_, i) => depthOf(i));
  return nodes;
}

/** Names of the nodes that every input-to-output path of Keras's graph goes through. */
function kerasTrunk(nodes: KerasNode[]): Set<string> {
  const order = nodes.map((_, i) => i).sort((a, b) => nodes[a]!.depth - nodes[b]!.depth);
  const consumers = nodes.map((_, i) => nodes.filter((n) => n.inbound.includes(i)).length);
  consumers[order.at(-1)!]! += 1; // the model's output
  const open = new Set<number>();
  const trunk = new Set<string>();
  for (const i of order) {
    for (const input of new Set(nodes[i]!.inbound)) {
      consumers[input]! -= nodes[i]!.inbound.filter((j) => j === input).length;
      if (consumers[input] === 0) open.delete(input);
    }
    open.add(i);
    if (open.size === 1) trunk.add(nodes[i]!.name);
  }
  return trunk;
}

/**
 * Where Keras's graph has no layer of exactly ceil(H/s) × ceil(W/s) ('valid' convolutions shrink the maps), the
 * level is the last layer before the next stride: timm's feature layers for the same networks
 * (inception_v3: Conv2d_2b, Conv2d_4a, Mixed_5d, Mixed_6e, Mixed_7c; inception_resnet_v2: conv2d_2b, conv2d_4a,
 * repeat, repeat_1, conv2d_7b; xception: act2, block2). NASNet's cells read the two previous cells, so its
 * stride-2 level is the stem.
 */
const SHRUNK_LEVELS: Record<string, Record<number, string>> = {
  InceptionV3: { 2: 'activation_2', 4: 'activation_4', 8: 'mixed2', 16: 'mixed7', 32: 'mixed10' },
  InceptionResNetV2: { 2: 'activation_2', 4: 'activation_4', 8: 'block35_10_ac', 16: 'block17_20_ac', 32: 'conv_7b_ac' },
  Xception: { 2: 'block1_conv2_act', 4: 'add' },
  NASNetMobile: { 2: 'stem_bn1' },
};

/**
 * The rule on Keras's graph: for stride s the deepest node with output ceil(H/s) × ceil(W/s), preferring
 * stage outputs (the trunk) to layers inside a branch; padding layers and the input are never features.
 */
function expectedLevels(name: string, config: FixtureConfig): { reduction: number; layerName: string; channels: number }[] {
  const [height, width] = config.structure.input_shape.slice(1, 3) as [number, number];
  const nodes = kerasNodes(config);
  const trunk = kerasTrunk(nodes);
  const spatial = nodes
    .filter((n) => Array.isArray(n.shape) && n.shape.length === 3 && !['ZeroPadding2D', 'InputLayer'].includes(n.className))
    .sort((a, b) => b.depth - a.depth);
  const shape = (n: KerasNode) => n.shape as number[];
  return FEATURE_STRIDES.map((s) => {
    const [h, w] = [Math.ceil(height / s), Math.ceil(width / s)];
    const exact = (n: KerasNode) => shape(n)[0] === h && shape(n)[1] === w;
    const chosen =
      spatial.find((n) => trunk.has(n.name) && exact(n)) ??
      spatial.find(exact) ??
      spatial.find((n) => n.name === SHRUNK_LEVELS[name]?.[s]);
    return chosen ? { reduction: s, layerName: chosen.name, channels: shape(chosen)[2]! } : undefined;
  }).filter((level) => level !== undefined);
}

describe('createFeatureModel: every image family, against the Keras layer tables', () => {
  it.each(FAMILIES)('%s', async (name) => {
    const config = loadFixture(name).configs.find((c) => c.id.startsWith('notop'))!;
    const inputShape = config.structure.input_shape.slice(1) as [number, number, number];
    const pyramid = await createFeatureModel(name, { weights: null, inputShape });
    try {
      const expected = expectedLevels(name, config);
      const kerasShapes = new Map(kerasNodes(config).map((n) => [n.name, n.shape]));
      if (name === 'ConvNeXtTiny') {
        // This Keras config pools before ConvNeXt's last LayerNormalization; without pooling it normalises the map.
        expected[3]!.layerName = 'layer_normalization';
        kerasShapes.set('layer_normalization', kerasShapes.get('add_17'));
      }
      // Every family has every level but ConvNeXt, whose stem goes straight to stride 4.
      expect(expected.map((l) => l.reduction)).toEqual(name === 'ConvNeXtTiny' ? [4, 8, 16, 32] : FEATURE_STRIDES);
      expect(pyramid.featureInfo.map(({ reduction, layerName, channels }) => ({ reduction, layerName, channels }))).toEqual(expected);
      expect(pyramid.featureInfo.map((l) => l.index)).toEqual(expected.map((l) => FEATURE_STRIDES.indexOf(l.reduction)));
      expect(pyramid.model.outputs.map((t) => t.shape.slice(1))).toEqual(expected.map((l) => kerasShapes.get(l.layerName)));
    } finally {
      pyramid.dispose();
    }
  });
});

describe('createFeatureModel at odd, non-square sizes', () => {
  it.each(['ResNet50', 'MobileNetV2', 'EfficientNetB0', 'RegNetY002'])('%s at 97×130 gives ceil(97/s) × ceil(130/s) maps', async (name) => {
    const pyramid = await createFeatureModel(name, { weights: null, inputShape: [97, 130, 3] });
    const x = tf.randomUniform([1, 97, 130, 3], 0, 255);
    const features = pyramid.extract(x);
    try {
      expect(Object.keys(features)).toEqual(pyramid.featureInfo.map((l) => l.layerName));
      expect(pyramid.featureInfo.map((l) => features[l.layerName]!.shape)).toEqual(
        [2, 4, 8, 16, 32].map((s, i) => [1, Math.ceil(97 / s), Math.ceil(130 / s), pyramid.featureInfo[i]!.channels]),
      );
    } finally {
      tf.dispose([x, ...Object.values(features)]);
      pyramid.dispose();
    }
  });

  it('chooses the levels at the default size when the size is free, and runs at any size', async () => {
    const pyramid = await createFeatureModel('ResNet50', { weights: null, outIndices: [1, 4] });
    const x = tf.randomUniform([2, 97, 130, 3], 0, 255);
    const features = pyramid.extract(x);
    try {
      // ResNet50's stage outputs (as timm's resnet50 features: layer1 … layer4).
      expect(pyramid.featureInfo).toEqual([
        { index: 1, reduction: 4, layerName: 'conv2_block3_out', channels: 256 },
        { index: 4, reduction: 32, layerName: 'conv5_block3_out', channels: 2048 },
      ]);
      expect(features.conv2_block3_out!.shape).toEqual([2, 25, 33, 256]);
      expect(features.conv5_block3_out!.shape).toEqual([2, 4, 5, 2048]);
    } finally {
      tf.dispose([x, ...Object.values(features)]);
      pyramid.dispose();
    }
  });

  it.each([
    [{ outIndices: [5] }, '`outIndices` must be distinct integers from 0 to 4 (strides 2, 4, 8, 16, 32). Received: outIndices=[5]'],
    [{ outIndices: [1, 1] }, 'Received: outIndices=[1,1]'],
    [{ outIndices: [] }, 'Received: outIndices=[]'],
    [{ includeTop: true }, 'A feature model has no classifier head, so `includeTop` cannot be set. Received: includeTop=true'],
    [{ pooling: 'avg' }, 'so `pooling` cannot be set. Received: pooling=\'avg\''],
  ])('rejects %j', async (options, message) => {
    expect(await argumentError(createFeatureModel('ResNet50', { weights: null, ...options } as never))).toContain(message);
  });

  it('rejects a level the model does not have', async () => {
    expect(await argumentError(createFeatureModel('ConvNeXtTiny', { weights: null, outIndices: [0, 1] }))).toBe(
      'ConvNeXtTiny has no stride-2 level; its `outIndices` are 1 (stride 4), 2 (stride 8), 3 (stride 16), 4 (stride 32). Received: outIndices=[0,1]',
    );
  });

  it('rejects names that are not image models', async () => {
    expect(await argumentError(createFeatureModel('MusicTaggerCRNN'))).toContain("Received: name='MusicTaggerCRNN'");
    expect(await argumentError(createFeatureModel('ResNet42'))).toMatch(/^`name` must be an image model of the registry: VGG16, VGG19, .*Received: name='ResNet42'$/);
  });
});

describe('featureExtractor', () => {
  it("returns the named layers' outputs, equal to the source model's own outputs there", async () => {
    const model = await resnet50({ weights: null, includeTop: false, inputShape: [64, 64, 3] });
    const extractor = featureExtractor(model, ['conv5_block3_out', 'pool1_pool']);
    const x = tf.randomUniform([1, 64, 64, 3], 0, 255);
    const features = extractor.extract(x);
    const full = model.predict(x) as tf.Tensor; // includeTop false, no pooling: conv5_block3_out
    try {
      expect(Object.keys(features)).toEqual(['conv5_block3_out', 'pool1_pool']);
      expect(features.pool1_pool!.shape).toEqual([1, 16, 16, 64]);
      expect(Array.from(await features.conv5_block3_out!.data())).toEqual(Array.from(await full.data()));
      expect(() => featureExtractor(model, ['conv1_conv', 'nope'])).toThrow(ArgumentError);
      expect(() => featureExtractor(model, ['conv1_conv', 'nope'])).toThrow(/Model 'resnet50' has no layer 'nope'/);
      expect(() => featureExtractor(model, [])).toThrow('`layerNames` must be a non-empty array of layer names. Received: layerNames=[]');
      expect(() => featureExtractor(model, ['pool1_pool', 'pool1_pool'])).toThrow("`layerNames` lists 'pool1_pool' twice");
    } finally {
      tf.dispose([x, full, ...Object.values(features)]);
      extractor.dispose();
    }
    expect(() => model.predict(tf.zeros([1, 64, 64, 3]))).toThrow(/disposed/);
  });
});
