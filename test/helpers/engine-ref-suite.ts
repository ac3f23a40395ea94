// Runs Keras reference fixture configs through an inference engine (a Predictor) instead of model.predict:
// every engine must give Keras's outputs within the same tolerance as the layers themselves.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { getApplication } from '../../src/applications/registry';
import type { Predictor } from '../../src/inference/types';
import { builderOptions, fixtureConfig, fixtureInput, generatedWeightsFile, outputError } from './keras-ref';
import type { FixtureConfig } from './keras-ref';
import { recordWorstError } from './keras-ref-suite';

/**
 * One config per family (the smaller no-top config where the top adds nothing new; the top where it has
 * Dropout or a classifier convolution), so an engine meets every kind of layer the builders use.
 * ResNeXt is left out: its fixture's outputs are suspected wrong (see keras-ref-resnext.test.ts).
 */
export const REPRESENTATIVE_CONFIGS: ReadonlyArray<readonly [builder: string, config: string]> = [
  ['VGG16', 'notop_avg_128x160'],
  ['ResNet50', 'top_default'],
  ['ResNet50V2', 'notop_avg_128x160'],
  ['Xception', 'notop_avg_160x192'],
  ['InceptionV3', 'notop_avg_160x192'],
  ['InceptionResNetV2', 'notop_avg_160x192'],
  ['DenseNet121', 'notop_avg_128x160'],
  ['NASNetMobile', 'notop_avg_160x192'],
  ['MobileNet', 'alpha0.5_top_160x160'],
  ['MobileNetV2', 'notop_avg_128x160'],
  ['MobileNetV3Small', 'top_default'],
  ['EfficientNetB0', 'top_default'],
  ['EfficientNetV2B0', 'notop_avg_128x160'],
  ['ConvNeXtTiny', 'notop_avg_128x160'],
  ['RegNetX002', 'notop_avg_128x160'],
  ['RegNetY002', 'notop_avg_128x160'],
  ['ResNetRS50', 'notop_avg_128x160'],
];

/** The builder's model for a fixture config, with the config's generated weights. */
export function buildFixtureModel(builder: string, config: FixtureConfig): Promise<tfl.LayersModel> {
  return getApplication(builder).build({ ...builderOptions(config.kwargs), weights: generatedWeightsFile(config) });
}

/** `compile` turns a built model into the engine's Predictor; `engine` labels the tests and the error report. */
export function describeEngineReference(
  engine: string,
  compile: (model: tfl.LayersModel) => Promise<Predictor> | Predictor,
  configs: ReadonlyArray<readonly [string, string]> = REPRESENTATIVE_CONFIGS,
  tolerance = 1e-4,
): void {
  describe(`${engine} engine equals Keras`, () => {
    for (const [builder, id] of configs) {
      it(`${builder} ${id}`, async () => {
        const config = fixtureConfig(builder, id);
        const model = await buildFixtureModel(builder, config);
        const predictor = await compile(model);
        const input = fixtureInput(config);
        try {
          const output = (await predictor.predict(input)) as tf.Tensor;
          expect(output.shape).toEqual(config.numerics.output.shape);
          const error = outputError(config, await output.data());
          output.dispose();
          recordWorstError({ builder, config: id, error, engine });
          expect(error).toBeLessThanOrEqual(tolerance);
        } finally {
          input.dispose();
          predictor.dispose();
          model.dispose();
        }
      });
    }
  });
}
