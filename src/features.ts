// Feature extraction: named intermediate outputs of any model (`featureExtractor`), and timm-style
// multi-scale feature pyramids of the registry's image models (`createFeatureModel`, timm's
// `create_model(name, features_only=True, out_indices=...)`).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { formatValue } from './arguments';
import { type ApplicationOptions } from './applications/types';
import { applications, type AnyApplicationEntry, type ApplicationEntry } from './applications/registry';
import { ArgumentError } from './errors';

/** A model that returns some of another model's intermediate outputs, by layer name. */
export interface FeatureExtractor {
  /** One output per name of `layerNames`, in that order. Shares its layers and weights with `source`. */
  readonly model: tfl.LayersModel;
  readonly layerNames: readonly string[];
  /** The model whose layers are read. */
  readonly source: tfl.LayersModel;
  /** Runs `model` on a batch; layer name → output. The caller disposes the tensors. */
  extract(x: tf.Tensor): Record<string, tf.Tensor>;
  /** Disposes `source`, whose weights `model` shares (so never dispose `model` itself as well). */
  dispose(): void;
}

/** One level of a feature pyramid, as timm's `feature_info`. */
export interface FeatureInfo {
  /** The stride's position in `FEATURE_STRIDES`: what `outIndices` selects. */
  index: number;
  /** How much smaller than the input this level is (timm's `reduction`): 2, 4, 8, 16 or 32. */
  reduction: number;
  /** The layer whose output this level is. */
  layerName: string;
  /** Its channels (timm's `num_chs`). */
  channels: number;
}

export interface FeatureModel extends FeatureExtractor {
  /** The levels `outIndices` selected, shallowest first; `extract` keys its result by their `layerName`. */
  readonly featureInfo: readonly FeatureInfo[];
}

/** The reductions a feature pyramid can hold; `outIndices` index into this list. */
export const FEATURE_STRIDES: readonly number[] = [2, 4, 8, 16, 32];

type HeadOption = 'includeTop' | 'pooling' | 'classes' | 'classifierActivation';
const HEAD_OPTIONS: readonly HeadOption[] = ['includeTop', 'pooling', 'classes', 'classifierActivation'];

/**
 * The builder's options without the classifier head (a feature model has none), plus `outIndices`;
 * family options (MobileNet's `alpha`, …) are passed on to the builder, which checks them.
 */
export type FeatureModelOptions = Omit<ApplicationOptions, HeadOption> & {
  /** Which of `FEATURE_STRIDES` to return, e.g. `[2, 3, 4]` for strides 8, 16, 32. Default: all five. */
  outIndices?: readonly number[];
  [familyOption: string]: unknown;
};

/** Layers whose output is never a feature: the input, and padding that only feeds a 'valid' convolution. */
const NOT_FEATURES = new Set(['InputLayer', 'ZeroPadding2D']);

/**
 * A model that returns the outputs of `layerNames` (any layers of `model`, e.g. from `model.summary()`).
 *
 * ```ts
 * const extractor = featureExtractor(model, ['conv3_block4_out', 'conv4_block6_out']);
 * const features = extractor.extract(batch); // { conv3_block4_out: Tensor, conv4_block6_out: Tensor }
 * ```
 */
export function featureExtractor(model: tfl.LayersModel, layerNames: readonly string[]): FeatureExtractor {
  if (!Array.isArray(layerNames) || layerNames.length === 0 || !layerNames.every((name) => typeof name === 'string')) {
    throw new ArgumentError(`\`layerNames\` must be a non-empty array of layer names. Received: layerNames=${formatValue(layerNames)}`);
  }
  const duplicate = layerNames.find((name, i) => layerNames.indexOf(name) !== i);
  if (duplicate !== undefined) throw new ArgumentError(`\`layerNames\` lists '${duplicate}' twice. Received: layerNames=${formatValue(layerNames)}`);
  const tensors = layerOutputs(model);
  const outputs = layerNames.map((name) => {
    const found = tensors.get(name);
    if (!found) {
      const known = model.layers.map((layer) => layer.name);
      const sample = known.length > 8 ? `${known.slice(0, 8).join(', ')}, … (${known.length} layers)` : known.join(', ');
      throw new ArgumentError(`Model '${model.name}' has no layer '${name}'. Received: layerNames=${formatValue(layerNames)}; its layers: ${sample}`);
    }
    return found;
  });
  const extractor = tfl.model({ inputs: model.inputs, outputs, name: `${model.name}_features` });
  return {
    model: extractor,
    layerNames: [...layerNames],
    source: model,
    extract(x) {
      const results = extractor.predict(x);
      const list = Array.isArray(results) ? results : [results];
      return Object.fromEntries(layerNames.map((name, i) => [name, list[i]!]));
    },
    dispose() {
      model.dispose();
    },
  };
}

/**
 * timm's `create_model(name, features_only=True, out_indices=...)` for an image model of the registry:
 * the model without its head, returning for each stride s of `FEATURE_STRIDES` (the ones `outIndices`
 * selects; default all the model has) the deepest layer whose output is the input's size divided by s,
 * rounded up (ceil(H/s) × ceil(W/s)). A stage's output (a layer every path goes through) is preferred to
 * a layer inside one of its branches. Where 'valid' convolutions or poolings (Inception, Xception, NASNet,
 * DenseNet at odd sizes) make the maps a little smaller, the deepest layer s strides down is taken.
 * Layers are chosen at the input size given, or at the model's default size when the size is free.
 * ConvNeXt has no stride-2 level (its stem strides by 4).
 *
 * ```ts
 * const pyramid = await createFeatureModel('ResNet50', { outIndices: [1, 2, 3, 4] });
 * pyramid.featureInfo; // [{ index: 1, reduction: 4, layerName: 'conv2_block3_out', channels: 256 }, …]
 * const features = pyramid.extract(batch); // layer name → [batch, ceil(H/s), ceil(W/s), channels]
 * ```
 */
export async function createFeatureModel(name: string, options: FeatureModelOptions = {}): Promise<FeatureModel> {
  const entry = imageEntry(name);
  const { outIndices, ...builderOptions } = options;
  if (outIndices !== undefined) checkOutIndices(outIndices);
  const head = HEAD_OPTIONS.find((option) => option in builderOptions);
  if (head) {
    throw new ArgumentError(
      `A feature model has no classifier head, so \`${head}\` cannot be set. Received: ${head}=${formatValue(builderOptions[head])}`,
    );
  }
  const base = await entry.build({ ...builderOptions, includeTop: false } as ApplicationOptions);
  try {
    const levels = pyramidLevels(base, entry);
    const missing = outIndices?.find((i) => !levels.some((level) => level.index === i));
    if (missing !== undefined) {
      throw new ArgumentError(
        `${entry.kerasName} has no stride-${FEATURE_STRIDES[missing]} level; its \`outIndices\` are ` +
          `${levels.map((level) => `${level.index} (stride ${level.reduction})`).join(', ')}. Received: outIndices=${formatValue(outIndices)}`,
      );
    }
    const featureInfo = outIndices ? levels.filter((level) => outIndices.includes(level.index)) : levels;
    const extractor = featureExtractor(base, featureInfo.map((level) => level.layerName));
    return { ...extractor, featureInfo };
  } catch (error) {
    base.dispose();
    throw error;
  }
}

function imageEntry(name: string): ApplicationEntry {
  const entry = (applications as Record<string, AnyApplicationEntry>)[name];
  if (entry?.kind === 'image') return entry;
  const known = Object.values(applications as Record<string, AnyApplicationEntry>).filter((e) => e.kind === 'image').map((e) => e.kerasName);
  throw new ArgumentError(`\`name\` must be an image model of the registry: ${known.join(', ')}. Received: name=${formatValue(name)}`);
}

function checkOutIndices(outIndices: unknown): asserts outIndices is readonly number[] {
  const valid =
    Array.isArray(outIndices) &&
    outIndices.length > 0 &&
    outIndices.every((i, at) => Number.isInteger(i) && i >= 0 && i < FEATURE_STRIDES.length && outIndices.indexOf(i) === at);
  if (!valid) {
    throw new ArgumentError(
      `\`outIndices\` must be distinct integers from 0 to ${FEATURE_STRIDES.length - 1} (strides ${FEATURE_STRIDES.join(', ')}). ` +
        `Received: outIndices=${formatValue(outIndices)}`,
    );
  }
}

/** Every level of `FEATURE_STRIDES` that `model` has, by the rule `createFeatureModel` documents. */
function pyramidLevels(model: tfl.LayersModel, entry: ApplicationEntry): FeatureInfo[] {
  const [height, width] = model.inputs[0]!.shape.slice(1, 3).map((size) => size ?? entry.defaultSize) as [number, number];
  const shapes = concreteShapes(model, height, width);
  const reductions = layerReductions(model);
  const trunk = trunkLayers(model);
  // Deepest first; the input and padding layers are never features.
  const deepestFirst = (layers: tfl.layers.Layer[]) =>
    layers
      .filter((layer) => shapes.get(layer.name)!.length === 4 && !NOT_FEATURES.has(layer.getClassName()))
      .map((layer) => ({ name: layer.name, shape: shapes.get(layer.name)! }))
      .reverse();
  const onTrunk = deepestFirst(model.layers.filter((layer) => trunk.has(layer.name)));
  const anywhere = deepestFirst(model.layers);
  return FEATURE_STRIDES.flatMap((stride, index) => {
    const [h, w] = [Math.ceil(height / stride), Math.ceil(width / stride)];
    const pick = (candidates: typeof anywhere) =>
      candidates.find(({ shape }) => shape[1] === h && shape[2] === w) ?? candidates.find(({ name }) => reductions.get(name) === stride);
    const chosen = pick(onTrunk) ?? pick(anywhere);
    return chosen ? [{ index, reduction: stride, layerName: chosen.name, channels: chosen.shape[3]! }] : [];
  });
}

/**
 * The layers every path from the input to the output goes through (a stage's output, not a layer inside
 * one of its branches). In any order that puts inputs first, those are the layers after which no earlier
 * output is still waiting to be used except their own.
 */
function trunkLayers(model: tfl.LayersModel): Set<string> {
  const outputs = layerOutputs(model);
  const inputsOf = (layer: tfl.layers.Layer) => {
    const node = layer.inboundNodes[outputs.get(layer.name)!.nodeIndex]!;
    return node.inboundLayers.length === 0 ? [] : node.inputTensors;
  };
  const uses = new Map<tfl.SymbolicTensor, number>(model.outputs.map((output) => [output, 1]));
  for (const layer of model.layers) for (const input of inputsOf(layer)) uses.set(input, (uses.get(input) ?? 0) + 1);
  const waiting = new Set<tfl.SymbolicTensor>();
  const trunk = new Set<string>();
  for (const layer of model.layers) {
    for (const input of inputsOf(layer)) {
      uses.set(input, uses.get(input)! - 1);
      if (uses.get(input) === 0) waiting.delete(input);
    }
    const output = outputs.get(layer.name)!;
    waiting.add(output);
    if (waiting.size === 1) trunk.add(layer.name);
  }
  return trunk;
}

/** How many times smaller than the input each layer's output is, by the strides of the layers before it. */
function layerReductions(model: tfl.LayersModel): Map<string, number> {
  return propagate(model, () => 1, (layer, inputs) => Math.max(...inputs) * layerStride(layer));
}

/** A convolution's or pooling's stride; a nested model's overall reduction (ConvNeXt's stem); 1 otherwise. */
function layerStride(layer: tfl.layers.Layer): number {
  if (layer instanceof tfl.LayersModel) return Math.max(...layerReductions(layer).values());
  const strides = (layer.getConfig() as { strides?: number | number[] }).strides;
  return Array.isArray(strides) ? strides[0]! : (strides ?? 1);
}

/**
 * Each layer's output tensor in `model`'s graph (a layer reused by other models has other outputs too).
 * Walks back from the outputs, so every layer of the graph is found.
 */
function layerOutputs(model: tfl.LayersModel): Map<string, tfl.SymbolicTensor> {
  const found = new Map<string, tfl.SymbolicTensor>();
  const pending = [...model.outputs];
  while (pending.length > 0) {
    const tensor = pending.pop()!;
    if (found.get(tensor.sourceLayer.name) === tensor) continue;
    found.set(tensor.sourceLayer.name, tensor);
    const node = tensor.sourceLayer.inboundNodes[tensor.nodeIndex]!;
    if (node.inboundLayers.length > 0) pending.push(...node.inputTensors);
  }
  return found;
}

/**
 * Each layer's output shape for a `[1, height, width, channels]` input, from the layers' own shape rules
 * (the model may have been built with a free size).
 */
function concreteShapes(model: tfl.LayersModel, height: number, width: number): Map<string, number[]> {
  return propagate(
    model,
    (input) => [1, height, width, input.shape[3]!],
    (layer, inputs, tensor) => {
      const output = layer.computeOutputShape(inputs.length === 1 ? inputs[0]! : inputs) as number[] | number[][];
      return Array.isArray(output[0]) ? (output as number[][])[tensor.tensorIndex]! : (output as number[]);
    },
  );
}

/** A value for each layer of `model`'s graph, computed from its inputs' values (`atInput` for the inputs). */
function propagate<T>(
  model: tfl.LayersModel,
  atInput: (input: tfl.SymbolicTensor) => T,
  atLayer: (layer: tfl.layers.Layer, inputs: T[], output: tfl.SymbolicTensor) => T,
): Map<string, T> {
  const outputs = layerOutputs(model);
  const values = new Map<tfl.SymbolicTensor, T>();
  // tfjs orders `model.layers` by depth, inputs first, so every input's value is ready when needed.
  for (const layer of model.layers) {
    const tensor = outputs.get(layer.name)!;
    const node = layer.inboundNodes[tensor.nodeIndex]!;
    const value = node.inboundLayers.length === 0 ? atInput(tensor) : atLayer(layer, node.inputTensors.map((input) => values.get(input)!), tensor);
    values.set(tensor, value);
  }
  return new Map(model.layers.map((layer) => [layer.name, values.get(outputs.get(layer.name)!)!]));
}
