// One ONNX translation per Keras layer type our builders use, in a table keyed by the layer's class name.
// Each computes what the tfjs layer computes (src/layers/ for our own), reading the layer's weights as they are
// (Keras's kernel layouts) and rearranging them for ONNX. Spatial operations run channels-first.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type Attribute, float, int, ints, type OnnxGraph, type OnnxValue, string } from './onnx-graph';

/** What a translation gets: the graph, the layer, its config and its inputs. */
export interface LayerContext {
  graph: OnnxGraph;
  layer: tfl.layers.Layer;
  config: tf.serialization.ConfigDict;
  inputs: OnnxValue[];
}

/** A translation's result: the output's name and whether it is stored channels-first. */
export interface Produced {
  name: string;
  channelsFirst: boolean;
}

export type LayerTranslation = (context: LayerContext) => Produced;

/**
 * Raised by a translation for a configuration ONNX export does not cover. Internal: exportOnnx turns it into an
 * OnnxExportError "layer 'name' of type T: <message> has no ONNX translation", so the message names the setting.
 */
export class UnsupportedConfigError extends Error {}

// ---------------------------------------------------------------------------------------------- weights

/** A weight of the layer by its short name (`kernel`, `moving_mean`, …), optionally transposed. */
function weight(layer: tfl.layers.Layer, short: string, perm?: number[]): { data: Float32Array; shape: number[] } {
  const variable = layer.weights.find((w) => w.originalName.slice(w.originalName.lastIndexOf('/') + 1) === short);
  if (!variable) throw new UnsupportedConfigError(`a layer without its weight '${short}'`);
  // Not tf.tidy: it would walk every element of the returned typed array looking for tensors.
  const value = perm ? tf.transpose(variable.read(), perm) : variable.read();
  const result = { data: value.dataSync() as Float32Array, shape: value.shape };
  if (perm) value.dispose();
  return result;
}

// ------------------------------------------------------------------------------------------ activations

/** An activation by tfjs's class name (`getClassName()` of the layer's activation), applied to `x`. */
function applyActivation(graph: OnnxGraph, activation: string, x: Produced, rank: number, hint: string): Produced {
  const unary = (opType: string, attributes = {}) => ({ name: graph.op(opType, [x.name], hint, attributes), channelsFirst: x.channelsFirst });
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return unary('Relu');
    case 'relu6':
      return clip(graph, x, 0, 6, hint);
    case 'sigmoid':
      return unary('Sigmoid');
    case 'tanh':
      return unary('Tanh');
    case 'elu':
      return unary('Elu', { alpha: float(1) });
    case 'selu':
      return unary('Selu');
    case 'softplus':
      return unary('Softplus');
    case 'softsign':
      return unary('Softsign');
    case 'hardSigmoid':
      // tfjs's hard sigmoid is the older 0.2·x + 0.5, clipped.
      return unary('HardSigmoid', { alpha: float(0.2), beta: float(0.5) });
    case 'hardSwish':
      // src/layers/hard-swish.ts: x · relu6(x + 3) / 6 = x · clip(x / 6 + 0.5, 0, 1).
      return unary('HardSwish');
    case 'swish':
      return { name: graph.op('Mul', [x.name, graph.op('Sigmoid', [x.name], `${hint}_sigmoid`)], hint), channelsFirst: x.channelsFirst };
    case 'mish': {
      const softplus = graph.op('Softplus', [x.name], `${hint}_softplus`);
      return { name: graph.op('Mul', [x.name, graph.op('Tanh', [softplus], `${hint}_tanh`)], hint), channelsFirst: x.channelsFirst };
    }
    case 'gelu':
      return gelu(graph, x, hint);
    case 'softmax':
      // tfjs's softmax runs over the last axis: the channels, axis 1 when stored channels-first.
      return unary('Softmax', { axis: int(x.channelsFirst ? 1 : rank - 1) });
    default:
      throw new UnsupportedConfigError(`activation '${activation}'`);
  }
}

function clip(graph: OnnxGraph, x: Produced, min: number, max: number, hint: string): Produced {
  const name = graph.op('Clip', [x.name, graph.scalar(`${hint}_min`, min), graph.scalar(`${hint}_max`, max)], hint);
  return { name, channelsFirst: x.channelsFirst };
}

/** tfjs's exact GELU, x · (1 + erf(x / √2)) / 2 (opset 17 has no Gelu; ONNX Runtime fuses this pattern into one). */
function gelu(graph: OnnxGraph, x: Produced, hint: string): Produced {
  const erf = graph.op('Erf', [graph.op('Div', [x.name, graph.scalar(`${hint}_sqrt2`, Math.SQRT2)], `${hint}_scaled`)], `${hint}_erf`);
  const cdf = graph.op('Add', [erf, graph.scalar(`${hint}_one`, 1)], `${hint}_cdf`);
  const product = graph.op('Mul', [x.name, cdf], `${hint}_product`);
  return { name: graph.op('Mul', [product, graph.scalar(`${hint}_half`, 0.5)], hint), channelsFirst: x.channelsFirst };
}

// ------------------------------------------------------------------------------------------- helpers

function pair(value: unknown): [number, number] {
  const values = Array.isArray(value) ? (value as number[]) : [value as number, value as number];
  return [values[0]!, values[values.length - 1]!];
}

function only(inputs: OnnxValue[]): OnnxValue {
  return inputs[0]!;
}

function lastAxis(context: LayerContext, axis: unknown): void {
  const rank = only(context.inputs).shape.length;
  const value = Array.isArray(axis) && axis.length === 1 ? (axis[0] as number) : (axis as number);
  if (value !== -1 && value !== rank - 1) {
    throw new UnsupportedConfigError(`axis ${JSON.stringify(axis)} (only the last axis is translated)`);
  }
}

function channelsLastData(config: tf.serialization.ConfigDict): void {
  if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') {
    throw new UnsupportedConfigError(`dataFormat '${String(config.dataFormat)}' (only channelsLast is translated)`);
  }
}

/**
 * ONNX's padding attributes for Keras's 'same' (TensorFlow pads the extra row/column at the end) or 'valid'.
 * ONNX Runtime folds a ZeroPadding2D into the next operator when that has no auto_pad. Right for a convolution
 * (zeros are zeros), wrong for pooling: a pool's own padding is left out of the max or the average, while
 * Keras's zeros count (ResNet50V2's max pool sees negative values). So 'valid' pools say VALID explicitly.
 */
function padding(value: unknown, foldsPadding: boolean): Record<string, ReturnType<typeof string>> {
  if (value === 'same') return { auto_pad: string('SAME_UPPER') };
  if (value === 'valid') return foldsPadding ? {} : { auto_pad: string('VALID') };
  throw new UnsupportedConfigError(`padding '${String(value)}'`);
}

interface ConvSpec {
  /** The ONNX kernel, [outputs, inputs / group, kh, kw]. */
  kernel: { data: Float32Array; shape: number[] };
  group: number;
  bias?: Float32Array;
  strides: unknown;
  dilations: unknown;
  padding: unknown;
}

function conv(context: LayerContext, x: string, spec: ConvSpec, hint: string): string {
  const { graph } = context;
  const inputs = [x, graph.floats(`${hint}_W`, spec.kernel.data, spec.kernel.shape)];
  if (spec.bias) inputs.push(graph.floats(`${hint}_B`, spec.bias, [spec.bias.length]));
  return graph.op('Conv', inputs, hint, {
    group: int(spec.group),
    kernel_shape: ints(spec.kernel.shape.slice(2)),
    strides: ints(pair(spec.strides)),
    dilations: ints(pair(spec.dilations)),
    ...padding(spec.padding, true),
  });
}

/** tfjs's depthwise kernel (kh, kw, C, m) as ONNX's (C·m, 1, kh, kw): output channel c·m + j in both. */
function depthwiseKernel(layer: tfl.layers.Layer, short: string): { data: Float32Array; shape: number[] } {
  const { data, shape } = weight(layer, short, [2, 3, 0, 1]);
  const [channels, multiplier, kh, kw] = shape as [number, number, number, number];
  return { data, shape: [channels * multiplier, 1, kh, kw] };
}

function withActivation(context: LayerContext, output: Produced): Produced {
  const activation = (context.layer as unknown as { activation?: { getClassName(): string } }).activation;
  const rank = only(context.inputs).shape.length;
  return activation ? applyActivation(context.graph, activation.getClassName(), output, rank, `${context.layer.name}_act`) : output;
}

function sameLayout(context: LayerContext): { names: string[]; channelsFirst: boolean } {
  const { graph, inputs } = context;
  const channelsFirst = inputs.every((x) => x.shape.length === 4) && inputs.some((x) => x.channelsFirst);
  return { names: inputs.map((x) => (channelsFirst ? graph.channelsFirst(x) : graph.channelsLast(x))), channelsFirst };
}

/** A binary operation folded over the inputs (Keras's Add and Multiply take two or more). */
function fold(context: LayerContext, opType: string): Produced {
  const { names, channelsFirst } = sameLayout(context);
  let name = names[0]!;
  names.slice(1).forEach((next, i) => {
    name = context.graph.op(opType, [name, next], i === names.length - 2 ? context.layer.name : `${context.layer.name}_${i}`);
  });
  return { name, channelsFirst };
}

/** A float32 copy of a config's number or per-channel list. */
function channelValues(value: unknown, channels: number): Float32Array {
  return Array.isArray(value) ? Float32Array.from(value as number[]) : new Float32Array(channels).fill(value as number);
}

// ---------------------------------------------------------------------------------------- translations

/** Conv2D and DepthwiseConv2D: one Conv with the ONNX `kernel` and `group`, the layer's bias, then its activation. */
function convolutionLayer(context: LayerContext, kernel: ConvSpec['kernel'], group: number): Produced {
  const { layer, config, graph } = context;
  const bias = config.useBias ? weight(layer, 'bias').data : undefined;
  const spec = { kernel, group, bias, strides: config.strides, dilations: config.dilationRate, padding: config.padding };
  return withActivation(context, { name: conv(context, graph.channelsFirst(only(context.inputs)), spec, layer.name), channelsFirst: true });
}

const convolution: LayerTranslation = (context) => {
  channelsLastData(context.config);
  // Keras's kernel (kh, kw, C / groups, filters) is ONNX's (filters, C / groups, kh, kw) transposed; with groups,
  // Keras's filter f belongs to group f / (filters / groups), as ONNX's does.
  const kernel = weight(context.layer, 'kernel', [3, 2, 0, 1]);
  return convolutionLayer(context, kernel, (context.config.groups as number | undefined) ?? 1);
};

const depthwiseConvolution: LayerTranslation = (context) => {
  channelsLastData(context.config);
  return convolutionLayer(context, depthwiseKernel(context.layer, 'depthwise_kernel'), only(context.inputs).shape[3] as number);
};

const separableConvolution: LayerTranslation = (context) => {
  const { layer, config, graph } = context;
  channelsLastData(config);
  const x = only(context.inputs);
  const depthwise = conv(context, graph.channelsFirst(x), {
    kernel: depthwiseKernel(layer, 'depthwise_kernel'),
    group: x.shape[3] as number,
    strides: config.strides,
    dilations: config.dilationRate,
    padding: config.padding,
  }, `${layer.name}_depthwise`);
  const pointwise = conv(context, depthwise, {
    kernel: weight(layer, 'pointwise_kernel', [3, 2, 0, 1]),
    group: 1,
    bias: config.useBias ? weight(layer, 'bias').data : undefined,
    strides: 1,
    dilations: 1,
    padding: 'valid',
  }, layer.name);
  return withActivation(context, { name: pointwise, channelsFirst: true });
};

const dense: LayerTranslation = (context) => {
  const { layer, config, graph } = context;
  const x = only(context.inputs);
  const kernel = weight(layer, 'kernel');
  const w = graph.floats(`${layer.name}_W`, kernel.data, kernel.shape);
  const bias = config.useBias ? graph.floats(`${layer.name}_B`, weight(layer, 'bias').data, [kernel.shape[1]!]) : undefined;
  let name: string;
  if (x.shape.length === 2) {
    name = graph.op('Gemm', bias ? [x.name, w, bias] : [x.name, w], layer.name);
  } else {
    // Dense on a feature map (ConvNeXt's pointwise layers) multiplies along the last axis.
    const product = graph.op('MatMul', [graph.channelsLast(x), w], bias ? `${layer.name}_matmul` : layer.name);
    name = bias ? graph.op('Add', [product, bias], layer.name) : product;
  }
  return withActivation(context, { name, channelsFirst: false });
};

const batchNormalization: LayerTranslation = (context) => {
  const { layer, config, graph } = context;
  const x = only(context.inputs);
  lastAxis(context, config.axis);
  if (x.shape.length !== 2 && x.shape.length !== 4) throw new UnsupportedConfigError(`a ${x.shape.length}-D input`);
  const mean = weight(layer, 'moving_mean').data;
  const channels = mean.length;
  const gamma = config.scale ? weight(layer, 'gamma').data : new Float32Array(channels).fill(1);
  const beta = config.center ? weight(layer, 'beta').data : new Float32Array(channels);
  const input = x.shape.length === 4 ? graph.channelsFirst(x) : x.name;
  const vector = (hint: string, data: Float32Array) => graph.floats(`${layer.name}_${hint}`, data, [channels]);
  const name = graph.op(
    'BatchNormalization',
    [input, vector('gamma', gamma), vector('beta', beta), vector('mean', mean), vector('variance', weight(layer, 'moving_variance').data)],
    layer.name,
    { epsilon: float(config.epsilon as number) },
  );
  return { name, channelsFirst: x.shape.length === 4 };
};

const layerNormalization: LayerTranslation = (context) => {
  const { layer, config, graph } = context;
  const x = only(context.inputs);
  lastAxis(context, config.axis);
  const channels = x.shape[x.shape.length - 1] as number;
  const gamma = config.scale ? weight(layer, 'gamma').data : new Float32Array(channels).fill(1);
  const beta = config.center ? weight(layer, 'beta').data : new Float32Array(channels);
  const name = graph.op(
    'LayerNormalization',
    [graph.channelsLast(x), graph.floats(`${layer.name}_gamma`, gamma, [channels]), graph.floats(`${layer.name}_beta`, beta, [channels])],
    layer.name,
    { axis: int(-1), epsilon: float(config.epsilon as number) },
  );
  return { name, channelsFirst: false };
};

const activation: LayerTranslation = (context) => {
  const x = only(context.inputs);
  return withActivation(context, { name: x.name, channelsFirst: x.channelsFirst });
};

const relu: LayerTranslation = (context) => {
  const { config, graph, layer } = context;
  const x = only(context.inputs);
  const maxValue = config.maxValue as number | null | undefined;
  if (maxValue == null) return applyActivation(graph, 'relu', x, x.shape.length, layer.name);
  return clip(graph, x, 0, maxValue, layer.name);
};

const identity: LayerTranslation = (context) => {
  const x = only(context.inputs);
  return { name: x.name, channelsFirst: x.channelsFirst };
};

const zeroPadding: LayerTranslation = (context) => {
  const { config, graph, layer } = context;
  channelsLastData(config);
  const [[top, bottom], [left, right]] = config.padding as [[number, number], [number, number]];
  const pads = graph.int64s(`${layer.name}_pads`, [0, 0, top, left, 0, 0, bottom, right]);
  return { name: graph.op('Pad', [graph.channelsFirst(only(context.inputs)), pads], layer.name), channelsFirst: true };
};

const cropping: LayerTranslation = (context) => {
  const { config, graph, layer } = context;
  channelsLastData(config);
  const [[top, bottom], [left, right]] = config.cropping as [[number, number], [number, number]];
  // An end of 0 counts from the end as "keep everything": the largest int64 says that in ONNX.
  const end = (crop: number) => (crop === 0 ? Number.MAX_SAFE_INTEGER : -crop);
  const starts = graph.int64s(`${layer.name}_starts`, [top, left]);
  const ends = graph.int64s(`${layer.name}_ends`, [end(bottom), end(right)]);
  const axes = graph.int64s(`${layer.name}_axes`, [2, 3]);
  return { name: graph.op('Slice', [graph.channelsFirst(only(context.inputs)), starts, ends, axes], layer.name), channelsFirst: true };
};

function pooling(opType: 'MaxPool' | 'AveragePool'): LayerTranslation {
  return (context) => {
    const { config, graph, layer } = context;
    channelsLastData(config);
    const attributes = { kernel_shape: ints(pair(config.poolSize)), strides: ints(pair(config.strides ?? config.poolSize)), ...padding(config.padding, false) };
    return { name: graph.op(opType, [graph.channelsFirst(only(context.inputs))], layer.name, attributes), channelsFirst: true };
  };
}

function globalPooling(opType: 'GlobalMaxPool' | 'GlobalAveragePool'): LayerTranslation {
  return (context) => {
    const { config, graph, layer } = context;
    channelsLastData(config);
    const keepdims = (config.keepdims as boolean | undefined) ?? false;
    const pooled = graph.op(opType, [graph.channelsFirst(only(context.inputs))], keepdims ? layer.name : `${layer.name}_pooled`);
    if (keepdims) return { name: pooled, channelsFirst: true };
    const flat = graph.op('Flatten', [pooled], layer.name, { axis: int(1) });
    graph.noteFlattened(flat, pooled);
    return { name: flat, channelsFirst: false };
  };
}

const add: LayerTranslation = (context) => fold(context, 'Add');
const multiply: LayerTranslation = (context) => fold(context, 'Mul');

/** Keras's Average, Maximum and Minimum merge layers: ONNX's Mean, Max and Min take any number of inputs. */
function merge(opType: 'Mean' | 'Max' | 'Min'): LayerTranslation {
  return (context) => {
    const { names, channelsFirst } = sameLayout(context);
    return { name: context.graph.op(opType, names, context.layer.name), channelsFirst };
  };
}

const concatenate: LayerTranslation = (context) => {
  const { config, graph, layer, inputs } = context;
  const { names, channelsFirst } = sameLayout(context);
  const rank = inputs[0]!.shape.length;
  const axis = (config.axis as number) < 0 ? (config.axis as number) + rank : (config.axis as number);
  const storedAxis = channelsFirst ? [0, 2, 3, 1][axis]! : axis;
  return { name: graph.op('Concat', names, layer.name, { axis: int(storedAxis) }), channelsFirst };
};

const reshape: LayerTranslation = (context) => {
  const { config, graph, layer } = context;
  const x = only(context.inputs);
  const target = config.targetShape as number[];
  // A 1×1 feature map has the same order stored either way, so it can be made channels-first directly.
  const toChannelsFirst = target.length === 3 && target[0] === 1 && target[1] === 1;
  // Squeeze-excite's pooling then Reshape((1, 1, C)): the pooled map itself (ONNX Runtime's blocked layout
  // would otherwise leave and re-enter around the Flatten/Reshape pair).
  const pooled = toChannelsFirst ? graph.pooledMap(x.name) : undefined;
  if (pooled) return { name: pooled, channelsFirst: true };
  const shape = toChannelsFirst ? [0, target[2]!, 1, 1] : [0, ...target];
  const name = graph.op('Reshape', [graph.inFlatOrder(x), graph.int64s(`${layer.name}_shape`, shape)], layer.name);
  return { name, channelsFirst: toChannelsFirst };
};

const flatten: LayerTranslation = (context) => {
  const { graph, layer } = context;
  // Keras flattens in NHWC order.
  return { name: graph.op('Flatten', [graph.inFlatOrder(only(context.inputs))], layer.name, { axis: int(1) }), channelsFirst: false };
};

const permute: LayerTranslation = (context) => {
  const { config, graph, layer } = context;
  const perm = [0, ...(config.dims as number[])];
  return { name: graph.op('Transpose', [graph.channelsLast(only(context.inputs))], layer.name, { perm: ints(perm) }), channelsFirst: false };
};

const rescaling: LayerTranslation = (context) => {
  const { config, graph, layer } = context;
  const x = only(context.inputs);
  const channels = x.shape[x.shape.length - 1] as number;
  const scale = graph.channelConstant(`${layer.name}_scale`, channelValues(config.scale, channels), x);
  const scaled = graph.op('Mul', [x.name, scale], `${layer.name}_scaled`);
  const offset = graph.channelConstant(`${layer.name}_offset`, channelValues(config.offset ?? 0, channels), x);
  return { name: graph.op('Add', [scaled, offset], layer.name), channelsFirst: x.channelsFirst };
};

/** src/layers/normalization.ts: (x − mean) / max(√variance, 1e-7). */
const normalization: LayerTranslation = (context) => {
  const { config, graph, layer } = context;
  const x = only(context.inputs);
  lastAxis(context, config.axis);
  const mean = config.mean ? Float32Array.from(config.mean as number[]) : weight(layer, 'mean').data;
  const variance = config.variance ? Float32Array.from(config.variance as number[]) : weight(layer, 'variance').data;
  const std = variance.map((v) => Math.max(Math.fround(Math.sqrt(v)), 1e-7));
  const centered = graph.op('Sub', [x.name, graph.channelConstant(`${layer.name}_mean`, mean, x)], `${layer.name}_centered`);
  return { name: graph.op('Div', [centered, graph.channelConstant(`${layer.name}_std`, std, x)], layer.name), channelsFirst: x.channelsFirst };
};

/** src/layers/scalar-operation.ts: `x + c` or `x · c`. */
const scalarOperation: LayerTranslation = (context) => {
  const { config, graph, layer } = context;
  const x = only(context.inputs);
  const opType = config.operation === 'add' ? 'Add' : 'Mul';
  return { name: graph.op(opType, [x.name, graph.scalar(`${layer.name}_value`, config.value as number)], layer.name), channelsFirst: x.channelsFirst };
};

/** src/layers/layer-scale.ts: x · gamma per channel. */
const layerScale: LayerTranslation = (context) => {
  const { graph, layer } = context;
  const x = only(context.inputs);
  const gamma = layer.weights[0]!.read().dataSync() as Float32Array;
  return { name: graph.op('Mul', [x.name, graph.channelConstant(`${layer.name}_gamma`, gamma, x)], layer.name), channelsFirst: x.channelsFirst };
};

/** src/layers/custom-scale-layer.ts: inputs[0] + inputs[1] · scale. */
const customScale: LayerTranslation = (context) => {
  const { config, graph, layer } = context;
  const { names, channelsFirst } = sameLayout(context);
  const scaled = graph.op('Mul', [names[1]!, graph.scalar(`${layer.name}_scale`, config.scale as number)], `${layer.name}_scaled`);
  return { name: graph.op('Add', [names[0]!, scaled], layer.name), channelsFirst };
};

/** src/layers/lambda-sum.ts (registered as `Lambda`): a sum over one axis, counted with the batch axis. */
const lambdaSum: LayerTranslation = (context) => {
  const { config, graph, layer } = context;
  if (typeof config.axis !== 'number') throw new UnsupportedConfigError('a Lambda other than LambdaSum');
  const x = only(context.inputs);
  const axes = graph.int64s(`${layer.name}_axes`, [config.axis]);
  return { name: graph.op('ReduceSum', [graph.channelsLast(x), axes], layer.name, { keepdims: int(0) }), channelsFirst: false };
};

/** An ONNX computation of one Keras operation on its operands' names (tensors and constants alike). */
type OperationTranslation = (graph: OnnxGraph, operands: string[], hint: string) => string;

const onnxOperator = (opType: string, attributes: Record<string, Attribute> = {}): OperationTranslation =>
  (graph, operands, hint) => graph.op(opType, operands, hint, attributes);

/** An elementwise activation of applyActivation: the layout does not matter to it. */
const activationOperator = (activation: string): OperationTranslation =>
  (graph, [x], hint) => applyActivation(graph, activation, { name: x!, channelsFirst: false }, 0, hint).name;

/** src/models/keras-operations.ts's operations by `<module>.<class>`, computed as its tfjs kernels do. */
const OPERATION_TRANSLATIONS: Readonly<Record<string, OperationTranslation>> = {
  'numpy.Add': onnxOperator('Add'),
  'numpy.Subtract': onnxOperator('Sub'),
  'numpy.Multiply': onnxOperator('Mul'),
  'numpy.Divide': onnxOperator('Div'),
  'numpy.TrueDivide': onnxOperator('Div'),
  'numpy.Maximum': onnxOperator('Max'),
  'numpy.Minimum': onnxOperator('Min'),
  'numpy.Power': onnxOperator('Pow'),
  'numpy.Negative': onnxOperator('Neg'),
  'numpy.Absolute': onnxOperator('Abs'),
  'numpy.Square': (graph, [x], hint) => graph.op('Mul', [x!, x!], hint),
  'numpy.Sqrt': onnxOperator('Sqrt'),
  'numpy.Exp': onnxOperator('Exp'),
  'numpy.Log': onnxOperator('Log'),
  'numpy.Tanh': onnxOperator('Tanh'),
  'nn.Relu': onnxOperator('Relu'),
  'nn.Relu6': activationOperator('relu6'),
  'nn.Sigmoid': onnxOperator('Sigmoid'),
  'nn.Silu': activationOperator('swish'),
  // Keras's hard_sigmoid is relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1); hard_silu is x times it, ONNX's HardSwish.
  'nn.HardSigmoid': onnxOperator('HardSigmoid', { alpha: float(1 / 6), beta: float(0.5) }),
  'nn.HardSilu': activationOperator('hardSwish'),
};

/**
 * src/models/keras-operations.ts: one Keras operation, its number operands as scalar constants (they broadcast
 * in either layout), its tensors in one layout as for a merge layer.
 */
const kerasOperation: LayerTranslation = (context) => {
  const { config, graph, layer } = context;
  const translate = OPERATION_TRANSLATIONS[config.operation as string];
  if (!translate) throw new UnsupportedConfigError(`the operation ${String(config.operation)}`);
  const { names, channelsFirst } = sameLayout(context);
  const operands = (config.operands as (number | null)[]).map((operand, i) =>
    operand === null ? names.shift()! : graph.scalar(`${layer.name}_operand${i}`, operand),
  );
  return { name: translate(graph, operands, layer.name), channelsFirst };
};

/** Layer class name → translation. A class missing here cannot be exported. */
export const LAYER_TRANSLATIONS: Readonly<Record<string, LayerTranslation>> = {
  Conv2D: convolution,
  DepthwiseConv2D: depthwiseConvolution,
  SeparableConv2D: separableConvolution,
  Dense: dense,
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Activation: activation,
  ReLU: relu,
  Dropout: identity,
  // Keras's random augmentation layers and StochasticDepth (src/models/keras-layers.ts) pass their input through.
  InferenceIdentity: identity,
  ZeroPadding2D: zeroPadding,
  Cropping2D: cropping,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  GlobalAveragePooling2D: globalPooling('GlobalAveragePool'),
  GlobalMaxPooling2D: globalPooling('GlobalMaxPool'),
  Add: add,
  Multiply: multiply,
  Average: merge('Mean'),
  Maximum: merge('Max'),
  Minimum: merge('Min'),
  Concatenate: concatenate,
  Reshape: reshape,
  Flatten: flatten,
  Permute: permute,
  Rescaling: rescaling,
  Normalization: normalization,
  ScalarOperation: scalarOperation,
  LayerScale: layerScale,
  CustomScaleLayer: customScale,
  Lambda: lambdaSum,
  KerasOperation: kerasOperation,
};
