// Builds a model's variables straight from a weights file: each weighted layer gets initialisers that
// hand over the file's values, so no memory is spent on zeros or random numbers that would be
// overwritten at once (on wasm that halves the memory touched while loading VGG16's 553 MB).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
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

/**
 * Initialiser arguments to spread into a tfjs layer's config. Layers of this package (src/layers) whose
 * weights tfjs has no argument for find the file's values by Keras weight name in `weightInitializers`.
 */
export interface LayerInitializers {
  [arg: string]: Initializer | string | WeightInitializers | undefined;
  weightInitializers?: WeightInitializers;
}

/** The file's value of each weight of one layer, by Keras's short weight name (`mean`, `variable_3`). */
export type WeightInitializers = Record<string, Initializer>;

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

/**
 * The layer inside a nested model (a Sequential within the model) that owns a weight: `stem_conv` from
 * `stem_conv/kernel` or `stem/stem_conv/kernel:0` listed under the file layer `stem`; undefined for the
 * layer's own weights.
 */
function innerOwner(layerName: string, weightName: string): string | undefined {
  const path = weightName.replace(/:\d+$/, '').split('/').slice(0, -1);
  const owner = path.at(-1);
  return owner === undefined || owner === layerName ? undefined : owner;
}

/** An initialiser that returns one weight of the file; a wrong shape is recorded and gets zeros. */
class FileValue extends InitializerBase {
  constructor(
    private readonly weight: WeightTensor,
    private readonly onMismatch: () => void,
    private readonly onUse: (weight: WeightTensor) => void,
  ) {
    super();
  }

  /** A saved model records its initialisers; this one is written as Zeros, which tfjs can read back. */
  getClassName(): string {
    return 'Zeros';
  }

  apply(shape: number[]): tf.Tensor {
    const { shape: saved, readInto } = this.weight;
    if (saved.length !== shape.length || saved.some((dim, i) => dim !== shape[i])) {
      this.onMismatch();
      return tf.zeros(shape);
    }
    this.onUse(this.weight);
    if (readInto && tf.getBackend() === 'wasm') return wasmTensorFromFile(shape, readInto);
    return tf.tensor(this.weight.data, shape, 'float32');
  }
}

/**
 * A float32 tensor whose wasm-heap memory is filled straight from the file: tf.tensor would first need the
 * values in JS memory, a second copy of the weight.
 */
function wasmTensorFromFile(shape: number[], readInto: (target: Uint8Array) => void): tf.Tensor {
  const backend = tf.backend() as BackendWasm;
  const info = backend.makeOutput(shape, 'float32');
  const heap = backend.typedArrayFromHeap(info);
  try {
    readInto(new Uint8Array(heap.buffer, heap.byteOffset, heap.byteLength));
  } catch (error) {
    backend.disposeData(info.dataId);
    throw error;
  }
  return tf.engine().makeTensorFromTensorInfo(info, backend);
}

/**
 * Hands a legacy weights file's values to the layers being built, matched by layer name. Keras's rule is
 * by order, so after the build `matchesModel` says whether by-name and by-order agree; when they do not,
 * the caller loads the file by order the ordinary way (which then applies Keras's rule or explains why not).
 * Weights of a nested model's layers are offered to those inner layers by name as well.
 */
export class PreloadedWeights {
  private readonly byLayer = new Map<string, Map<string, WeightTensor>>();
  private readonly used = new Set<WeightTensor>();
  private mismatch = false;

  constructor(private readonly file: WeightsFile) {
    if (file.format === 'keras3') return;
    const fileLayerNames = new Set(file.layers.map((layer) => layer.name));
    for (const layer of file.layers) {
      for (const weight of layer.weights) {
        this.offer(layer.name, weight);
        // Only under a name no file layer has, so old files whose variable scopes differ from their layer names
        // still match by layer name.
        const inner = innerOwner(layer.name, weight.name);
        if (inner !== undefined && !fileLayerNames.has(inner)) this.offer(inner, weight);
      }
    }
  }

  private offer(layerName: string, weight: WeightTensor): void {
    if (!this.byLayer.has(layerName)) this.byLayer.set(layerName, new Map());
    this.byLayer.get(layerName)!.set(shortWeightName(weight.name), weight);
  }

  /** Initialiser arguments for layer `name`: the file's values where it has them, else zeros (cheap). */
  initializers(name: string): LayerInitializers {
    const saved = this.byLayer.get(name);
    const fileValue = (value: WeightTensor) =>
      new FileValue(value, () => (this.mismatch = true), (used) => this.used.add(used));
    const result: LayerInitializers = {};
    for (const [weight, arg] of Object.entries(INITIALIZER_ARGS)) {
      const value = saved?.get(weight);
      result[arg] = value ? fileValue(value) : 'zeros';
    }
    // Keras 3 names DepthwiseConv2D's kernel `kernel`, Keras 2 `depthwise_kernel`; tfjs's layer takes either
    // through its depthwise initialiser (an ordinary Conv2D ignores that argument).
    const kernel = saved?.get('kernel');
    if (kernel && !saved!.has('depthwise_kernel')) result.depthwiseInitializer = fileValue(kernel);
    if (saved) result.weightInitializers = Object.fromEntries([...saved].map(([weight, value]) => [weight, fileValue(value)]));
    return result;
  }

  /**
   * True when every weighted layer got exactly the file's weights, in Keras's by-order pairing too, and every
   * weight of the file was handed to a layer (none left at zeros).
   */
  matchesModel(model: tfl.LayersModel): boolean {
    if (this.mismatch) return false;
    const fileLayers = this.file.layers.filter((layer) => layer.weights.length > 0);
    const modelLayers = model.layers.filter((layer) => layer.weights.length > 0);
    const fileWeights = fileLayers.reduce((count, layer) => count + layer.weights.length, 0);
    return (
      this.used.size === fileWeights &&
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
