/** Base class of every error this package throws on purpose. */
export class KerasApplicationsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A builder argument breaks one of Keras's rules. The message names the argument, the value and what is allowed. */
export class ArgumentError extends KerasApplicationsError {}

/** A weights file cannot be read: not HDF5, truncated, corrupt, or in a layout we do not know. */
export class WeightsFileError extends KerasApplicationsError {}

/** A weights file does not fit the model (layer count, weight count or shape). Nothing was applied. */
export class WeightsMismatchError extends KerasApplicationsError {}

/** A file could not be downloaded or failed its hash check. */
export class DownloadError extends KerasApplicationsError {}

/** A file could not be written (a full disk, a missing or read-only folder). A file already at the path was left as it was. */
export class FileWriteError extends KerasApplicationsError {}

/**
 * An inference engine cannot run or export this model: a layer or setting it has no translation for, more
 * inputs than it takes, or a size beyond its format. The message names the engine, the layer and what it
 * supports. `compileForInference`'s 'auto' moves on to the next engine.
 */
export class UnsupportedModelError extends KerasApplicationsError {}
