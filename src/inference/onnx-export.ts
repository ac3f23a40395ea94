// A tfjs LayersModel (one our builders made, with its weights) as an ONNX model: the graph is walked from its
// outputs, each layer translated by src/inference/onnx-layers.ts, nested models (ConvNeXt's Sequential stems)
// inlined. Inputs and outputs keep Keras's NHWC layout; inside, feature maps run NCHW, transposed once.
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UnsupportedModelError } from '../errors';
import { checkLayersModel } from './checks';
import { type Dim, OnnxGraph, type OnnxValue } from './onnx-graph';
import { LAYER_TRANSLATIONS, UnsupportedConfigError } from './onnx-layers';

/** A layer (or a configuration of it) that ONNX export does not translate; the message names the layer. */
export class OnnxExportError extends UnsupportedModelError {}

type SymbolicTensor = tfl.SymbolicTensor;

/**
 * The model as ONNX ModelProto bytes (opset 17), the batch size left dynamic. Throws `OnnxExportError` for a
 * layer it cannot translate and `UnsupportedModelError` for a model over protobuf's 2 GiB.
 */
export function exportOnnx(model: tfl.LayersModel): Uint8Array {
  checkLayersModel('exportOnnx', model);
  const graph = new OnnxGraph(model.name);
  const known = new Map<SymbolicTensor, OnnxValue>();
  // Named after their InputLayers, as a functional model's inputNames are (a Sequential's are empty).
  model.inputs.forEach((input) => {
    const name = input.sourceLayer.name;
    graph.addInput(name, dims(input.shape, name));
    known.set(input, { name, shape: input.shape, channelsFirst: false });
  });
  const outputs = evaluate(graph, model.outputs, known);
  outputs.forEach((output, i) => graph.addOutput(graph.channelsLast(output), dims(model.outputs[i]!.shape, model.outputs[i]!.sourceLayer.name)));
  return graph.encode();
}

/** ONNX dimensions for a Keras shape: the batch and any unknown size get names. */
function dims(shape: readonly (number | null)[], tensor: string): Dim[] {
  return shape.map((size, axis) => (axis === 0 ? 'batch' : (size ?? `${tensor}_dim${axis}`)));
}

/**
 * The values of `outputs`, translating every layer they depend on once, in dependency order (iteratively:
 * EfficientNetB7's or ConvNeXtXLarge's chains are deeper than a recursion should go).
 */
function evaluate(graph: OnnxGraph, outputs: SymbolicTensor[], known: Map<SymbolicTensor, OnnxValue>): OnnxValue[] {
  const pending = [...outputs];
  while (pending.length > 0) {
    const tensor = pending[pending.length - 1]!;
    if (known.has(tensor)) {
      pending.pop();
      continue;
    }
    const layer = tensor.sourceLayer;
    if (layer.getClassName() === 'InputLayer') throw new OnnxExportError(`ONNX export: input '${layer.name}' is not one of the model's inputs`);
    const node = layer.inboundNodes[tensor.nodeIndex]!;
    const missing = node.inputTensors.filter((input) => !known.has(input));
    if (missing.length > 0) {
      pending.push(...missing);
      continue;
    }
    pending.pop();
    const inputs = node.inputTensors.map((input) => known.get(input)!);
    translateNode(graph, layer, inputs, node.outputTensors).forEach((value, i) => known.set(node.outputTensors[i]!, value));
  }
  return outputs.map((output) => known.get(output)!);
}

function translateNode(graph: OnnxGraph, layer: tfl.layers.Layer, inputs: OnnxValue[], outputs: SymbolicTensor[]): OnnxValue[] {
  if (layer instanceof tfl.LayersModel) {
    const inner = new Map<SymbolicTensor, OnnxValue>(layer.inputs.map((input, i) => [input, inputs[i]!]));
    return evaluate(graph, layer.outputs, inner);
  }
  const className = layer.getClassName();
  const translation = LAYER_TRANSLATIONS[className];
  if (!translation) {
    throw new OnnxExportError(
      `ONNX export: layer '${layer.name}' of type ${className} has no ONNX translation. ` +
        `Translated types: ${Object.keys(LAYER_TRANSLATIONS).join(', ')}`,
    );
  }
  try {
    const config = layer.getConfig() as tf.serialization.ConfigDict;
    const produced = translation({ graph, layer, config, inputs });
    return [{ ...produced, shape: outputs[0]!.shape }];
  } catch (error) {
    if (!(error instanceof UnsupportedConfigError)) throw error;
    throw new OnnxExportError(`ONNX export: layer '${layer.name}' of type ${className}: ${error.message} has no ONNX translation`);
  }
}
