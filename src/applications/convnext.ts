// ConvNeXt Tiny/Small/Base/Large/XLarge (keras/src/applications/convnext.py): a patchify stem, four stages
// of 7×7 depthwise / LayerNorm / MLP blocks with LayerScale and residual adds, downsampling between stages.
// Every layer name starts with the model's name; the ImageNet normalisation is part of the model.
import * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError } from '../errors';
import { GroupedConv2D } from '../layers/grouped-conv2d';
import { LayerScale } from '../layers/layer-scale';
import { Normalization } from '../layers/normalization';
import { builderSpec, imageApplications } from './application-entry';
import { apply, buildApplication, kerasAutoNames, resolveOptions, type BuilderSpec, type BuildContext } from './common';
import { validateBoolean } from '../arguments';
import { type ApplicationOptions } from './types';

export interface ConvNeXtOptions extends ApplicationOptions {
  /** Put the ImageNet normalisation (a Normalization layer) in front of the model; inputs are then pixels in [0, 255]. Default `true`. */
  includePreprocessing?: boolean;
}

interface Variant {
  /** Blocks per stage. */
  depths: [number, number, number, number];
  /** Channels per stage. */
  dims: [number, number, number, number];
}

const DEEP = [3, 3, 27, 3] as Variant['depths'];
const VARIANTS = {
  ConvNeXtTiny: { depths: [3, 3, 9, 3], dims: [96, 192, 384, 768] },
  ConvNeXtSmall: { depths: DEEP, dims: [96, 192, 384, 768] },
  ConvNeXtBase: { depths: DEEP, dims: [128, 256, 512, 1024] },
  ConvNeXtLarge: { depths: DEEP, dims: [192, 384, 768, 1536] },
  ConvNeXtXLarge: { depths: DEEP, dims: [256, 512, 1024, 2048] },
} satisfies Record<string, Variant>;

type VariantName = keyof typeof VARIANTS;

const LAYER_NORM_EPSILON = 1e-6;
const LAYER_SCALE_INIT = 1e-6;
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** Layer factories that take their initial values from the weights file being loaded, if any. */
function layerKit(context: BuildContext) {
  return {
    /** A convolution over non-overlapping k×k patches (stride k): the stem and the downsampling. */
    patchify: (filters: number, kernelSize: number, name: string, inputShape?: (number | null)[]) =>
      tfl.layers.conv2d({ filters, kernelSize, strides: kernelSize, inputShape, name, ...context.init(name) }),
    layerNorm: (name: string, inputShape?: (number | null)[]) =>
      tfl.layers.layerNormalization({ epsilon: LAYER_NORM_EPSILON, inputShape, name, ...context.init(name) }),
    dense: (units: number, name: string, activation?: string | null) =>
      tfl.layers.dense({ units, activation: (activation ?? 'linear') as never, name, ...context.init(name) }),
  };
}

type Kit = ReturnType<typeof layerKit>;

/**
 * A stem or downsampling block: Keras builds it as a Sequential, which is one layer (with its layers'
 * weights) in the model. tfjs's Sequential needs its first layer to know the input shape.
 */
function sequentialBlock(x: tfl.SymbolicTensor, name: string, layers: (inputShape: (number | null)[]) => tfl.layers.Layer[]): tfl.SymbolicTensor {
  return apply(tfl.sequential({ layers: layers(x.shape.slice(1)), name }), x);
}

/** A ConvNeXt block: x + LayerScale(MLP(LayerNorm(depthwise 7×7 conv(x)))). */
function convNeXtBlock(k: Kit, context: BuildContext, autoName: (base: string) => string, x: tfl.SymbolicTensor, dim: number, name: string): tfl.SymbolicTensor {
  const inputs = x;
  const depthwise = `${name}_depthwise_conv`;
  x = apply(new GroupedConv2D({ filters: dim, kernelSize: 7, padding: 'same', groups: dim, name: depthwise, ...context.init(depthwise) }), x);
  x = apply(k.layerNorm(`${name}_layernorm`), x);
  x = apply(k.dense(4 * dim, `${name}_pointwise_conv_1`), x);
  x = apply(tfl.layers.activation({ activation: 'gelu', name: `${name}_gelu` }), x);
  x = apply(k.dense(dim, `${name}_pointwise_conv_2`), x);
  const layerScale = `${name}_layer_scale`;
  x = apply(new LayerScale({ initValues: LAYER_SCALE_INIT, projectionDim: dim, weight: { name: autoName('variable') }, name: layerScale, ...context.init(layerScale) }), x);
  // Keras's drop path is 0 in every builder, so its place holds an identity Activation.
  x = apply(tfl.layers.activation({ activation: 'linear', name: `${name}_identity` }), x);
  // `inputs + x` in Keras: an operation, not a layer; tfjs needs a layer, named as Keras names the operation.
  return apply(tfl.layers.add({ name: autoName('add') }), [inputs, x]);
}

function convNeXtBody(variant: Variant, includePreprocessing: boolean) {
  return (input: tfl.SymbolicTensor, context: BuildContext): tfl.SymbolicTensor => {
    const k = layerKit(context);
    const autoName = kerasAutoNames();
    const name = context.name;
    let x = input;
    if (includePreprocessing && context.inputShape[2] === 3) {
      const normalization = new Normalization({
        mean: IMAGENET_MEAN.map((m) => m * 255),
        variance: IMAGENET_STD.map((s) => (s * 255) ** 2),
        name: `${name}_prestem_normalization`,
      });
      x = apply(normalization, x);
    }
    x = sequentialBlock(x, `${name}_stem`, (inputShape) => [
      k.patchify(variant.dims[0], 4, `${name}_stem_conv`, inputShape),
      k.layerNorm(`${name}_stem_layernorm`),
    ]);
    variant.depths.forEach((depth, stage) => {
      if (stage > 0) {
        const i = stage - 1;
        x = sequentialBlock(x, `${name}_downsampling_block_${i}`, (inputShape) => [
          k.layerNorm(`${name}_downsampling_layernorm_${i}`, inputShape),
          k.patchify(variant.dims[stage]!, 2, `${name}_downsampling_conv_${i}`),
        ]);
      }
      for (let j = 0; j < depth; j++) x = convNeXtBlock(k, context, autoName, x, variant.dims[stage]!, `${name}_stage_${stage}_block_${j}`);
    });

    if (context.includeTop) {
      x = apply(tfl.layers.globalAveragePooling2d({ name: `${name}_head_gap` }), x);
      x = apply(k.layerNorm(`${name}_head_layernorm`), x);
      return apply(k.dense(context.classes, `${name}_head_dense`, context.classifierActivation), x);
    }
    if (context.pooling === 'avg') x = apply(tfl.layers.globalAveragePooling2d({ name: autoName('global_average_pooling2d') }), x);
    if (context.pooling === 'max') x = apply(tfl.layers.globalMaxPooling2d({ name: autoName('global_max_pooling2d') }), x);
    // Keras normalises the features without the top whatever the pooling.
    return apply(k.layerNorm(autoName('layer_normalization')), x);
  };
}

function convNeXtSpec(kerasName: VariantName): BuilderSpec {
  // convnext_tiny, …, convnext_xlarge: Keras's default model name and weights variant.
  const defaultName = `convnext_${kerasName.slice('ConvNeXt'.length).toLowerCase()}`;
  return builderSpec(convNeXtApplications[kerasName], { defaultName, extraOptions: ['includePreprocessing'] });
}

async function convNeXt(kerasName: VariantName, options: ConvNeXtOptions = {}): Promise<tfl.LayersModel> {
  const spec = convNeXtSpec(kerasName);
  const resolved = resolveOptions(spec, options);
  const includePreprocessing = validateBoolean('includePreprocessing', options.includePreprocessing === undefined ? true : options.includePreprocessing);
  // Keras's rule: with the official weights the model's name must contain the weights variant. (Keras also
  // derives the file's name from `name`; here the official file always follows the builder.)
  if (resolved.weights === 'imagenet' && !resolved.name.includes(spec.defaultName)) {
    throw new ArgumentError(
      `Model name "${resolved.name}" does not match weights variant "${spec.defaultName}". When using imagenet weights, ` +
        `model name must contain the weights variant (e.g., "${spec.defaultName}"). Received: name='${resolved.name}'`,
    );
  }
  return buildApplication(spec, options, convNeXtBody(VARIANTS[kerasName], includePreprocessing));
}

/**
 * ConvNeXtTiny (Liu et al., CVPR 2022), as `keras.applications.ConvNeXtTiny`. Default input 224×224×3,
 * pixels in [0, 255]: the ImageNet normalisation is part of the model (`preprocessInput` mode `none`).
 */
export function convNeXtTiny(options?: ConvNeXtOptions): Promise<tfl.LayersModel> {
  return convNeXt('ConvNeXtTiny', options);
}

/** ConvNeXtSmall, as `keras.applications.ConvNeXtSmall`. Default input 224×224×3, pixels in [0, 255]. */
export function convNeXtSmall(options?: ConvNeXtOptions): Promise<tfl.LayersModel> {
  return convNeXt('ConvNeXtSmall', options);
}

/** ConvNeXtBase (ImageNet-21k pre-trained, 1k fine-tuned), as `keras.applications.ConvNeXtBase`. Pixels in [0, 255]. */
export function convNeXtBase(options?: ConvNeXtOptions): Promise<tfl.LayersModel> {
  return convNeXt('ConvNeXtBase', options);
}

/** ConvNeXtLarge (ImageNet-21k pre-trained, 1k fine-tuned), as `keras.applications.ConvNeXtLarge`. Pixels in [0, 255]. */
export function convNeXtLarge(options?: ConvNeXtOptions): Promise<tfl.LayersModel> {
  return convNeXt('ConvNeXtLarge', options);
}

/** ConvNeXtXLarge (ImageNet-21k pre-trained, 1k fine-tuned), as `keras.applications.ConvNeXtXLarge`. Pixels in [0, 255]. */
export function convNeXtXLarge(options?: ConvNeXtOptions): Promise<tfl.LayersModel> {
  return convNeXt('ConvNeXtXLarge', options);
}

const CONVNEXT_PAPER = 'A ConvNet for the 2020s (Liu et al., CVPR 2022)';

/** The registry's ConvNeXt entries (figures from keras.io/api/applications). */
export const convNeXtApplications = imageApplications({
  ConvNeXtTiny: { module: 'convnext', build: convNeXtTiny, preprocessing: 'none', metadata: { sizeMB: 109.42, top1: 0.813, parameters: 28_589_128, reference: CONVNEXT_PAPER } },
  ConvNeXtSmall: { module: 'convnext', build: convNeXtSmall, preprocessing: 'none', metadata: { sizeMB: 192.29, top1: 0.823, parameters: 50_223_688, reference: CONVNEXT_PAPER } },
  ConvNeXtBase: { module: 'convnext', build: convNeXtBase, preprocessing: 'none', metadata: { sizeMB: 338.58, top1: 0.853, parameters: 88_591_464, reference: CONVNEXT_PAPER } },
  ConvNeXtLarge: { module: 'convnext', build: convNeXtLarge, preprocessing: 'none', metadata: { sizeMB: 755.07, top1: 0.863, parameters: 197_767_336, reference: CONVNEXT_PAPER } },
  ConvNeXtXLarge: { module: 'convnext', build: convNeXtXLarge, preprocessing: 'none', metadata: { sizeMB: 1310, top1: 0.867, parameters: 350_196_968, reference: CONVNEXT_PAPER } },
});
