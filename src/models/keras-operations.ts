// Keras 3 operations in a functional graph: `x + y`, `x * 0.5`, `-x`, `keras.ops.relu(x)` are recorded as
// classes of `keras.src.ops.*`, not as layers. tfjs needs a layer for each, so every such node becomes one
// weightless KerasOperation holding its operation and its constant arguments. Only elementwise operations whose
// tfjs kernel computes what Keras's does are listed; any other is refused, naming the operation.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { formatValue } from '../arguments';
import { UnsupportedModelError } from '../errors';

type Binary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
type Unary = (x: tf.Tensor) => tf.Tensor;

/** Keras's `hard_sigmoid`: relu6(x + 3) / 6 (tfjs's hardSigmoid is another function). */
const hardSigmoid: Unary = (x) => tf.div(tf.relu6(tf.add(x, 3)), 6);

/** Operations by `<module>.<class>` (the module without `keras.src.ops.`), binary ones taking two arguments. */
const BINARY: Record<string, Binary> = {
  'numpy.Add': tf.add,
  'numpy.Subtract': tf.sub,
  'numpy.Multiply': tf.mul,
  'numpy.Divide': tf.div,
  'numpy.TrueDivide': tf.div,
  'numpy.Maximum': tf.maximum,
  'numpy.Minimum': tf.minimum,
  'numpy.Power': tf.pow,
};
const UNARY: Record<string, Unary> = {
  'numpy.Negative': tf.neg,
  'numpy.Absolute': tf.abs,
  'numpy.Square': tf.square,
  'numpy.Sqrt': tf.sqrt,
  'numpy.Exp': tf.exp,
  'numpy.Log': tf.log,
  'numpy.Tanh': tf.tanh,
  'nn.Relu': tf.relu,
  'nn.Relu6': tf.relu6,
  'nn.Sigmoid': tf.sigmoid,
  'nn.Silu': (x) => tf.mul(x, tf.sigmoid(x)),
  'nn.HardSigmoid': hardSigmoid,
  'nn.HardSilu': (x) => tf.mul(x, hardSigmoid(x)),
};

export const OPERATION_MODULE = 'keras.src.ops.';

/** The supported operations as Keras names them, for error messages and the docs. */
export const SUPPORTED_OPERATIONS: readonly string[] = [...Object.keys(BINARY), ...Object.keys(UNARY)];

/**
 * The `keras.src.ops.*` module of an operation node, or undefined for a layer. A legacy `.h5` that Keras 3
 * writes leaves the module out: an operation is then a known operation class whose config holds only its name
 * (a layer's config always holds `trainable` and `dtype` too; Keras's own loader fails on such a file).
 */
export function operationModule(entry: { class_name: string; module?: string; config: Record<string, unknown> }): string | undefined {
  if (entry.module !== undefined) return entry.module.startsWith(OPERATION_MODULE) ? entry.module : undefined;
  const onlyName = Object.keys(entry.config).join() === 'name';
  const key = SUPPORTED_OPERATIONS.find((operation) => operation.endsWith(`.${entry.class_name}`));
  return onlyName && key ? OPERATION_MODULE + key.slice(0, key.indexOf('.')) : undefined;
}

export interface KerasOperationArgs {
  name: string;
  /** `<module>.<class>`, a key of the tables above. */
  operation: string;
  /** The call's positional arguments: a number for a constant, null where a tensor goes (in input order). */
  operands: (number | null)[];
}

export class KerasOperation extends tfl.layers.Layer {
  static className = 'KerasOperation';
  readonly operation: string;
  readonly operands: (number | null)[];

  constructor(args: KerasOperationArgs) {
    super({ name: args.name });
    this.operation = args.operation;
    this.operands = args.operands;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shapes = (Array.isArray(inputShape[0]) || inputShape.length === 0 ? inputShape : [inputShape]) as tfl.Shape[];
    // Broadcasting: the longer shape's leading dims, then the larger of each aligned pair (None stays None).
    const rank = Math.max(...shapes.map((shape) => shape.length));
    return Array.from({ length: rank }, (_, axis) => {
      const dims = shapes.map((shape) => shape[axis - rank + shape.length]).filter((dim) => dim !== undefined);
      return dims.some((dim) => dim === null) ? null : Math.max(...(dims as number[]));
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const tensors = Array.isArray(inputs) ? [...inputs] : [inputs];
    return tf.tidy(() => {
      const values = this.operands.map((operand) => (operand === null ? tensors.shift()! : tf.scalar(operand)));
      const binary = BINARY[this.operation];
      return binary ? binary(values[0]!, values[1]!) : UNARY[this.operation]!(values[0]!);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), operation: this.operation, operands: this.operands };
  }
}
tf.serialization.registerClass(KerasOperation);

/**
 * The layer for an operation node: `args` is its one call's positional arguments, tensors already replaced by
 * null. `describe` names the node in errors.
 */
export function buildKerasOperation(
  module: string,
  className: string,
  config: Record<string, unknown>,
  args: unknown[],
  describe: string,
): KerasOperation {
  const operation = `${module.slice(OPERATION_MODULE.length)}.${className}`;
  const arity = operation in BINARY ? 2 : operation in UNARY ? 1 : undefined;
  if (arity === undefined) {
    throw new UnsupportedModelError(
      `${describe} is the Keras operation ${module}.${className}, which loadKerasModel does not support. ` +
        `Supported operations (keras.src.ops.*): ${SUPPORTED_OPERATIONS.join(', ')}.`,
    );
  }
  const options = Object.keys(config).filter((option) => option !== 'name');
  if (options.length > 0) {
    throw new UnsupportedModelError(`${describe}: option '${options[0]}' = ${formatValue(config[options[0]!])} of the operation ${className} is not supported.`);
  }
  if (args.length !== arity || args.some((arg) => arg !== null && typeof arg !== 'number')) {
    throw new UnsupportedModelError(
      `${describe}: the operation ${className} is called with ${formatValue(args.map((arg) => (arg === null ? 'a tensor' : arg)))}; ` +
        `it loads with ${arity} argument${arity > 1 ? 's' : ''}, each a tensor or a number.`,
    );
  }
  return new KerasOperation({ name: String(config.name), operation, operands: args as (number | null)[] });
}
