import type * as tf from '@tensorflow/tfjs-core';

/** Which execution path a `Predictor` runs on. */
export type InferenceEngine = 'onnxruntime' | 'tfjs-fused' | 'tfjs';

/**
 * A model prepared for prediction only. It keeps its own copies or views of the weights it needs, so it stays
 * valid while the `LayersModel` it came from lives; `dispose()` frees only what the predictor itself allocated.
 */
export interface Predictor {
  readonly engine: InferenceEngine;
  /** Same inputs and outputs as `model.predict(x)`: one tensor for single-output models, else one per output. */
  predict(x: tf.Tensor): Promise<tf.Tensor | tf.Tensor[]>;
  dispose(): void;
}
