// Keras 1 weight files (2015–2016) in today's layout. Keras 1 named each weight after its layer
// (`conv1_W`, `bn1_running_std`, `gru1_W_z`), stored convolution kernels in the model's dim ordering, and
// a Theano-trained file holds true-convolution (flipped) kernels. Keras 2's loader converted such files
// with `preprocess_weights_for_loading`; this does the same for the layers it knows, checked against the
// model's weight shapes, and refuses anything else with the layer's name.
import { WeightsMismatchError } from '../errors';
import type { LayerWeights, WeightTensor, WeightsFile } from './types';

/** The backend a Keras 1 file was trained with: Theano convolves with flipped kernels, TensorFlow correlates. */
export type Keras1Kernels = 'tensorflow' | 'theano';

/** A model layer with weights, as the conversion needs to know it: its name and its weights' shapes in order. */
export interface Keras1Target {
  name: string;
  shapes: readonly (readonly number[])[];
}

export interface ConvertKeras1Options {
  /** The backend the kernels were trained for; read from the file when not given (see `keras1Kernels`). */
  kernels?: Keras1Kernels;
  /** File layers the model knowingly leaves out (e.g. the classifier when built without its top). */
  unused?: readonly string[];
}

/** `W` from `conv1_W`, `conv1_W_1:0` (TensorFlow names), `gru1_W_z:0`; undefined when not the layer's. */
function parameterName(layer: string, weight: string): string | undefined {
  if (!weight.startsWith(`${layer}_`)) return undefined;
  // TensorFlow appends `:0` and, for a name already taken in the graph, `_1`, `_2`, …
  return weight.slice(layer.length + 1).replace(/:\d+$/, '').replace(/_\d+$/, '');
}

/**
 * Whether `file` was written by Keras 1: no Keras 2 `keras_version` (Keras 2 always wrote one) and every
 * weight named `<layer>_<parameter>` rather than Keras 2's `<layer>/<parameter>:0`.
 */
export function isKeras1File(file: WeightsFile): boolean {
  if (file.format !== 'legacy') return false;
  const version = file.attributes.keras_version;
  if (version !== undefined && !version.startsWith('1')) return false;
  const weighted = file.layers.filter((layer) => layer.weights.length > 0);
  return (
    weighted.length > 0 &&
    weighted.every((layer) => layer.weights.every((w) => !w.name.includes('/') && parameterName(layer.name, w.name)))
  );
}

/**
 * The backend a Keras 1 file's kernels are for. Keras 1 recorded no backend, but its weight names are the
 * backend's variable names: TensorFlow's end in `:0` (`conv1_W_1:0`), Theano's shared variables carry the bare
 * name (`conv1_W`). A `backend` attribute, where a file has one, takes precedence.
 */
export function keras1Kernels(file: WeightsFile): Keras1Kernels {
  const backend = file.attributes.backend;
  if (backend === 'theano' || backend === 'tensorflow') return backend;
  const names = file.layers.flatMap((layer) => layer.weights.map((w) => w.name));
  return names.some((name) => /:\d+$/.test(name)) ? 'tensorflow' : 'theano';
}

type Parameters = Map<string, WeightTensor>;

/** How one kind of Keras 1 layer maps to Keras 2: its parameter names and the conversion. */
interface LayerKind {
  parameters: string[];
  convert(p: Parameters, layout: Layout): WeightTensor[];
}

/** What holds for the whole file: the backend of its kernels and the dim ordering of its convolutions. */
interface Layout {
  kernels: Keras1Kernels;
  dimOrdering: DimOrdering;
}

/** Keras 1's `image_dim_ordering`: 'th' kernels are (out, in, rows, cols), 'tf' ones (rows, cols, in, out). */
type DimOrdering = 'th' | 'tf';

const GRU_GATES = ['z', 'r', 'h'];

const KINDS: LayerKind[] = [
  { parameters: ['W', 'b'], convert: (p, layout) => [kernel(p.get('W')!, layout), named(p.get('b')!, 'bias')] },
  { parameters: ['W'], convert: (p, layout) => [kernel(p.get('W')!, layout)] },
  {
    // Keras ≥ 1.1 kept the moving variance under the name running_std (K.batch_normalization takes a variance).
    parameters: ['gamma', 'beta', 'running_mean', 'running_std'],
    convert: (p) => [
      named(p.get('gamma')!, 'gamma'),
      named(p.get('beta')!, 'beta'),
      named(p.get('running_mean')!, 'moving_mean'),
      named(p.get('running_std')!, 'moving_variance'),
    ],
  },
  {
    // Keras 2 and tfjs concatenate the gates' matrices in the order z, r, h along the last axis.
    parameters: GRU_GATES.flatMap((g) => [`W_${g}`, `U_${g}`, `b_${g}`]),
    convert: (p) => [
      concatLast(GRU_GATES.map((g) => p.get(`W_${g}`)!), 'kernel'),
      concatLast(GRU_GATES.map((g) => p.get(`U_${g}`)!), 'recurrent_kernel'),
      concatLast(GRU_GATES.map((g) => p.get(`b_${g}`)!), 'bias'),
    ],
  },
];

function named(weight: WeightTensor, name: string): WeightTensor {
  return { name, shape: weight.shape, data: weight.data };
}

/** Dense kernels are stored as they are used; convolution kernels go to (rows, cols, in, out), unflipped. */
function kernel(weight: WeightTensor, layout: Layout): WeightTensor {
  if (weight.shape.length !== 4) return named(weight, 'kernel');
  const ordered = layout.dimOrdering === 'th' ? transpose(weight, [2, 3, 1, 0]) : weight;
  return named(layout.kernels === 'theano' ? flipSpatial(ordered) : ordered, 'kernel');
}

function transpose(weight: WeightTensor, axes: number[]): WeightTensor {
  const { shape, data } = weight;
  const outShape = axes.map((a) => shape[a]!);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const outStrides = axes.map((a) => strides[a]!);
  const out = new Float32Array(data.length);
  const index = new Array<number>(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let at = 0;
    for (let d = 0; d < index.length; d++) at += index[d]! * outStrides[d]!;
    out[o] = data[at]!;
    for (let d = index.length - 1; d >= 0 && ++index[d]! === outShape[d]; d--) index[d] = 0;
  }
  return { name: weight.name, shape: outShape, data: out };
}

/** Keras's `convert_kernel` for a (rows, cols, in, out) kernel: a Theano convolution is a correlation with it flipped. */
function flipSpatial(weight: WeightTensor): WeightTensor {
  const [rows, cols, inner, outer] = weight.shape as [number, number, number, number];
  const block = inner * outer;
  const out = new Float32Array(weight.data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const from = ((rows - 1 - r) * cols + (cols - 1 - c)) * block;
      out.set(weight.data.subarray(from, from + block), (r * cols + c) * block);
    }
  }
  return { name: weight.name, shape: weight.shape, data: out };
}

function concatLast(parts: WeightTensor[], name: string): WeightTensor {
  const lead = parts[0]!.shape.slice(0, -1);
  const widths = parts.map((p) => p.shape[p.shape.length - 1]!);
  const width = widths.reduce((a, b) => a + b, 0);
  const rows = lead.reduce((a, b) => a * b, 1);
  const data = new Float32Array(rows * width);
  for (let row = 0; row < rows; row++) {
    let at = row * width;
    parts.forEach((part, i) => {
      data.set(part.data.subarray(row * widths[i]!, (row + 1) * widths[i]!), at);
      at += widths[i]!;
    });
  }
  return { name, shape: [...lead, width], data };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

function describeWeights(layer: LayerWeights): string {
  return layer.weights.map((w) => `${w.name} [${w.shape.join(', ')}]`).join(', ');
}

function parametersOf(layer: LayerWeights): Parameters {
  return new Map(layer.weights.map((w) => [parameterName(layer.name, w.name)!, w]));
}

function kindOf(layer: LayerWeights): LayerKind {
  const names = [...parametersOf(layer).keys()];
  const kind = KINDS.find((k) => k.parameters.length === names.length && k.parameters.every((p) => names.includes(p)));
  if (!kind) {
    throw new WeightsMismatchError(
      `Cannot convert the Keras 1 weights of layer '${layer.name}' (${describeWeights(layer)}): only ` +
        'Convolution2D, Dense, BatchNormalization and GRU weights are known. Nothing was loaded.',
    );
  }
  return kind;
}

/**
 * The dim ordering every convolution kernel of the file fits the model in; 'th' (Keras 1's default) when
 * both fit, e.g. for square kernels with as many inputs as outputs.
 */
function dimOrdering(pairs: [LayerWeights, Keras1Target][]): DimOrdering {
  const convolutions = pairs.filter(([layer]) => layer.weights.some((w) => w.shape.length === 4));
  const fits = (ordering: DimOrdering, [layer, target]: [LayerWeights, Keras1Target]): boolean => {
    const w = parametersOf(layer).get('W')!;
    const shape = ordering === 'th' ? [w.shape[2]!, w.shape[3]!, w.shape[1]!, w.shape[0]!] : w.shape;
    return target.shapes[0] !== undefined && sameShape(shape, target.shapes[0]);
  };
  const ordering = (['th', 'tf'] as const).find((o) => convolutions.every((pair) => fits(o, pair)));
  if (ordering) return ordering;
  const misfit = convolutions.find((pair) => !fits('th', pair) && !fits('tf', pair));
  if (!misfit) {
    throw new WeightsMismatchError(
      "The Keras 1 file's convolution kernels fit the model only in different dim orderings, but Keras 1 used " +
        'one for the whole model. Is the file for another model? Nothing was loaded.',
    );
  }
  const [layer, target] = misfit;
  throw new WeightsMismatchError(
    `The Keras 1 kernel of layer '${layer.name}' (${describeWeights(layer)}) fits the model's kernel ` +
      `[${target.shapes[0]?.join(', ')}] in neither dim ordering. Is the file for another model? Nothing was loaded.`,
  );
}

/**
 * Converts a Keras 1 file (see `isKeras1File`) for the model whose weighted layers are `targets`: layers
 * are matched by name, as Keras 1 applications loaded them (`by_name=True`), and the result is a Keras 2
 * legacy file with `targets`' layers in order (`conv1/kernel:0`, …) and values in the model's layout.
 * @throws WeightsMismatchError naming the layer when a model layer is missing from the file, a file
 *   layer is not in the model, a layer is of a kind this cannot convert, or a shape does not fit.
 */
export function convertKeras1Weights(file: WeightsFile, targets: Keras1Target[], options: ConvertKeras1Options = {}): WeightsFile {
  const saved = new Map(file.layers.filter((l) => l.weights.length > 0).map((l) => [l.name, l]));
  const wanted = new Set(targets.map((t) => t.name));
  const extra = [...saved.keys()].find((name) => !wanted.has(name) && !options.unused?.includes(name));
  if (extra !== undefined) {
    throw new WeightsMismatchError(
      `The Keras 1 weights file has weights for layer '${extra}', which the model does not have. ` +
        'Is the file for another model? Nothing was loaded.',
    );
  }
  const pairs = targets.map((target): [LayerWeights, Keras1Target] => {
    const layer = saved.get(target.name);
    if (!layer) {
      throw new WeightsMismatchError(
        `The Keras 1 weights file has no weights for layer '${target.name}'. Is the file for another model? ` +
          'Nothing was loaded.',
      );
    }
    return [layer, target];
  });
  const kinds = pairs.map(([layer]) => kindOf(layer));
  const layout: Layout = { kernels: options.kernels ?? keras1Kernels(file), dimOrdering: dimOrdering(pairs) };
  const layers = pairs.map(([layer, target], i) => {
    const weights = kinds[i]!.convert(parametersOf(layer), layout);
    const misfit = weights.findIndex((w, i) => !target.shapes[i] || !sameShape(w.shape, target.shapes[i]));
    if (misfit >= 0 || weights.length !== target.shapes.length) {
      const model = target.shapes.map((s) => `[${s.join(', ')}]`).join(', ');
      const converted = weights.map((w) => `${w.name} [${w.shape.join(', ')}]`).join(', ');
      throw new WeightsMismatchError(
        `The Keras 1 weights of layer '${target.name}' (${describeWeights(layer)}, as ${converted}) do not fit ` +
          `the model's weights ${model}. Is the file for another model? Nothing was loaded.`,
      );
    }
    return { name: target.name, weights: weights.map((w) => named(w, `${target.name}/${w.name}:0`)) };
  });
  return { format: 'legacy', attributes: { ...file.attributes }, layers };
}
