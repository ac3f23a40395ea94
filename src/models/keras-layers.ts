// One Keras 3 layer config → one tfjs layer, for the layer classes and options tfjs computes as Keras does.
// Every option of a config is accounted for: passed on to tfjs, accepted only with the value tfjs implements,
// or known not to change what a loaded model computes. Anything else is refused, naming the layer, its class
// and the option, so a model never loads with a setting silently dropped.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { formatValue } from '../arguments';
import { UnsupportedModelError } from '../errors';
import { CustomScaleLayer } from '../layers/custom-scale-layer';
import { GlobalAveragePooling2D } from '../layers/global-average-pooling2d';
import { GroupedConv2D } from '../layers/grouped-conv2d';
import { HARD_SWISH } from '../layers/hard-swish';
import { LayerScale } from '../layers/layer-scale';
import { Normalization } from '../layers/normalization';
import { recordKerasOrigin } from './keras-origin';
import { OPERATION_MODULE } from './keras-operations';

/** A layer entry of a Keras config: `config.layers[]` of a model, or a whole model. */
export interface KerasLayerConfig {
  class_name: string;
  module?: string;
  registered_name?: string | null;
  config: Record<string, unknown>;
  name?: string;
  inbound_nodes?: unknown[];
}

/**
 * Keras's random augmentation layers and ConvNeXt's StochasticDepth are the identity outside training, which is
 * how a loaded model runs them (in tfjs's `fit` too: they do not augment or drop). The Keras class is kept in the config.
 */
export class InferenceIdentity extends tfl.layers.Layer {
  static className = 'InferenceIdentity';
  readonly kerasClassName: string;

  constructor(args: { name: string; kerasClassName: string }) {
    super({ name: args.name });
    this.kerasClassName = args.kerasClassName;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return Array.isArray(inputs) ? inputs[0]! : inputs;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), kerasClassName: this.kerasClassName };
  }
}
tf.serialization.registerClass(InferenceIdentity);

/** Keras activation names and tfjs's name for the same function (Keras's `hard_sigmoid` differs from tfjs's). */
const ACTIVATIONS: Record<string, string> = {
  linear: 'linear', relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', tanh: 'tanh', softmax: 'softmax',
  swish: 'swish', silu: 'swish', elu: 'elu', selu: 'selu', softplus: 'softplus', softsign: 'softsign',
  gelu: 'gelu', hard_swish: HARD_SWISH, hard_silu: HARD_SWISH,
};

type TfjsArgs = Record<string, unknown>;

interface LayerRecipe {
  /** Keras options given to tfjs under their camelCase name (null values left out: tfjs's default). */
  passed?: readonly string[];
  /** Keras options accepted with this value only: what tfjs computes. */
  fixed?: Readonly<Record<string, unknown>>;
  /** Keras options that do not change what the loaded layer computes. */
  ignored?: readonly string[];
  build(args: TfjsArgs): tfl.layers.Layer;
}

const CHANNELS_LAST = { data_format: 'channels_last' } as const;
const CONV_OPTIONS = ['kernel_size', 'strides', 'padding', 'dilation_rate', 'activation', 'use_bias'] as const;
const POOLING: Omit<LayerRecipe, 'build'> = { passed: ['pool_size', 'strides', 'padding'], fixed: CHANNELS_LAST };
/** What a random augmentation layer may be configured with; none of it matters at inference. */
const AUGMENTATION_OPTIONS = [
  'mode', 'factor', 'fill_mode', 'fill_value', 'interpolation', 'height_factor', 'width_factor', 'value_range', 'data_format',
];

const identityAtInference = (kerasClassName: string, ignored = AUGMENTATION_OPTIONS): LayerRecipe => ({
  ignored,
  build: (args) => new InferenceIdentity({ name: args.name as string, kerasClassName }),
});

const RECIPES: Record<string, LayerRecipe> = {
  Dense: { passed: ['units', 'activation', 'use_bias'], fixed: { quantization_config: null }, build: (a) => tfl.layers.dense(a as never) },
  Conv2D: {
    passed: ['filters', 'groups', ...CONV_OPTIONS],
    fixed: CHANNELS_LAST,
    build: ({ groups, ...a }) => ((groups ?? 1) === 1 ? tfl.layers.conv2d(a as never) : new GroupedConv2D({ ...a, groups } as never)),
  },
  DepthwiseConv2D: { passed: ['depth_multiplier', ...CONV_OPTIONS], fixed: CHANNELS_LAST, build: (a) => tfl.layers.depthwiseConv2d(a as never) },
  SeparableConv2D: {
    passed: ['filters', 'depth_multiplier', ...CONV_OPTIONS],
    fixed: CHANNELS_LAST,
    build: (a) => tfl.layers.separableConv2d(a as never),
  },
  BatchNormalization: {
    passed: ['axis', 'momentum', 'epsilon', 'center', 'scale'],
    fixed: { synchronized: false, renorm: false },
    ignored: ['renorm_clipping', 'renorm_momentum'], // used only with renorm
    build: ({ axis, ...a }) => tfl.layers.batchNormalization({ ...a, axis: singleAxis(axis) } as never),
  },
  LayerNormalization: {
    passed: ['axis', 'epsilon', 'center', 'scale'],
    fixed: { rms_scaling: false },
    build: (a) => tfl.layers.layerNormalization(a as never),
  },
  ReLU: { passed: ['max_value'], fixed: { negative_slope: 0, threshold: 0 }, build: (a) => tfl.layers.reLU(a as never) },
  Activation: { passed: ['activation'], build: (a) => tfl.layers.activation(a as never) },
  Add: { build: (a) => tfl.layers.add(a) },
  Multiply: { build: (a) => tfl.layers.multiply(a) },
  Average: { build: (a) => tfl.layers.average(a) },
  Maximum: { build: (a) => tfl.layers.maximum(a) },
  Minimum: { build: (a) => tfl.layers.minimum(a) },
  Concatenate: { passed: ['axis'], build: (a) => tfl.layers.concatenate(a) },
  ZeroPadding2D: { passed: ['padding'], fixed: CHANNELS_LAST, build: (a) => tfl.layers.zeroPadding2d(a as never) },
  Cropping2D: { passed: ['cropping'], fixed: CHANNELS_LAST, build: (a) => tfl.layers.cropping2D(a as never) },
  MaxPooling2D: { ...POOLING, build: (a) => tfl.layers.maxPooling2d(a as never) },
  AveragePooling2D: { ...POOLING, build: (a) => tfl.layers.averagePooling2d(a as never) },
  GlobalAveragePooling2D: { passed: ['keepdims'], fixed: CHANNELS_LAST, build: (a) => new GlobalAveragePooling2D(a as never) },
  GlobalMaxPooling2D: { fixed: { ...CHANNELS_LAST, keepdims: false }, build: (a) => tfl.layers.globalMaxPooling2d(a as never) },
  Flatten: { fixed: CHANNELS_LAST, build: (a) => tfl.layers.flatten(a as never) },
  Reshape: { passed: ['target_shape'], build: (a) => tfl.layers.reshape(a as never) },
  // tfjs's noiseShape takes null for "the input's size", as Keras's (None, 1, 1, 1) in EfficientNet's blocks.
  Dropout: { passed: ['rate', 'noise_shape'], build: (a) => tfl.layers.dropout(a as never) },
  Rescaling: { passed: ['scale', 'offset'], build: (a) => tfl.layers.rescaling(a as never) },
  RandomFlip: identityAtInference('RandomFlip'),
  RandomRotation: identityAtInference('RandomRotation'),
  RandomZoom: identityAtInference('RandomZoom'),
  RandomTranslation: identityAtInference('RandomTranslation'),
  RandomContrast: identityAtInference('RandomContrast'),
  RandomBrightness: identityAtInference('RandomBrightness'),
  // The custom layers of keras.applications (ConvNeXt, EfficientNet, InceptionResNetV2), as the builders use them.
  StochasticDepth: identityAtInference('StochasticDepth', ['drop_path_rate']),
  Normalization: {
    passed: ['axis', 'mean', 'variance'],
    fixed: { invert: false },
    build: ({ axis, mean, variance, ...a }) =>
      new Normalization({
        ...a,
        // Keras keeps a tuple of axes and the statistics in their broadcast shape; one axis loads.
        axis: singleAxis(axis),
        mean: Array.isArray(mean) ? (mean.flat(Infinity) as number[]) : (mean as undefined),
        variance: Array.isArray(variance) ? (variance.flat(Infinity) as number[]) : (variance as undefined),
      }),
  },
  LayerScale: { passed: ['init_values', 'projection_dim'], build: (a) => new LayerScale(a as never) },
  CustomScaleLayer: { passed: ['scale'], build: (a) => new CustomScaleLayer(a as never) },
};

/** Keras keeps some axes as a tuple (Keras 2 BatchNormalization's `[3]`); tfjs takes one axis as a number. */
function singleAxis(axis: unknown): number {
  return (Array.isArray(axis) && axis.length === 1 ? axis[0] : axis) as number;
}

/**
 * Options every layer has: the ones handled here for all classes. Keras 2 gives the first layer of a
 * Sequential the model's `batch_input_shape`, which the model's input takes.
 */
const COMMON_OPTIONS = ['name', 'trainable', 'dtype', 'seed', 'batch_input_shape'];

const SUPPORTED_LAYER_CLASSES: readonly string[] = Object.keys(RECIPES);

/** Builds the tfjs layer of one config entry (not an InputLayer or a model), named and (un)frozen as in Keras. */
export function buildKerasLayer(entry: KerasLayerConfig, where: string): tfl.layers.Layer {
  const options = entry.config;
  const name = String(options.name ?? entry.name);
  const describe = `Layer '${name}' (${entry.class_name}) in ${where}`;
  if (entry.class_name === 'Lambda') {
    throw new UnsupportedModelError(
      `${describe} is a Lambda layer: its Python code is never loaded or run by loadKerasModel (it could do anything). ` +
        'Replace it with built-in layers in Keras and save the model again.',
    );
  }
  if (entry.module?.startsWith(OPERATION_MODULE)) {
    throw new UnsupportedModelError(`${describe} is a Keras operation (${entry.module}), which can only appear in a functional model's graph.`);
  }
  const recipe = keras3Class(entry) ? RECIPES[entry.class_name] : undefined;
  if (!recipe) {
    throw new UnsupportedModelError(
      `${describe}: loadKerasModel does not support the class ${formatValue(entry.class_name)}` +
        `${entry.module ? ` from module '${entry.module}'` : ''}. Supported classes: ${SUPPORTED_LAYER_CLASSES.join(', ')}, ` +
        'InputLayer, and nested Functional and Sequential models.',
    );
  }
  checkFloat32(options.dtype, describe);
  const args: TfjsArgs = { name };
  for (const [option, value] of Object.entries(options)) {
    if (COMMON_OPTIONS.includes(option) || recipe.ignored?.includes(option) || option.endsWith('_initializer')) continue;
    if (recipe.passed?.includes(option)) {
      if (value !== null) args[camelCase(option)] = option === 'activation' ? tfjsActivation(value, describe) : value;
      continue;
    }
    const fixed = recipe.fixed && option in recipe.fixed ? recipe.fixed[option] : mustBeNull(option) ? null : undefined;
    if (fixed !== undefined && sameValue(value, fixed)) continue;
    throw new UnsupportedModelError(
      `${describe}: option '${option}' = ${formatValue(value)} is not supported. ${entry.class_name} loads with ` +
        `${describeRecipe(recipe)}; regularizers and constraints only as null.`,
    );
  }
  const layer = recipe.build(args);
  layer.trainable = options.trainable !== false;
  recordKerasOrigin(layer, options);
  return layer;
}

/** A class from Keras itself (`keras.layers`, `keras.src.…`; the legacy .h5 leaves the module out), not a custom one. */
function keras3Class(entry: KerasLayerConfig): boolean {
  const fromKeras = entry.module === undefined || entry.module === 'keras' || entry.module.startsWith('keras.');
  return fromKeras && (entry.registered_name == null || entry.registered_name === entry.class_name);
}

/** Regularizers and constraints change training, not outputs; tfjs's are not Keras's, so only their absence loads. */
function mustBeNull(option: string): boolean {
  return option.endsWith('_regularizer') || option.endsWith('_constraint');
}

export function checkFloat32(dtype: unknown, describe: string): void {
  const policy = typeof dtype === 'object' && dtype !== null ? (dtype as { config?: { name?: unknown } }).config?.name : dtype;
  if (policy === undefined || policy === 'float32') return;
  throw new UnsupportedModelError(`${describe}: dtype ${formatValue(policy)} is not supported; only 'float32' loads.`);
}

function tfjsActivation(value: unknown, describe: string): string {
  const name = typeof value === 'string' ? ACTIVATIONS[value] : undefined;
  if (name !== undefined) return name;
  throw new UnsupportedModelError(
    `${describe}: activation ${formatValue(value)} is not supported. Supported: ${Object.keys(ACTIVATIONS).join(', ')}.`,
  );
}

function describeRecipe(recipe: LayerRecipe): string {
  const passed = recipe.passed?.length ? `the options ${recipe.passed.join(', ')}` : 'no options of its own';
  const fixed = Object.entries(recipe.fixed ?? {}).map(([option, value]) => `${option}=${formatValue(value)}`);
  return fixed.length ? `${passed}, and only ${fixed.join(', ')}` : passed;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function camelCase(option: string): string {
  return option.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
