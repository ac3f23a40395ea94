// A Keras 3 model config (a .keras archive's config.json, a full-model .h5's model_config) → a tfjs model:
// Sequential and Functional models, several inputs and outputs, shared layers (one layer called several times)
// and nested models, each layer named and (un)frozen as in the config.
import * as tfl from '@tensorflow/tfjs-layers';
import { formatValue } from '../arguments';
import { UnsupportedModelError, WeightsFileError } from '../errors';
import { buildKerasLayer, checkFloat32, type KerasLayerConfig } from './keras-layers';
import { kerasOrigin, recordKerasOrigin } from './keras-origin';

/** A built layer with its Keras class; a nested model lists its own layers in the config's order. */
export interface BuiltLayer {
  kerasClass: string;
  layer: tfl.layers.Layer;
  inner?: BuiltLayer[];
}

const MODEL_CLASSES = ['Functional', 'Sequential'];

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
  const name = String(entry.config.name);
  const [first] = entries;
  let input: tfl.layers.Layer;
  if (first?.class_name === 'InputLayer') {
    input = inputLayer(first, where).sourceLayer as tfl.layers.Layer;
  } else if (Array.isArray(entry.config.build_input_shape)) {
    input = tfl.input({ batchShape: entry.config.build_input_shape as number[] }).sourceLayer as tfl.layers.Layer;
  } else {
    throw new WeightsFileError(`The Sequential model '${name}' in ${where} has no InputLayer and no build_input_shape: its input shape is unknown.`);
  }
  const inner = entries.filter((layer) => layer.class_name !== 'InputLayer').map((layer) => buildEntry(layer, where));
  const model = tfl.sequential({ name, layers: [input, ...inner.map((built) => built.layer)] });
  return { kerasClass: 'Sequential', layer: model, inner };
}

/** Keras 3's call of a layer: positional `args` and `kwargs`, tensors as `__keras_tensor__` records. */
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
    const built = buildEntry(layerEntry, where);
    inner.push(built);
    nodeOutputs.set(layerName, []);
    pending.push({ built, name: layerName, calls: (layerEntry.inbound_nodes ?? []).map((call) => kerasCall(call, layerName, where)) });
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
        const inputs = callInputs(calls[done.length]!, (history) => tensorOf(history, `layer '${layerName}'`));
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

/** A call's tensor argument: one tensor or a list (merge layers); undefined while one of them is not computed yet. */
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
 * Keras 3's `{args, kwargs}`. `training` is left to tfjs (predict runs in inference mode; a frozen
 * BatchNormalization keeps its statistics in fit too) and `mask` must be null; tf.keras's list form is refused.
 */
function kerasCall(call: unknown, layerName: string, where: string): KerasCall {
  if (Array.isArray(call) || typeof call !== 'object' || call === null) {
    throw new UnsupportedModelError(
      `Layer '${layerName}' in ${where} has inbound_nodes in the Keras 2 / tf.keras form; loadKerasModel reads the files Keras 3 writes.`,
    );
  }
  const { args, kwargs = {} } = call as Partial<KerasCall>;
  if (!Array.isArray(args) || args.length !== 1) fail(where, `layer '${layerName}' is called with ${formatValue(args)} instead of one tensor argument`);
  for (const [key, value] of Object.entries(kwargs)) {
    if ((key === 'training' && (typeof value === 'boolean' || value === null)) || (key === 'mask' && value === null)) continue;
    throw new UnsupportedModelError(
      `Layer '${layerName}' in ${where} is called with ${key}=${formatValue(value)}; supported call arguments: training, and mask=null.`,
    );
  }
  return { args, kwargs };
}

/** Keras writes one `[name, node, index]` triple for a single tensor and a list of them for several. */
function triples(value: unknown, what: string, where: string): unknown[] {
  if (!Array.isArray(value)) fail(where, `${what} is missing`);
  return typeof value[0] === 'string' ? [value] : value;
}

function layerEntries(entry: KerasLayerConfig, where: string): KerasLayerConfig[] {
  const layers = entry.config.layers;
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
