import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { obtainInputShape } from '../src/applications/imagenet-utils';
import { applications, getApplication, preprocessInput } from '../src/applications/registry';
import { resnet50 } from '../src/index';
import { ArgumentError } from '../src/errors';

import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

// No case here may reach the network: the cache is empty and offline mode is on.
useOfflineKerasHome('keras-args-');

describe("Keras's argument rules", () => {
  // The rules of sizes, channels, classes and the activation with pretrained weights are checked for every
  // application in arguments-common.test.ts; these are the others, with ResNet50 as the example.
  it('weights: a missing path fails, naming the value', async () => {
    const message = await argumentError(resnet50({ weights: '/no/such/file.h5' }));
    expect(message).toContain('`weights`');
    expect(message).toContain("weights='/no/such/file.h5'");
    expect(message).toContain('no file exists at that path');
  });

  it('weights: a value of the wrong type fails', async () => {
    expect(await argumentError(resnet50({ weights: 42 as never }))).toContain('weights=42');
  });

  it('classes must be a positive integer', async () => {
    expect(await argumentError(resnet50({ classes: 0, weights: null }))).toContain('classes=0');
    expect(await argumentError(resnet50({ classes: 2.5, weights: null }))).toContain('classes=2.5');
  });

  it('inputShape: three entries, positive integers', async () => {
    expect(await argumentError(resnet50({ includeTop: false, inputShape: [64, 64] as never }))).toMatch(/three integers/);
    expect(await argumentError(resnet50({ includeTop: false, inputShape: [64, -1, 3] }))).toMatch(/positive integers/);
  });

  it('classifierActivation: a known name without pretrained weights', async () => {
    expect(await argumentError(resnet50({ weights: null, classifierActivation: 'bogus' }))).toContain("classifierActivation='bogus'");
  });

  it('pooling, name, includeTop, inputTensor and unknown options are checked', async () => {
    expect(await argumentError(resnet50({ includeTop: false, pooling: 'median' as never }))).toContain("pooling='median'");
    expect(await argumentError(resnet50({ name: '' }))).toContain('`name`');
    expect(await argumentError(resnet50({ includeTop: 'yes' as never }))).toContain("includeTop='yes'");
    expect(await argumentError(resnet50({ inputTensor: tf.zeros([1, 2]) as never }))).toContain('symbolic tensor');
    expect(await argumentError(resnet50({ include_top: false } as never))).toMatch(/Unknown option `include_top`.*includeTop/);
  });

  it('obtainInputShape follows Keras for the free cases', () => {
    const rules = { defaultSize: 224, minSize: 32, weights: null };
    expect(obtainInputShape(undefined, { ...rules, requireFlatten: false })).toEqual([null, null, 3]);
    expect(obtainInputShape(undefined, { ...rules, requireFlatten: true })).toEqual([224, 224, 3]);
    // Keras keeps a user's channel count when the weights are not ImageNet's.
    expect(obtainInputShape([64, null, 5], { ...rules, requireFlatten: false })).toEqual([64, null, 5]);
    expect(obtainInputShape([null, null, 3], { ...rules, weights: 'imagenet', requireFlatten: false })).toEqual([null, null, 3]);
  });
});

describe('valid calls', () => {
  it("uses a caller's inputTensor and keeps its predecessors in the model", async () => {
    const raw = tfl.input({ shape: [64, 64, 3], name: 'raw' });
    const scaled = tfl.layers.rescaling({ scale: 1, name: 'scale' }).apply(raw) as tfl.SymbolicTensor;
    const model = await resnet50({ weights: null, includeTop: false, inputTensor: scaled, name: 'custom', pooling: 'avg' });
    expect(model.name).toBe('custom');
    expect(model.inputs).toEqual([raw]);
    expect(model.layers.map((l) => l.name).slice(0, 3)).toEqual(['raw', 'scale', 'conv1_pad']);
    const out = model.predict(tf.zeros([1, 64, 64, 3])) as tf.Tensor;
    expect(out.shape).toEqual([1, 2048]);
    tf.dispose(out);
    model.dispose();
  });

  it('builds a top with other classes and activation without pretrained weights', async () => {
    const model = await resnet50({ weights: null, classes: 7, classifierActivation: 'sigmoid', inputShape: [64, 64, 3] });
    expect(model.outputs[0]!.shape).toEqual([null, 7]);
    model.dispose();
  });
});

describe('registry', () => {
  it('lists every builder with its Keras metadata and official files', () => {
    expect(Object.keys(applications)).toEqual(expect.arrayContaining([
      'VGG16', 'VGG19', 'ResNet50', 'ResNet101', 'ResNet152', 'ResNet50V2', 'ResNet101V2', 'ResNet152V2',
      'Xception', 'InceptionV3', 'InceptionResNetV2', 'DenseNet121', 'DenseNet169', 'DenseNet201', 'NASNetMobile', 'NASNetLarge',
      'MobileNet', 'MobileNetV2', 'MobileNetV3Small', 'MobileNetV3Large', 'MusicTaggerCRNN',
      'EfficientNetB0', 'EfficientNetB7', 'EfficientNetV2B0', 'EfficientNetV2L', 'ConvNeXtTiny', 'ConvNeXtXLarge',
      'RegNetX002', 'RegNetY320', 'ResNetRS50', 'ResNetRS420', 'ResNeXt50', 'ResNeXt101',
    ]));
    for (const entry of Object.values(applications)) {
      expect(entry.weights.top ?? entry.weights.notop, entry.kerasName).not.toBeNull();
      expect(entry.metadata.parameters, entry.kerasName).toBeGreaterThan(0);
    }
    expect(applications.NASNetLarge.defaultSize).toBe(331);
    expect(applications.NASNetMobile.weights.top!.fileName).toBe('nasnet_mobile.h5');
    expect(applications.ResNet50.weights.notop).toEqual({
      fileName: 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5',
      url: 'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5',
      hash: '4d473c1dd8becc155b73f8504c6f6626',
    });
    expect(applications.VGG16.metadata.parameters).toBe(138_357_544);
    expect(applications.ResNet50V2.preprocessing).toBe('tf');
    expect(() => getApplication('ResNet51')).toThrow(/Unknown application 'ResNet51'.*ResNet50/);
  });

  it('preprocessInput takes a model name or a mode', () => {
    const pixel = Float32Array.from([255, 0, 127.5]);
    expect(Array.from(preprocessInput(pixel, 'ResNet50V2') )).toEqual([1, -1, 0]);
    // Keras works in float32: BGR order, then the float32 mean is added negated.
    const f = Math.fround;
    expect(Array.from(preprocessInput(pixel, 'caffe') )).toEqual(
      [f(127.5 - f(103.939)), f(0 - f(116.779)), f(255 - f(123.68))],
    );
    expect(() => preprocessInput(pixel, 'ResNet51')).toThrow(ArgumentError);
    // The modes are named as well as the models, so a typo in either shows what is allowed.
    expect(() => preprocessInput(pixel, 'bogus')).toThrow(
      /^`preprocessInput` takes a mode \('caffe', 'tf', 'torch', 'none'\) or a model name \(VGG16, VGG19, ResNet50, .*, MusicTaggerCRNN\)\. Received: 'bogus'$/,
    );
  });
});
