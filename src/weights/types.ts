/** One weight as Keras stores it: Keras's name, Keras's shape, float32 values in row-major order. */
export interface WeightTensor {
  name: string;
  shape: number[];
  data: Float32Array;
  /**
   * Set on weights read by `readWeightsFileDeferred`, whose `data` is read from disk on each use: writes
   * the weight's float32 bytes from the file into `target`, so a backend can fill its own memory directly.
   */
  readInto?: (target: Uint8Array) => void;
}

/** One layer's weights in Keras's legacy order (trainable, then non-trainable). */
export interface LayerWeights {
  name: string;
  weights: WeightTensor[];
}

/**
 * The in-memory form of a weights file, independent of its on-disk layout.
 *
 * - `legacy` (Keras 2 weights files, the official keras.applications files) and `full-model`
 *   (`model.save('x.h5')`): `layers` follows the file's `layer_names` order, layers without weights
 *   included; weight names are the file's `weight_names` (e.g. `conv1/kernel:0`).
 * - `keras3` (`.weights.h5`): one entry per group under `layers/` that holds variables, named by its
 *   path below `layers/` (`conv2d_3`, `sequential/layers/dense_1`); weights are `vars/0`, `vars/1`, …
 *   in numeric order. Keras 3 names these groups after the layer's class, not the layer's name.
 */
export interface WeightsFile {
  format: 'legacy' | 'full-model' | 'keras3';
  /** Root attributes such as `keras_version` and `backend`, NUL padding removed. */
  attributes: Record<string, string>;
  layers: LayerWeights[];
}

/** One official weight file. `hash` is md5 or sha256 (by length); null where Keras publishes none. */
export interface WeightsFileRef {
  /** The name it is cached under in `~/.keras/models` (the same name Python Keras uses). */
  fileName: string;
  url: string;
  hash: string | null;
  /** Its size in MB as Keras's documentation lists it, where known (the default configurations' files with the top). */
  sizeMB?: number;
}

/** The official files of one builder configuration: with and without the classifier top. */
export interface OfficialWeights {
  top: WeightsFileRef | null;
  notop: WeightsFileRef | null;
}
