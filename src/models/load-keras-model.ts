// loadKerasModel: a whole Keras 3 model (architecture and weights) from a `.keras` archive or a full-model `.h5`,
// as a tfjs LayersModel. The config is rebuilt layer by layer (keras-config.ts); no Python code is ever run.
import type * as tfl from '@tensorflow/tfjs-layers';
import { unzipSync } from 'fflate';
import { checkOptionNames } from '../arguments';
import { WeightsFileError } from '../errors';
import { readRegularFile } from '../files';
import { readWeights } from '../weights/h5';
import { resolveWeightsFile, WEIGHTS_DOWNLOAD_OPTION_NAMES, type WeightsDownloadOptions } from '../weights/source';
import { buildKerasModel } from './keras-config';
import { applyKeras3Weights, applyLegacyWeights } from './keras-model-weights';

/** A Keras model file: a path or http(s)/file: URL (downloaded once into the cache in Node), or its bytes. */
export type KerasModelSource = string | Uint8Array | ArrayBuffer;

export type LoadKerasModelOptions = WeightsDownloadOptions;

const ARCHIVE_CONFIG = 'config.json';
const ARCHIVE_WEIGHTS = 'model.weights.h5';
const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];

/**
 * The model saved in a Keras 3 `.keras` archive (`model.save('m.keras')`) or a full-model `.h5`
 * (`model.save('m.h5')`), with its layer names, `trainable` flags and weights; not compiled.
 * @throws WeightsFileError for a file that is not one of these (a weights-only file, another zip, a truncated one),
 * UnsupportedModelError for a layer class or option tfjs cannot compute as Keras does (Lambda layers always),
 * WeightsMismatchError when the weights do not fit the config.
 */
export async function loadKerasModel(source: KerasModelSource, options: LoadKerasModelOptions = {}): Promise<tfl.LayersModel> {
  checkOptionNames('loadKerasModel', options, WEIGHTS_DOWNLOAD_OPTION_NAMES);
  const where = typeof source === 'string' ? source : 'the given bytes';
  const resolved = await resolveWeightsFile(source, options);
  const bytes =
    typeof resolved === 'string'
      ? await readRegularFile(resolved, { maxBytes: null, fail: (why) => new WeightsFileError(`Cannot read Keras model file ${resolved}: ${why}`) })
      : new Uint8Array(resolved);
  return ZIP_SIGNATURE.every((byte, i) => bytes[i] === byte) ? fromKerasArchive(bytes, where) : fromFullModelH5(bytes, where);
}

function fromKerasArchive(bytes: Uint8Array, where: string): tfl.LayersModel {
  const names: string[] = [];
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes, {
      filter: ({ name }) => {
        names.push(name);
        return name === ARCHIVE_CONFIG || name === ARCHIVE_WEIGHTS;
      },
    });
  } catch (error) {
    throw new WeightsFileError(
      `Cannot read ${where}: it starts as a zip archive but cannot be unpacked (${(error as Error).message}); is it truncated?`,
    );
  }
  const config = members[ARCHIVE_CONFIG];
  const weights = members[ARCHIVE_WEIGHTS];
  if (!config || !weights) {
    throw new WeightsFileError(
      `${where} is a zip archive but not a Keras model archive: a .keras file holds ${ARCHIVE_CONFIG}, metadata.json and ` +
        `${ARCHIVE_WEIGHTS}; this one holds ${names.length ? names.join(', ') : 'nothing'}.`,
    );
  }
  const model = buildKerasModel(parseConfig(new TextDecoder().decode(config), `${where}/${ARCHIVE_CONFIG}`), where);
  applyKeras3Weights(model, readWeights(weights, `${where}/${ARCHIVE_WEIGHTS}`), where);
  return model.layer;
}

function fromFullModelH5(bytes: Uint8Array, where: string): tfl.LayersModel {
  const file = readWeights(bytes, where);
  const config = file.attributes.model_config;
  if (file.format !== 'full-model' || config === undefined) {
    throw new WeightsFileError(
      `${where} holds weights only, no architecture (${file.format === 'keras3' ? 'a Keras 3 .weights.h5 from save_weights' : 'a weights file'}). ` +
        'Build the model in code (one of the builders, or your own tfjs layers) and call loadWeights(model, file); ' +
        "or save the whole model in Keras with model.save('model.keras') and load that.",
    );
  }
  const model = buildKerasModel(parseConfig(config, `the model_config attribute of ${where}`), where);
  applyLegacyWeights(model, file, where);
  return model.layer;
}

function parseConfig(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new WeightsFileError(`Cannot read ${what}: it is not JSON (${(error as Error).message}).`);
  }
}
