// Builds a model's variables straight from a weights file: each weighted layer gets initialisers that
// hand over the file's values, so no memory is spent on zeros or random numbers that would be
// overwritten at once (on wasm that halves the memory touched while loading VGG16's 553 MB).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { WeightTensor, WeightsFile } from './types';

/** tfjs layer arguments that take an initialiser, by the Keras name of the weight they create. */
const INITIALIZER_ARGS: Record<string, string> = {
  kernel: 'kernelInitializer',
  bias: 'biasInitializer',
  depthwise_kernel: 'depthwiseInitializer',
  pointwise_kernel: 'pointwiseInitializer',
  gamma: 'gammaInitializer',
  beta: 'betaInitializer',
  moving_mean: 'movingMeanInitializer',
  moving_variance: 'movingVarianceInitializer',
};

/** Initialiser arguments to spread into a tfjs layer's config. */
export type LayerInitializers = Record<string, Initializer | string>;

type Initializer = ReturnType<typeof tfl.initializers.zeros>;

/**
 * tfjs-layers accepts only instances of its Initializer class, which it does not export by name;
 * it is the parent class of every built-in initialiser.
 */
const InitializerBase = Object.getPrototypeOf(tfl.initializers.zeros().constructor) as new () => Initializer;

/** `kernel` from `conv1/kernel:0`, `kernel:0` or `kernel`. */
function shortWeightName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1).replace(/:\d+$/, '');
}

/** An initialiser that returns one weight of the file; a wrong shape is recorded and gets zeros. */
class FileValue extends InitializerBase {
  constructor(
    private readonly weight: WeightTensor,
    private readonly onMismatch: () => void,
  ) {
    super();
  }

  /** A saved model records its initialisers; this one is written as Zeros, which tfjs can read back. */
  getClassName(): string {
    return 'Zeros';
  }

  apply(shape: number[]): tf.Tensor {
    const { data, shape: saved } = this.weight;
    if (saved.length !== shape.length || saved.some((dim, i) => dim !== shape[i])) {
      this.onMismatch();
      return tf.zeros(shape);
    }
    return tf.tensor(data, shape, 'float32');
  }
}

/**
 * Hands a legacy weights file's values to the layers being built, matched by layer name. Keras's rule is
 * by order, so after the build `matchesModel` says whether by-name and by-order agree; when they do not,
 * the caller loads the file by order the ordinary way (which then applies Keras's rule or explains why not).
 */
export class PreloadedWeights {
  private readonly byLayer: Map<string, Map<string, WeightTensor>>;
  private mismatch = false;

  constructor(private readonly file: WeightsFile) {
    this.byLayer = new Map(
      file.format === 'keras3'
        ? []
        : file.layers.map((layer) => [layer.name, new Map(layer.weights.map((w) => [shortWeightName(w.name), w]))]),
    );
  }

  /** Initialiser arguments for layer `name`: the file's values where it has them, else zeros (cheap). */
  initializers(name: string): LayerInitializers {
    const saved = this.byLayer.get(name);
    const result: LayerInitializers = {};
    for (const [weight, arg] of Object.entries(INITIALIZER_ARGS)) {
      const value = saved?.get(weight);
      result[arg] = value ? new FileValue(value, () => (this.mismatch = true)) : 'zeros';
    }
    return result;
  }

  /** True when every weighted layer got exactly the file's weights, in Keras's by-order pairing too. */
  matchesModel(model: tfl.LayersModel): boolean {
    if (this.mismatch) return false;
    const fileLayers = this.file.layers.filter((layer) => layer.weights.length > 0);
    const modelLayers = model.layers.filter((layer) => layer.weights.length > 0);
    return (
      fileLayers.length === modelLayers.length &&
      modelLayers.every((layer, i) => {
        const saved = fileLayers[i]!;
        return (
          saved.name === layer.name &&
          saved.weights.length === layer.weights.length &&
          layer.weights.every((w, j) => shortWeightName(w.originalName) === shortWeightName(saved.weights[j]!.name))
        );
      })
    );
  }
}
