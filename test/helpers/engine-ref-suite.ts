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
import { QUICK, REPRESENTATIVE_CONFIGS } from './quick';

export { REPRESENTATIVE_CONFIGS };

/** In quick mode an engine meets two families: depthwise and squeeze-excite blocks, the engines' usual trouble. */
const QUICK_ENGINE_BUILDERS = ['MobileNetV2', 'EfficientNetB0'];

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
      const runs = !QUICK || QUICK_ENGINE_BUILDERS.includes(builder);
      (runs ? it : it.skip)(`${builder} ${id}`, async () => {
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
