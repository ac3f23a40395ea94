// A tfjs model → the config.json Keras 3 writes for the same model (`serialize_keras_object`): Functional and
// Sequential models, nested ones, each layer as the Keras class it stands for, with Keras's option names and
// defaults, `build_config` where Keras records one and `inbound_nodes` with `__keras_tensor__` arguments.
// A layer class or setting with no Keras equivalent is refused, naming the layer; nothing is written for it.
import * as tfl from '@tensorflow/tfjs-layers';
import { formatValue } from '../arguments';
import { UnsupportedModelError } from '../errors';
import { HARD_SWISH } from '../layers/hard-swish';
import { ScalarOperation } from '../layers/scalar-operation';
import { kerasOrigin } from './keras-origin';
import { InferenceIdentity } from './keras-layers';
import { KerasOperation, OPERATION_MODULE } from './keras-operations';

type Json = Record<string, unknown>;
type Shape = (number | null)[];
/** One call of a layer (tfjs does not export its Node class). */
type LayerNode = tfl.layers.Layer['inboundNodes'][number];

/** Keras's global float32 policy, shared by every layer: `id()` of a Python object, any number Keras reads back. */
const POLICY_ID = 140000000000001;
const CHANNELS_LAST = { data_format: 'channels_last' };

/** Serialization state: Keras writes the shared policy's id on every occurrence but the first. */
interface Context {
  policyWritten: boolean;
}

function dtypePolicy(context: Context): Json {
  const policy: Json = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
  if (context.policyWritten) policy.shared_object_id = POLICY_ID;
  context.policyWritten = true;
  return policy;
}

/** tfjs activation names → Keras 3's (what `keras.activations.serialize` writes). */
const ACTIVATIONS: Record<string, string> = {
  linear: 'linear', relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', tanh: 'tanh', softmax: 'softmax', swish: 'silu',
  elu: 'elu', selu: 'selu', softplus: 'softplus', softsign: 'softsign', gelu: 'gelu', [HARD_SWISH]: 'hard_silu',
};

const VARIANCE_MODES: Record<string, string> = { fanIn: 'fan_in', fanOut: 'fan_out', fanAvg: 'fan_avg' };
const DISTRIBUTIONS: Record<string, string> = { normal: 'truncated_normal', truncatedNormal: 'truncated_normal', uniform: 'uniform', untruncatedNormal: 'untruncated_normal' };
/** tfjs initialisers that are Keras's VarianceScaling presets, by tfjs class → Keras class. */
const VARIANCE_PRESETS: Record<string, string> = {
  GlorotUniform: 'GlorotUniform', GlorotNormal: 'GlorotNormal', HeNormal: 'HeNormal', HeUniform: 'HeUniform',
  LeCunNormal: 'LecunNormal', LeCunUniform: 'LecunUniform',
};

interface TfjsInitializer {
  constructor: { className?: string };
  getClassName(): string;
  scale?: number;
  mode?: string;
  distribution?: string;
  seed?: number;
  value?: number;
  minval?: number;
  maxval?: number;
  mean?: number;
  stddev?: number;
}

/** A tfjs initialiser as Keras's `keras.initializers` config. */
function initializer(init: TfjsInitializer | undefined, describe: string): Json {
  // tfjs's Glorot/He/LeCun classes report VarianceScaling as their class name; their constructor tells them apart.
  const className = init?.constructor.className ?? init?.getClassName() ?? 'Zeros';
  const keras = (class_name: string, config: Json): Json => ({ module: 'keras.initializers', class_name, config, registered_name: null });
  const axes = { input_axes: null, output_axes: null };
  if (className === 'Zeros' || className === 'Ones') return keras(className, {});
  if (className === 'Constant') return keras('Constant', { value: init!.value });
  if (className === 'RandomUniform') return keras(className, { seed: init!.seed ?? null, minval: init!.minval, maxval: init!.maxval });
  if (className === 'RandomNormal' || className === 'TruncatedNormal') return keras(className, { seed: init!.seed ?? null, mean: init!.mean, stddev: init!.stddev });
  if (className in VARIANCE_PRESETS) return keras(VARIANCE_PRESETS[className]!, { seed: init!.seed ?? null, ...axes });
  if (className === 'VarianceScaling') {
    return keras('VarianceScaling', {
      seed: init!.seed ?? null,
      scale: init!.scale,
      mode: VARIANCE_MODES[init!.mode!],
      distribution: DISTRIBUTIONS[init!.distribution!],
      ...axes,
    });
  }
  throw new UnsupportedModelError(`${describe}: its initializer ${formatValue(className)} has no Keras 3 equivalent saveKerasModel writes.`);
}

/**
 * An initializer as the loaded file gives it: Keras 3's form as is; tf.keras's `{class_name, config}` as Keras 3
 * writes it once it has read it (its module, and the axes options Keras 3 gives the variance-scaling ones).
 */
function originInitializer(value: unknown): unknown {
  const entry = value as { module?: unknown; class_name?: unknown; config?: Json } | null;
  if (typeof entry?.class_name !== 'string' || entry.module !== undefined) return value;
  const variance = entry.class_name === 'VarianceScaling' || Object.values(VARIANCE_PRESETS).includes(entry.class_name);
  const config = { ...entry.config, ...(variance ? { input_axes: null, output_axes: null } : {}) };
  return { module: 'keras.initializers', class_name: entry.class_name, config, registered_name: null };
}

function activation(name: unknown, describe: string): string {
  const keras = typeof name === 'string' ? ACTIVATIONS[name] : undefined;
  if (keras === undefined) throw new UnsupportedModelError(`${describe}: activation ${formatValue(name)} has no Keras 3 equivalent.`);
  return keras;
}

/** What a layer has in tfjs: its getConfig (camelCase) and its fields. */
type Layer = tfl.layers.Layer & Record<string, unknown>;

interface LayerSpec {
  module?: string;
  registeredName?: string;
  /** Keras records `build_config` for the layers whose class defines `build`. */
  build: boolean;
  /** Keras records `mask: null` in the calls of the layers whose `call` takes a mask. */
  mask?: boolean;
  config(layer: Layer, tfjs: Json, describe: string): Json;
}

/** Options only `null` is written for: regularizers, constraints, quantization (tfjs models have none). */
const nulls = (...names: string[]): Json => Object.fromEntries(names.map((name) => [name, null]));

function convOptions(tfjs: Json): Json {
  return {
    kernel_size: tfjs.kernelSize,
    strides: tfjs.strides,
    padding: tfjs.padding,
    ...CHANNELS_LAST,
    dilation_rate: tfjs.dilationRate,
  };
}

const LAYERS: Record<string, LayerSpec> = {
  Dense: {
    build: true,
    config: (layer, tfjs, describe) => ({
      units: tfjs.units,
      activation: activation(tfjs.activation, describe),
      use_bias: tfjs.useBias,
      kernel_initializer: initializer(layer.kernelInitializer as TfjsInitializer, describe),
      bias_initializer: initializer(layer.biasInitializer as TfjsInitializer, describe),
      ...nulls('kernel_regularizer', 'bias_regularizer', 'kernel_constraint', 'bias_constraint', 'quantization_config'),
    }),
  },
  Conv2D: {
    build: true,
    config: (layer, tfjs, describe) => ({
      filters: tfjs.filters,
      ...convOptions(tfjs),
      groups: (layer.groups as number | undefined) ?? 1,
      activation: activation(tfjs.activation, describe),
      use_bias: tfjs.useBias,
      kernel_initializer: initializer(layer.kernelInitializer as TfjsInitializer, describe),
      bias_initializer: initializer(layer.biasInitializer as TfjsInitializer, describe),
      ...nulls('kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint'),
    }),
  },
  DepthwiseConv2D: {
    build: true,
    config: (layer, tfjs, describe) => ({
      depth_multiplier: tfjs.depthMultiplier,
      ...convOptions(tfjs),
      activation: activation(tfjs.activation, describe),
      use_bias: tfjs.useBias,
      depthwise_initializer: initializer(layer.depthwiseInitializer as TfjsInitializer, describe),
      bias_initializer: initializer(layer.biasInitializer as TfjsInitializer, describe),
      ...nulls('depthwise_regularizer', 'bias_regularizer', 'activity_regularizer', 'depthwise_constraint', 'bias_constraint'),
    }),
  },
  SeparableConv2D: {
    build: true,
    config: (layer, tfjs, describe) => ({
      // tfjs's getConfig leaves it out for this class.
      depth_multiplier: layer.depthMultiplier,
      filters: tfjs.filters,
      ...convOptions(tfjs),
      activation: activation(tfjs.activation, describe),
      use_bias: tfjs.useBias,
      depthwise_initializer: initializer(layer.depthwiseInitializer as TfjsInitializer, describe),
      pointwise_initializer: initializer(layer.pointwiseInitializer as TfjsInitializer, describe),
      bias_initializer: initializer(layer.biasInitializer as TfjsInitializer, describe),
      ...nulls(
        'depthwise_regularizer', 'pointwise_regularizer', 'bias_regularizer', 'activity_regularizer',
        'depthwise_constraint', 'pointwise_constraint', 'bias_constraint',
      ),
    }),
  },
  BatchNormalization: {
    build: true,
    mask: true,
    config: (layer, tfjs, describe) => ({
      axis: tfjs.axis,
      momentum: tfjs.momentum,
      epsilon: tfjs.epsilon,
      center: tfjs.center,
      scale: tfjs.scale,
      beta_initializer: initializer(layer.betaInitializer as TfjsInitializer, describe),
      gamma_initializer: initializer(layer.gammaInitializer as TfjsInitializer, describe),
      moving_mean_initializer: initializer(layer.movingMeanInitializer as TfjsInitializer, describe),
      moving_variance_initializer: initializer(layer.movingVarianceInitializer as TfjsInitializer, describe),
      ...nulls('beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint'),
      synchronized: false,
      renorm: false,
      renorm_clipping: null,
      renorm_momentum: 0.99,
    }),
  },
  LayerNormalization: {
    build: true,
    config: (layer, tfjs, describe) => ({
      axis: layerNormalizationAxes(layer, tfjs.axis),
      epsilon: tfjs.epsilon,
      center: tfjs.center,
      scale: tfjs.scale,
      rms_scaling: false,
      beta_initializer: initializer(layer.betaInitializer as TfjsInitializer, describe),
      gamma_initializer: initializer(layer.gammaInitializer as TfjsInitializer, describe),
      ...nulls('beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint'),
    }),
  },
  ReLU: { build: false, config: (_, tfjs) => ({ max_value: tfjs.maxValue ?? null, negative_slope: 0, threshold: 0 }) },
  Activation: { build: false, config: (_, tfjs, describe) => ({ activation: activation(tfjs.activation, describe) }) },
  Add: { build: true, config: () => ({}) },
  Multiply: { build: true, config: () => ({}) },
  Average: { build: true, config: () => ({}) },
  Maximum: { build: true, config: () => ({}) },
  Minimum: { build: true, config: () => ({}) },
  Concatenate: { build: true, config: (_, tfjs) => ({ axis: tfjs.axis }) },
  ZeroPadding2D: { build: true, config: (_, tfjs) => ({ padding: tfjs.padding, ...CHANNELS_LAST }) },
  Cropping2D: { build: true, config: (_, tfjs) => ({ cropping: tfjs.cropping, ...CHANNELS_LAST }) },
  MaxPooling2D: { build: false, config: (_, tfjs) => ({ pool_size: tfjs.poolSize, padding: tfjs.padding, strides: tfjs.strides, ...CHANNELS_LAST }) },
  AveragePooling2D: { build: false, config: (_, tfjs) => ({ pool_size: tfjs.poolSize, padding: tfjs.padding, strides: tfjs.strides, ...CHANNELS_LAST }) },
  GlobalAveragePooling2D: { build: false, config: (layer) => ({ ...CHANNELS_LAST, keepdims: layer.keepdims ?? false }) },
  GlobalMaxPooling2D: { build: false, config: () => ({ ...CHANNELS_LAST, keepdims: false }) },
  Flatten: { build: true, config: () => ({ ...CHANNELS_LAST }) },
  Reshape: { build: false, config: (_, tfjs) => ({ target_shape: tfjs.targetShape }) },
  Dropout: { build: false, config: (_, tfjs) => ({ rate: tfjs.rate, seed: tfjs.seed ?? null, noise_shape: tfjs.noiseShape ?? null }) },
  Rescaling: { build: true, config: (_, tfjs) => ({ scale: tfjs.scale, offset: tfjs.offset }) },
  Normalization: {
    build: true,
    config: (layer) => ({
      axis: [layer.axis],
      invert: false,
      mean: (layer.mean as number[] | undefined) ?? null,
      variance: (layer.variance as number[] | undefined) ?? null,
    }),
  },
  LayerScale: {
    module: 'keras.src.applications.convnext',
    registeredName: 'LayerScale',
    build: true,
    config: (layer) => ({ init_values: layer.initValues, projection_dim: layer.projectionDim }),
  },
  CustomScaleLayer: {
    module: 'keras.src.applications.inception_resnet_v2',
    registeredName: 'CustomScaleLayer',
    build: true,
    config: (layer) => ({ scale: layer.scale }),
  },
};

/** Keras 3.16 keeps LayerNormalization's axes as a list of non-negative axes once built. */
function layerNormalizationAxes(layer: Layer, axis: unknown): number[] {
  const rank = firstInputShapes(layer)[0]!.length;
  return (Array.isArray(axis) ? axis : [axis]).map((a: number) => (a < 0 ? a + rank : a));
}

/** The random augmentation layers load as InferenceIdentity; Keras's options come back from the loaded file. */
const AUGMENTATION: LayerSpec = { build: true, config: () => ({}) };
const AUGMENTATION_CLASSES = ['RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation', 'RandomContrast', 'RandomBrightness'];

const CLASS_NAMES = [...Object.keys(LAYERS), 'InputLayer', 'Functional', 'Sequential', `${AUGMENTATION_CLASSES.join(', ')} loaded by loadKerasModel`];

/** The Keras config (`config.json`) of `model`. */
export function kerasModelConfig(model: tfl.LayersModel): Json {
  const context: Context = { policyWritten: false };
  const entry = modelEntry(model, context);
  return { ...entry, build_config: buildConfigOfModel(model) };
}

export function isSequential(model: tfl.LayersModel): boolean {
  return model.getClassName() === 'Sequential';
}

export function isModel(layer: tfl.layers.Layer): layer is tfl.LayersModel {
  return Array.isArray((layer as Partial<tfl.LayersModel>).layers);
}

function buildConfigOfModel(model: tfl.LayersModel): Json {
  return { input_shape: isSequential(model) ? batchShape(model.inputs[0]!.shape) : null };
}

function modelEntry(model: tfl.LayersModel, context: Context): Json {
  if (isSequential(model)) {
    const inner = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
    const layers = [inputLayerEntry(model.inputs[0]!.sourceLayer as tfl.layers.Layer), ...inner.map((layer) => layerEntry(layer, context))];
    const config = { name: model.name, trainable: model.trainable, dtype: dtypePolicy(context), layers, build_input_shape: batchShape(model.inputs[0]!.shape) };
    return { module: 'keras', class_name: 'Sequential', config, registered_name: null };
  }
  const nodes = nodeIndices(model);
  const layers = model.layers.map((layer) => {
    const operation = kerasOperationOf(layer);
    if (operation) return operationEntry(layer, operation, nodes);
    return {
      ...(layer.getClassName() === 'InputLayer' ? inputLayerEntry(layer) : layerEntry(layer, context)),
      name: layer.name,
      inbound_nodes: layer.getClassName() === 'InputLayer' ? [] : inboundNodes(layer, nodes),
    };
  });
  const origin = kerasOrigin(model)?.config;
  const endpoints = (tensors: tfl.SymbolicTensor[], key: string): unknown => {
    const triples = tensors.map((tensor) => [tensor.sourceLayer.name, nodes.get(nodeKey(tensor.sourceLayer, tensor.nodeIndex))!, tensor.tensorIndex]);
    // One endpoint is a bare triple, as Keras writes a model built on one tensor; a loaded model keeps its form.
    const listed = origin ? Array.isArray((origin[key] as unknown[] | undefined)?.[0]) : triples.length > 1;
    return listed ? triples : triples[0];
  };
  const config = {
    name: model.name,
    trainable: model.trainable,
    layers,
    input_layers: endpoints(model.inputs, 'input_layers'),
    output_layers: endpoints(model.outputs, 'output_layers'),
  };
  return { module: 'keras.src.models.functional', class_name: 'Functional', config, registered_name: 'Functional' };
}

/**
 * A Keras operation node as Keras wrote it: its `keras.src.ops.*` module and class, and its positional
 * arguments, null where a tensor goes (in input order). MobileNetV3's `x + 3.0` (a ScalarOperation, built here)
 * and the nodes loadKerasModel read (KerasOperation) are both; any other layer is not.
 */
interface OperationNode {
  module: string;
  className: string;
  operands: (number | null)[];
}

function kerasOperationOf(layer: tfl.layers.Layer): OperationNode | undefined {
  if (layer instanceof ScalarOperation) {
    return { module: `${OPERATION_MODULE}numpy`, className: layer.operation === 'add' ? 'Add' : 'Multiply', operands: [null, layer.value] };
  }
  if (layer instanceof KerasOperation) {
    const dot = layer.operation.indexOf('.');
    return { module: OPERATION_MODULE + layer.operation.slice(0, dot), className: layer.operation.slice(dot + 1), operands: layer.operands };
  }
  return undefined;
}

/**
 * An operation is not a layer: no dtype policy, no build_config, no weights; its one call's arguments are the
 * tensors and the constants each in its own place (`[2.0, tensor]` for `2.0 - p`).
 */
function operationEntry(layer: tfl.layers.Layer, operation: OperationNode, nodes: Map<string, number>): Json {
  const { module, className, operands } = operation;
  const inbound = ownNodes(layer, nodes).map((node) => {
    const tensors = tensorRecords(node, nodes);
    return { args: operands.map((operand) => (operand === null ? tensors.shift() : operand)), kwargs: {} };
  });
  return { module, class_name: className, config: { name: layer.name }, registered_name: className, name: layer.name, inbound_nodes: inbound };
}

/** Keras operations are not layers: Keras's model.layers, and so model.weights.h5, leave them out. */
export function isKerasOperation(layer: tfl.layers.Layer): boolean {
  return kerasOperationOf(layer) !== undefined;
}

function inputLayerEntry(layer: tfl.layers.Layer): Json {
  const shape = batchShape((layer as unknown as { batchInputShape: Shape }).batchInputShape);
  return {
    module: 'keras.layers',
    class_name: 'InputLayer',
    config: { batch_shape: shape, dtype: 'float32', sparse: false, ragged: false, name: layer.name, optional: false },
    registered_name: null,
  };
}

function layerEntry(layer: tfl.layers.Layer, context: Context): Json {
  if (isModel(layer)) {
    const entry = modelEntry(layer, context);
    return { ...entry, build_config: buildConfigOfModel(layer) };
  }
  const { spec, kerasClass } = specOf(layer);
  const describe = `Layer '${layer.name}' (${kerasClass})`;
  const tfjs = layer.getConfig() as Json;
  const own = spec.config(layer as Layer, tfjs, describe);
  const config: Json = { name: layer.name, trainable: layer.trainable, dtype: dtypePolicy(context), ...own };
  // What tfjs has no place for comes from the file the layer was loaded from: a random augmentation layer's
  // options, and the initialisers (the loader leaves them out: they do not change a loaded layer's outputs).
  const origin = kerasOrigin(layer)?.config;
  if (origin) {
    for (const [key, value] of Object.entries(origin)) {
      if (key.endsWith('_initializer')) config[key] = originInitializer(value);
      else if (layer instanceof InferenceIdentity && !(key in config)) config[key] = value;
    }
  }
  const entry: Json = { module: spec.module ?? 'keras.layers', class_name: kerasClass, config, registered_name: spec.registeredName ?? null };
  if (spec.build) {
    const shapes = firstInputShapes(layer);
    entry.build_config = { input_shape: shapes.length === 1 ? shapes[0] : shapes };
  }
  return entry;
}

/** The Keras class a layer or model is saved as (which names its group in model.weights.h5). */
export function kerasClassOf(layer: tfl.layers.Layer): string {
  if (isModel(layer)) return isSequential(layer) ? 'Sequential' : 'Functional';
  return layer.getClassName() === 'InputLayer' ? 'InputLayer' : specOf(layer).kerasClass;
}

function specOf(layer: tfl.layers.Layer): { spec: LayerSpec; kerasClass: string } {
  const className = layer.getClassName();
  const kerasClass = layer instanceof InferenceIdentity ? layer.kerasClassName : className;
  if (layer instanceof InferenceIdentity && AUGMENTATION_CLASSES.includes(kerasClass) && kerasOrigin(layer)) {
    return { spec: AUGMENTATION, kerasClass };
  }
  const spec = layer instanceof InferenceIdentity ? undefined : LAYERS[className];
  if (!spec) {
    throw new UnsupportedModelError(
      `Layer '${layer.name}' (${kerasClass}): saveKerasModel has no Keras 3 class for it. Supported: ${CLASS_NAMES.join(', ')}.`,
    );
  }
  return { spec, kerasClass };
}

/** Shapes of the tensors of the layer's first call (what Keras builds it with), None as null. */
function firstInputShapes(layer: tfl.layers.Layer): Shape[] {
  const node = layer.inboundNodes[0];
  if (!node) throw new UnsupportedModelError(`Layer '${layer.name}' was never called on a tensor; it has no input shape to save.`);
  return node.inputTensors.map((tensor) => batchShape(tensor.shape));
}

function batchShape(shape: readonly (number | null)[]): Shape {
  return shape.map((dim) => dim ?? null);
}

/** tfjs's `Container.nodeKey`: how a model lists the calls that belong to it. */
function nodeKey(layer: tfl.layers.Layer, index: number): string {
  return `${layer.name}_ib-${index}`;
}

/** Each of the model's nodes → its index among the layer's nodes in this model (Keras renumbers them so). */
function nodeIndices(model: tfl.LayersModel): Map<string, number> {
  const own = (model as unknown as { containerNodes: Set<string> }).containerNodes;
  const indices = new Map<string, number>();
  for (const layer of model.layers) {
    let next = 0;
    layer.inboundNodes.forEach((_, i) => {
      if (own.has(nodeKey(layer, i))) indices.set(nodeKey(layer, i), next++);
    });
  }
  return indices;
}

/** The layer's calls that belong to the model, in node order. */
function ownNodes(layer: tfl.layers.Layer, nodes: Map<string, number>): LayerNode[] {
  return layer.inboundNodes.filter((_, i) => nodes.has(nodeKey(layer, i)));
}

/** A call's input tensors as Keras's `__keras_tensor__` records. */
function tensorRecords(node: LayerNode, nodes: Map<string, number>): Json[] {
  return node.inputTensors.map((tensor, i) => ({
    class_name: '__keras_tensor__',
    config: {
      shape: batchShape(tensor.shape),
      dtype: 'float32',
      keras_history: [node.inboundLayers[i]!.name, nodes.get(nodeKey(node.inboundLayers[i]!, node.nodeIndices[i]!))!, node.tensorIndices[i]],
    },
  }));
}

function inboundNodes(layer: tfl.layers.Layer, nodes: Map<string, number>): Json[] {
  const origin = kerasOrigin(layer);
  const takesMask = isModel(layer) || (specOf(layer).spec.mask ?? false);
  return ownNodes(layer, nodes).map((node, call) => {
    const tensors = tensorRecords(node, nodes);
    const kwargs: Json = {};
    const training = origin?.callKwargs[call]?.training ?? (node.callArgs as Json | undefined)?.training;
    if (typeof training === 'boolean') kwargs.training = training;
    if (takesMask) kwargs.mask = null;
    return { args: [tensors.length === 1 ? tensors[0] : tensors], kwargs };
  });
}
