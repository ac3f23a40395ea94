// A stand-in for a Keras 3 operation between a tensor and a constant written with an operator in the
// Keras source (`x + 3.0`, `x * (1.0 / 6.0)`): Keras records it as a graph operation, not a layer, so it has
// no Keras layer class; the model is named as Keras names the operation (`add`, `multiply_2`, …).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { formatValue } from '../arguments';
import { ArgumentError } from '../errors';

export type ScalarOperationKind = 'add' | 'multiply';

export interface ScalarOperationArgs {
  operation: ScalarOperationKind;
  /** The constant, applied in float32 as Keras does. */
  value: number;
  name?: string;
}

export class ScalarOperation extends tfl.layers.Layer {
  static className = 'ScalarOperation';
  readonly operation: ScalarOperationKind;
  readonly value: number;

  constructor(args: ScalarOperationArgs) {
    super({ name: args.name });
    if (args.operation !== 'add' && args.operation !== 'multiply') {
      throw new ArgumentError(`ScalarOperation '${this.name}': \`operation\` must be 'add' or 'multiply'. Received: operation=${formatValue(args.operation)}`);
    }
    if (typeof args.value !== 'number') {
      throw new ArgumentError(`ScalarOperation '${this.name}': \`value\` must be a number. Received: value=${formatValue(args.value)}`);
    }
    this.operation = args.operation;
    this.value = args.value;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    return this.operation === 'add' ? tf.add(input, this.value) : tf.mul(input, this.value);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), operation: this.operation, value: this.value };
  }
}

tf.serialization.registerClass(ScalarOperation);
