import { appendFileSync, mkdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { getApplication } from '../src/applications/registry';
import { ensureBackend } from '../src/backend';
import { ArgumentError } from '../src/errors';
import { exportOnnx, OnnxExportError } from '../src/inference/onnx-export';
import { onnxPredictor } from '../src/inference/onnx-runtime';
import { loadWeights } from '../src/weights/apply';
import type { WeightsFile } from '../src/weights/types';
import { builderOptions, fixtureInput, generatedWeightsFile, loadFixture, outputError, relativeError } from './helpers/keras-ref';
import { generatedInput } from './helpers/generator';
import { topLeftTapOnly } from './helpers/resnext-fixture';
import { buildTiny, H5_DIR, tinyReference } from './helpers/tiny';

// The 'onnxruntime' engine: our models exported to ONNX and run by ONNX Runtime must give Keras's numbers
// (test/fixtures/keras-ref) for one builder of every family, covering every layer type the builders use.

const ortError = await import('onnxruntime-node').then(
  () => undefined,
  (error: Error) => error.message,
);
if (ortError && process.env.CI) throw new Error(`onnxruntime-node does not load: ${ortError}`);
if (ortError) console.warn(`inference-onnx.test.ts skipped: onnxruntime-node does not load (${ortError})`);

/** One builder per family; together they use every layer type and activation the builders use. */
const FAMILY_BUILDERS = [
  'VGG16', 'ResNet50', 'ResNet50V2', 'Xception', 'InceptionV3', 'InceptionResNetV2', 'DenseNet121', 'NASNetMobile',
  'MobileNet', 'MobileNetV2', 'MobileNetV3Small', 'MobileNetV3Large', 'EfficientNetB0', 'EfficientNetV2B0', 'ConvNeXtTiny',
  'RegNetX002', 'RegNetY002', 'ResNetRS50', 'ResNeXt50',
];

/** The ResNeXt fixtures saw only the top-left tap of some kernels (test/keras-ref-resnext.test.ts). */
const fixtureWeights = (builder: string, weights: WeightsFile) => (builder.startsWith('ResNeXt') ? topLeftTapOnly(weights) : weights);

const TOLERANCE = 1e-4;
const REPORT = '.tmp/keras-ref-errors.jsonl';

beforeAll(ensureBackend);

describe.skipIf(ortError)('onnxruntime engine equals Keras', () => {
  for (const builder of FAMILY_BUILDERS) {
    describe(builder, () => {
      for (const config of loadFixture(builder).configs) {
        it(`${config.id}: ${config.call}`, async () => {
          const weights = fixtureWeights(builder, generatedWeightsFile(config));
          const model = await getApplication(builder).build({ ...builderOptions(config.kwargs), weights });
          // One thread: the test workers already share the machine's cores.
          const predictor = await onnxPredictor(model, { intraOpNumThreads: 1 });
          model.dispose();
          const input = fixtureInput(config);
          const output = (await predictor.predict(input)) as tf.Tensor;
          try {
            expect(output.shape).toEqual(config.numerics.output.shape);
            const error = outputError(config, await output.data());
            mkdirSync('.tmp', { recursive: true });
            appendFileSync(REPORT, `${JSON.stringify({ builder, config: config.id, error, backend: 'onnxruntime' })}\n`);
            expect(error).toBeLessThanOrEqual(TOLERANCE);
          } finally {
            tf.dispose([input, output]);
            predictor.dispose();
          }
        });
      }
    });
  }

  it('runs a batch of two through a nested Sequential with weights Keras wrote (tiny_legacy.h5)', async () => {
    const model = buildTiny();
    await loadWeights(model, `${H5_DIR}tiny_legacy.h5`);
    const predictor = await onnxPredictor(model, { intraOpNumThreads: 1 });
    const input = tf.tensor(generatedInput(tinyReference.input.shape), tinyReference.input.shape);
    const output = (await predictor.predict(input)) as tf.Tensor;
    const rows = (await output.array()) as number[][];
    tinyReference.output.values.forEach((row, i) => expect(relativeError(rows[i]!, row)).toBeLessThan(TOLERANCE));
    tf.dispose([input, output]);
    predictor.dispose();
    model.dispose();
  });
});

describe('ONNX export refuses what it cannot translate', () => {
  it('names a layer type it has no translation for, and the predictor fails the same way (so a caller can fall back)', async () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const output = tfl.layers.upSampling2d({ size: [2, 2], name: 'upsample' }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    expect(() => exportOnnx(model)).toThrow(OnnxExportError);
    expect(() => exportOnnx(model)).toThrow(/layer 'upsample' of type UpSampling2D has no ONNX translation/);
    await expect(onnxPredictor(model)).rejects.toThrow(OnnxExportError);
    model.dispose();
  });

  it('names the layer and the setting for a configuration it does not translate', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const output = tfl.layers.batchNormalization({ axis: 1, name: 'bn_rows' }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    expect(() => exportOnnx(model)).toThrow(/layer 'bn_rows' of type BatchNormalization: axis 1 \(only the last axis is translated\)/);
    model.dispose();
  });
});

describe('onnxPredictor arguments', () => {
  const model = () => {
    const input = tfl.input({ shape: [4] });
    return tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(input) as tfl.SymbolicTensor });
  };

  it.each([0, 1.5, '2'])('rejects intraOpNumThreads=%j', async (threads) => {
    await expect(onnxPredictor(model(), { intraOpNumThreads: threads as number })).rejects.toThrow(
      new ArgumentError(`\`intraOpNumThreads\` must be an integer >= 1. Received: intraOpNumThreads=${typeof threads === 'string' ? `'${threads}'` : threads}`),
    );
  });

  it.each([[[]], ['cpu'], [[1]]])('rejects executionProviders=%j', async (providers) => {
    await expect(onnxPredictor(model(), { executionProviders: providers as unknown as string[] })).rejects.toThrow(/`executionProviders` must be a non-empty list/);
  });

  it('rejects an unknown option', async () => {
    await expect(onnxPredictor(model(), { intra_op_num_threads: 2 } as never)).rejects.toThrow(ArgumentError);
    await expect(onnxPredictor(model(), { intra_op_num_threads: 2 } as never)).rejects.toThrow(/Unknown option `intra_op_num_threads` for onnxPredictor/);
  });
});
