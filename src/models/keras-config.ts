// A Keras 3 model config (a .keras archive's config.json, a full-model .h5's model_config) → a tfjs model:
// Sequential and Functional models, several inputs and outputs, shared layers (one layer called several times)
// and nested models, each layer named and (un)frozen as in the config.
import * as tfl from '@tensorflow/tfjs-layers';
import { formatValue } from '../arguments';
import { UnsupportedModelError, WeightsFileError } from '../errors';
import { buildKerasLayer, checkFloat32, type KerasLayerConfig } from './keras-layers';
import { kerasOrigin, recordKerasOrigin } from './keras-origin';
import { buildKerasOperation, operationModule } from './keras-operations';

/**
 * A built layer with its Keras class; a nested model lists its own layers in the config's order. A Keras
 * operation (`x + y`) is marked: Keras does not count it among the model's layers (its weights file skips it).
 */
export interface BuiltLayer {
  kerasClass: string;
  layer: tfl.layers.Layer;
  inner?: BuiltLayer[];
  operation?: true;
}

/** Keras 3's model classes, and Keras 2's name of a functional model. */
const MODEL_CLASSES = ['Functional', 'Sequential', 'Model'];

/** The model of a config; `where` (the file) appears in error messages. */
export function buildKerasModel(config: unknown, where: string): BuiltLayer & { layer: tfl.LayersModel } {
  const entry = asEntry(config, where);
  if (!MODEL_CLASSES.includes(entry.class_name)) {
    throw new UnsupportedModelError(
      `The model in ${where} has the class ${formatValue(entry.class_name)}; loadKerasModel loads ${MODEL_CLASSES.join(' and ')} ` +
        'models (a subclassed keras.Model has no config to rebuild it from).',
    );
  }
  return buildModel(entry, where);
}

function buildModel(entry: KerasLayerConfig, where: string): BuiltLayer & { layer: tfl.LayersModel } {
  const config = entry.config;
  checkFloat32(config.dtype, `Model '${String(config.name)}' in ${where}`);
  const built = entry.class_name === 'Sequential' ? buildSequential(entry, where) : buildFunctional(entry, where);
  // tfjs's setter marks every inner weight; the inner layers already carry their own flags from the config.
  if (config.trainable === false) built.layer.trainable = false;
  recordKerasOrigin(built.layer, config);
  return built;
}

function buildEntry(entry: KerasLayerConfig, where: string): BuiltLayer {
  if (MODEL_CLASSES.includes(entry.class_name)) return buildModel(entry, where);
  return { kerasClass: entry.class_name, layer: buildKerasLayer(entry, where) };
}

function inputLayer(entry: KerasLayerConfig, where: string): tfl.SymbolicTensor {
  const { name, batch_shape, batch_input_shape, dtype, sparse, ragged, optional } = entry.config;
  checkFloat32(dtype, `Input '${String(name)}' in ${where}`);
  if (sparse === true || ragged === true || optional === true) {
    throw new UnsupportedModelError(`Input '${String(name)}' in ${where}: sparse, ragged and optional inputs are not supported.`);
  }
  return tfl.input({ batchShape: (batch_shape ?? batch_input_shape) as number[], name: String(name) });
}

function buildSequential(entry: KerasLayerConfig, where: string): BuiltLayer & { layer: tfl.LayersModel } {
  const entries = layerEntries(entry, where);
  // Keras 2.2's Sequential config is the list of its layers, without a name.
  const name = String(entry.config.name ?? 'sequential');
  const [first] = entries;
  // Keras 2 gives the first layer the model's input shape, as batch_input_shape.
  const inputShape = entry.config.build_input_shape ?? first?.config.batch_input_shape;
  let input: tfl.layers.Layer;
  if (first?.class_name === 'InputLayer') {
    input = inputLayer(first, where).sourceLayer as tfl.layers.Layer;
  } else if (Array.isArray(inputShape)) {
    input = tfl.input({ batchShape: inputShape as number[] }).sourceLayer as tfl.layers.Layer;
  } else {
    throw new WeightsFileError(`The Sequential model '${name}' in ${where} has no InputLayer and no build_input_shape: its input shape is unknown.`);
  }
  const inner = entries.filter((layer) => layer.class_name !== 'InputLayer').map((layer) => buildEntry(layer, where));
  const model = tfl.sequential({ name, layers: [input, ...inner.map((built) => built.layer)] });
  return { kerasClass: 'Sequential', layer: model, inner };
}

/**
 * One call of a layer: its positional arguments and keyword arguments, as Keras 3 writes them (tensors as
 * `__keras_tensor__` records); tf.keras's nested-list form is read into the same shape.
 */
interface KerasCall {
  args: unknown[];
  kwargs: Record<string, unknown>;
}

function buildFunctional(entry: KerasLayerConfig, where: string): BuiltLayer & { layer: tfl.LayersModel } {
  const name = String(entry.config.name);
  const entries = layerEntries(entry, where);
  const inner: BuiltLayer[] = [];
  /** Per layer name, the output tensors of each of its calls in the config's order (Keras's node indices). */
  const nodeOutputs = new Map<string, tfl.SymbolicTensor[][]>();
  const pending: { built: BuiltLayer; name: string; calls: KerasCall[] }[] = [];
  for (const layerEntry of entries) {
    const layerName = String(layerEntry.name ?? layerEntry.config.name);
    if (layerEntry.class_name === 'InputLayer') {
      const input = inputLayer(layerEntry, where);
      inner.push({ kerasClass: 'InputLayer', layer: input.sourceLayer as tfl.layers.Layer });
      nodeOutputs.set(layerName, [[input]]);
      continue;
    }
    const calls = (layerEntry.inbound_nodes ?? []).map((call) => kerasCall(call, layerName, where));
    const module = operationModule(layerEntry);
    const built = module ? operationEntry(layerEntry, module, layerName, calls, where) : buildEntry(layerEntry, where);
    if (!built.operation) calls.forEach((call) => checkLayerCall(call, layerName, where));
    inner.push(built);
    nodeOutputs.set(layerName, []);
    pending.push({ built, name: layerName, calls });
  }
  /** The tensor a `[layer name, node index, tensor index]` triple names; undefined while not computed yet. */
  const tensorOf = (history: unknown, reader: string): tfl.SymbolicTensor | undefined => {
    if (!Array.isArray(history) || history.length !== 3) fail(where, `${reader} reads a tensor without a keras_history triple`);
    const [source, node, index] = history as [string, number, number];
    if (!nodeOutputs.has(source)) fail(where, `${reader} reads an output of '${source}', which model '${name}' does not have`);
    return nodeOutputs.get(source)![node]?.[index];
  };
  // A call can read a layer listed later (a shared layer's second call), so calls run as their inputs appear.
  for (let progress = true; progress; ) {
    progress = false;
    for (const { built, name: layerName, calls } of pending) {
      const done = nodeOutputs.get(layerName)!;
      while (done.length < calls.length) {
        const read = (history: unknown): tfl.SymbolicTensor | undefined => tensorOf(history, `layer '${layerName}'`);
        const inputs = built.operation ? operationInputs(calls[done.length]!, read) : callInputs(calls[done.length]!, read);
        if (inputs === undefined) break;
        const outputs = built.layer.apply(inputs) as tfl.SymbolicTensor | tfl.SymbolicTensor[];
        kerasOrigin(built.layer)?.callKwargs.push(calls[done.length]!.kwargs);
        done.push(Array.isArray(outputs) ? outputs : [outputs]);
        progress = true;
      }
    }
  }
  const stuck = pending.find(({ name: layerName, calls }) => nodeOutputs.get(layerName)!.length < calls.length);
  if (stuck) fail(where, `layer '${stuck.name}' of model '${name}' is called on tensors no layer of the model computes`);
  const endpoints = (key: string): tfl.SymbolicTensor[] =>
    triples(entry.config[key], `${key} of model '${name}'`, where).map(
      (triple) => tensorOf(triple, `${key} of model '${name}'`) ?? fail(where, `${key} of model '${name}' names ${JSON.stringify(triple)}, which is not computed`),
    );
  const model = tfl.model({ name, inputs: endpoints('input_layers'), outputs: endpoints('output_layers') });
  return { kerasClass: 'Functional', layer: model, inner };
}

/** A Keras operation node: one call, whose constant arguments become part of the layer. */
function operationEntry(entry: KerasLayerConfig, module: string, layerName: string, calls: KerasCall[], where: string): BuiltLayer {
  const describe = `Operation '${layerName}' (${entry.class_name}) in ${where}`;
  const [call] = calls;
  if (calls.length !== 1) fail(where, `the operation '${layerName}' has ${calls.length} calls instead of one`);
  const keywords = Object.keys(call!.kwargs);
  if (keywords.length > 0) {
    throw new UnsupportedModelError(`${describe} is called with the keyword argument ${keywords[0]}; operations load with positional arguments only.`);
  }
  const operands = call!.args.map((arg) => (isTensorRecord(arg) ? null : arg));
  const layer = buildKerasOperation(module, entry.class_name, entry.config, operands, describe);
  return { kerasClass: entry.class_name, layer, operation: true };
}

function isTensorRecord(value: unknown): value is { config: { keras_history: unknown } } {
  return (value as { class_name?: unknown } | null)?.class_name === '__keras_tensor__';
}

/** An operation's tensor arguments in order; undefined while one of them is not computed yet. */
function operationInputs(
  call: KerasCall,
  tensorOf: (history: unknown) => tfl.SymbolicTensor | undefined,
): tfl.SymbolicTensor | tfl.SymbolicTensor[] | undefined {
  const tensors = call.args.filter(isTensorRecord).map((record) => tensorOf(record.config.keras_history));
  if (tensors.some((tensor) => tensor === undefined)) return undefined;
  return tensors.length === 1 ? tensors[0] : (tensors as tfl.SymbolicTensor[]);
}

/** A layer call's tensor argument: one tensor or a list (merge layers); undefined while one of them is not computed yet. */
function callInputs(
  call: KerasCall,
  tensorOf: (history: unknown) => tfl.SymbolicTensor | undefined,
): tfl.SymbolicTensor | tfl.SymbolicTensor[] | undefined {
  const [argument] = call.args;
  const records = Array.isArray(argument) ? argument : [argument];
  const tensors = records.map((record) => tensorOf((record as { config?: { keras_history?: unknown } })?.config?.keras_history));
  if (tensors.some((tensor) => tensor === undefined)) return undefined;
  return Array.isArray(argument) ? (tensors as tfl.SymbolicTensor[]) : tensors[0];
}

/**
 * Keras 3's `{args, kwargs}`, or tf.keras's node: a list of `[layer, node, tensor, kwargs]` entries, one per
 * input tensor (several for a merge layer), the call's keyword arguments in each entry.
 */
function kerasCall(call: unknown, layerName: string, where: string): KerasCall {
  if (Array.isArray(call)) {
    const entries = call.map((entry) => {
      if (!Array.isArray(entry) || entry.length < 3) fail(where, `layer '${layerName}' has an inbound node entry ${formatValue(entry)} instead of [layer, node, tensor, kwargs]`);
      return { record: { class_name: '__keras_tensor__', config: { keras_history: entry.slice(0, 3) } }, kwargs: (entry[3] ?? {}) as Record<string, unknown> };
    });
    if (entries.length === 0) fail(where, `layer '${layerName}' has an empty inbound node`);
    return { args: [entries.length === 1 ? entries[0]!.record : entries.map(({ record }) => record)], kwargs: entries[0]!.kwargs };
  }
  if (typeof call !== 'object' || call === null) fail(where, `layer '${layerName}' has an inbound node ${formatValue(call)}`);
  const { args, kwargs = {} } = call as Partial<KerasCall>;
  if (!Array.isArray(args)) fail(where, `layer '${layerName}' is called without an args list`);
  return { args, kwargs };
}

/**
 * A layer takes one tensor argument (a list for merge layers). `training` is left to tfjs (predict runs in
 * inference mode; a frozen BatchNormalization keeps its statistics in fit too) and `mask` must be null.
 */
function checkLayerCall({ args, kwargs }: KerasCall, layerName: string, where: string): void {
  if (args.length !== 1) fail(where, `layer '${layerName}' is called with ${args.length} positional arguments instead of one tensor argument`);
  for (const [key, value] of Object.entries(kwargs)) {
    if ((key === 'training' && (typeof value === 'boolean' || value === null)) || (key === 'mask' && value === null)) continue;
    throw new UnsupportedModelError(
      `Layer '${layerName}' in ${where} is called with ${key}=${formatValue(value)}; supported call arguments: training, and mask=null.`,
    );
  }
}

/** Keras writes one `[name, node, index]` triple for a single tensor and a list of them for several. */
function triples(value: unknown, what: string, where: string): unknown[] {
  if (!Array.isArray(value)) fail(where, `${what} is missing`);
  return typeof value[0] === 'string' ? [value] : value;
}

function layerEntries(entry: KerasLayerConfig, where: string): KerasLayerConfig[] {
  const layers = Array.isArray(entry.config) ? entry.config : entry.config.layers;
  if (!Array.isArray(layers)) fail(where, `model '${String(entry.config.name)}' has no layers list`);
  return layers.map((layer) => asEntry(layer, where));
}

function asEntry(value: unknown, where: string): KerasLayerConfig {
  const entry = value as KerasLayerConfig;
  if (typeof entry?.class_name !== 'string' || typeof entry.config !== 'object' || entry.config === null) {
    fail(where, `a layer entry has no class_name and config: ${JSON.stringify(value)?.slice(0, 200)}`);
  }
  return entry;
}

function fail(where: string, problem: string): never {
  throw new WeightsFileError(`The model config in ${where} is not one Keras writes: ${problem}.`);
}
