// Checks shared by the engines' public entry points, so that a model or an input the user got wrong fails with
// our error classes and the same message on every engine, before any kernel runs.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError, UnsupportedModelError } from '../errors';
import type { InferenceEngine } from './types';

/** A value as an error message names it: its class, or its type. */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return typeof value === 'object' ? value.constructor?.name ?? 'object' : typeof value;
}

/** `model` must be a tfjs LayersModel; anything else would fail deep inside an engine with a TypeError. */
export function checkLayersModel(caller: string, model: unknown): asserts model is tfl.LayersModel {
  if (!(model instanceof tfl.LayersModel)) {
    throw new ArgumentError(`${caller}: \`model\` must be a tfjs LayersModel (what the builders and loadModel return). Received: ${kindOf(model)}`);
  }
}

/** A predictor takes one tensor, so the engines that check it run only models with one input. */
export function checkSingleInput(engine: InferenceEngine, model: tfl.LayersModel): void {
  if (model.inputs.length !== 1) {
    throw new UnsupportedModelError(`model: the ${engine} engine runs models with one input; '${model.name}' has ${model.inputs.length}`);
  }
}

/** Predicting with a predictor after `dispose()`. */
export function checkNotDisposed(engine: InferenceEngine, disposed: boolean): void {
  if (disposed) throw new ArgumentError(`predict: this ${engine} predictor was disposed; compile the model again to predict`);
}

/**
 * A check of `predict`'s tensor for a one-input model: a tf.Tensor of the rank and fixed sizes the model takes
 * (the batch size is free, as in tfjs's predict), and, where the model leaves sizes open, one that no layer
 * shrinks to nothing (an image smaller than the model's total stride). Unchecked, the fused engine computes on
 * a wrongly sized image, ONNX Runtime fails with its own message, and the wasm backend with "memory access out
 * of bounds". Each shape is checked once.
 */
export function inputChecker(model: tfl.LayersModel): (x: unknown) => void {
  const expected = model.inputs[0]!.shape;
  const openSizes = expected.slice(1).includes(null);
  const accepted = new Set<string>();
  return (x) => {
    if (!(x instanceof tf.Tensor)) throw new ArgumentError(`predict: \`x\` must be a tf.Tensor. Received: ${kindOf(x)}`);
    const key = JSON.stringify(x.shape);
    if (accepted.has(key)) return;
    if (x.rank !== expected.length || expected.some((size, axis) => axis > 0 && size !== null && size !== x.shape[axis])) {
      throw new ArgumentError(
        `predict: \`x\` must have the shape model '${model.name}' takes, ${JSON.stringify(expected)} (null: any size). Received: shape ${key}`,
      );
    }
    if (openSizes) {
      propagateShapes(model, [x.shape], (layer, problem) => `predict: \`x\` of shape ${key} does not fit model '${model.name}': layer '${layer}' ${problem}`);
    }
    accepted.add(key);
  };
}

type Complaint = (layer: string, problem: string) => string;

/**
 * The output shapes of `model` for inputs of `inputShapes`, computed layer by layer (nested models included)
 * without running anything; a layer that refuses its input shape or would output an empty axis is an
 * ArgumentError. Iterative, as EfficientNetB7's chains are deeper than a recursion should go.
 */
function propagateShapes(model: tfl.LayersModel, inputShapes: tfl.Shape[], complaint: Complaint): tfl.Shape[] {
  const shapes = new Map<number, tfl.Shape>(model.inputs.map((input, i) => [input.id, inputShapes[i]!]));
  const pending = [...model.outputs];
  while (pending.length > 0) {
    const tensor = pending[pending.length - 1]!;
    if (shapes.has(tensor.id)) {
      pending.pop();
      continue;
    }
    const layer = tensor.sourceLayer;
    const node = layer.inboundNodes[tensor.nodeIndex]!;
    const missing = node.inputTensors.filter((input) => !shapes.has(input.id));
    if (missing.length > 0) {
      pending.push(...missing);
      continue;
    }
    pending.pop();
    const inputs = node.inputTensors.map((input) => shapes.get(input.id)!);
    const outputs = layer instanceof tfl.LayersModel ? propagateShapes(layer, inputs, complaint) : layerOutputShapes(layer, inputs, complaint);
    node.outputTensors.forEach((output, i) => shapes.set(output.id, outputs[i]!));
  }
  return model.outputs.map((output) => shapes.get(output.id)!);
}

function layerOutputShapes(layer: tfl.layers.Layer, inputs: tfl.Shape[], complaint: Complaint): tfl.Shape[] {
  let computed: tfl.Shape | tfl.Shape[];
  try {
    computed = layer.computeOutputShape(inputs.length === 1 ? inputs[0]! : inputs);
  } catch (error) {
    throw new ArgumentError(complaint(layer.name, `refuses input shape ${JSON.stringify(inputs.length === 1 ? inputs[0] : inputs)}: ${(error as Error).message}`));
  }
  const outputs = computed.length > 0 && Array.isArray(computed[0]) ? (computed as tfl.Shape[]) : [computed as tfl.Shape];
  for (const shape of outputs) {
    if (shape.some((size, axis) => axis > 0 && size !== null && size < 1)) {
      throw new ArgumentError(complaint(layer.name, `would output shape ${JSON.stringify(shape)}: the input is too small for the model`));
    }
  }
  return outputs;
}
