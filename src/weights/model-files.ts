// tfjs's own model format (`model.json` + `weights.bin`) on the file system, for Node.js without
// @tensorflow/tfjs-node (whose `file://` handler this stands in for, with the same two files).
// Registering a `file://` route instead would clash with tfjs-node's when that is installed.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { isNode } from '../env';
import { ArgumentError, KerasApplicationsError, WeightsFileError } from '../errors';
import { readRegularFile } from '../files';
import { asWriteError, replaceFiles } from './replace-file';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/**
 * An IOHandler that saves to and loads from the folder `dir` (created when saving): `model.save(modelFiles(dir))`,
 * `tfl.loadLayersModel(modelFiles(dir))`. The files are those tfjs-node's `file://dir` writes.
 */
export function modelFiles(dir: string): tf.io.IOHandler {
  if (typeof dir !== 'string' || dir === '') {
    throw new ArgumentError(`Invalid dir: ${JSON.stringify(dir) ?? String(dir)}. Expected the path of a folder.`);
  }
  if (!isNode()) throw new KerasApplicationsError('Model files on disk need Node.js; in a browser use tf.io.browserFiles or indexeddb://.');
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const fs = await import('node:fs/promises');
      const { join } = await import('node:path');
      const { modelTopology, weightData, weightSpecs = [], ...rest } = artifacts;
      if (modelTopology === undefined || modelTopology instanceof ArrayBuffer) {
        throw new KerasApplicationsError('modelFiles saves layers models (a JSON topology), not weights alone or binary graphs.');
      }
      const json: tf.io.ModelJSON = {
        modelTopology,
        format: rest.format,
        generatedBy: rest.generatedBy,
        convertedBy: rest.convertedBy,
        trainingConfig: rest.trainingConfig,
        signature: rest.signature,
        userDefinedMetadata: rest.userDefinedMetadata,
        modelInitializer: rest.modelInitializer,
        initializerSignature: rest.initializerSignature,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: weightSpecs }],
      };
      const weights = new Uint8Array(weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(weightData));
      await makeFolder(dir);
      // Both files are complete before either replaces a previous one: a failure leaves the previous model.
      await replaceFiles([join(dir, WEIGHTS_BIN), join(dir, MODEL_JSON)], async ([weightsPartial, jsonPartial]) => {
        await fs.writeFile(weightsPartial!, weights);
        await fs.writeFile(jsonPartial!, JSON.stringify(json));
      });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const { join } = await import('node:path');
      const jsonPath = join(dir, MODEL_JSON);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(new TextDecoder().decode(await readModelFile(jsonPath))) as tf.io.ModelJSON;
      } catch (error) {
        if (error instanceof SyntaxError) throw new WeightsFileError(`Cannot load ${jsonPath}: it is not JSON (${error.message}).`);
        throw error;
      }
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const buffers = await Promise.all(
          // readRegularFile gives an array of its own: its buffer is exactly the file.
          manifest.flatMap((group) => group.paths).map(async (path) => (await readModelFile(join(dir, path))).buffer as ArrayBuffer),
        );
        return [tf.io.getWeightSpecs(manifest), tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/**
 * `mkdir -p dir`, failing with a FileWriteError. Not Node's recursive mkdir: that reports every failure as
 * ENOENT, a read-only file system too.
 */
async function makeFolder(dir: string, makeParents = true): Promise<void> {
  const [fs, { dirname }] = await Promise.all([import('node:fs/promises'), import('node:path')]);
  try {
    await fs.mkdir(dir);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || !makeParents || dirname(dir) === dir) throw asWriteError(error, dir);
    await makeFolder(dirname(dir));
    await makeFolder(dir, false);
  }
}

/** One of the model's files, or a WeightsFileError naming it. */
function readModelFile(path: string): Promise<Uint8Array> {
  return readRegularFile(path, { maxBytes: null, fail: (why) => new WeightsFileError(`Cannot load ${path}: ${why}.`) });
}

/**
 * Saves `model` in tfjs's format to the folder `dir` (`model.json`, `weights.bin`). Node.js only.
 * @throws FileWriteError when the files cannot be written; the previous files in `dir`, if any, are then left as they were.
 */
export async function saveModel(model: tfl.LayersModel, dir: string): Promise<tf.io.SaveResult> {
  return model.save(modelFiles(dir));
}

/**
 * Loads a model `saveModel` (or tfjs-node's `file://`) wrote. The package's custom layers are registered with
 * tfjs when the package is imported, so models built with them load back as they were.
 */
export async function loadModel(dir: string): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(modelFiles(dir));
}
