// One vitest suite per builder: every config of its fixture must match Keras (README's equality rule).
import { appendFileSync, mkdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { getApplication } from '../../src/applications/registry';
import { runsFixtureConfig } from './quick';
import { builderOptions, checkpointErrors, fixtureInput, generatedWeightsFile, kerasLayerTable, layerTable, loadFixture, outputError } from './keras-ref';

/** Worst errors are appended here so a closing note can quote them. */
const REPORT = '.tmp/keras-ref-errors.jsonl';

/** Appends one config's worst error to .tmp/keras-ref-errors.jsonl, for the closing notes. */
export function recordWorstError(entry: Record<string, unknown>): void {
  mkdirSync('.tmp', { recursive: true });
  appendFileSync(REPORT, `${JSON.stringify({ ...entry, backend: tf.getBackend() })}\n`);
}

/** `build` defaults to the registry's builder for `builder`. */
export function describeKerasReference(
  builder: string,
  build: (options: Record<string, unknown>) => Promise<tfl.LayersModel> = (options) => getApplication(builder).build(options),
  tolerance = 1e-4,
): void {
  const fixture = loadFixture(builder);
  describe(builder, () => {
    for (const config of fixture.configs) {
      (runsFixtureConfig(builder, config.id) ? it : it.skip)(`${config.id}: ${config.call}`, async () => {
        const options = { ...builderOptions(config.kwargs), weights: generatedWeightsFile(config) };
        const model = await build(options);
        try {
          expect(layerTable(model, config)).toEqual(kerasLayerTable(config));
          expect(model.countParams()).toBe(config.structure.total_params);
          const input = fixtureInput(config);
          const output = model.predict(input) as tf.Tensor;
          expect(output.shape).toEqual(config.numerics.output.shape);
          const error = outputError(config, await output.data());
          output.dispose();
          recordWorstError({ builder, config: config.id, error });
          if (!(error <= tolerance)) {
            const where = await checkpointErrors(model, config, input);
            expect.fail(`${builder} ${config.id}: relative error ${error} > ${tolerance}; checkpoints:\n${where.join('\n')}`);
          }
          input.dispose();
        } finally {
          model.dispose();
        }
      });
    }
  });
}
