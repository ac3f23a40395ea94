// A new classifier on a base model, as Keras's transfer-learning guide builds it: global pooling, optional
// Dropout, a Dense `predictions` layer. The new model shares the base's layers (names, weights, frozen state),
// so training it trains the base wherever the base is trainable.
import * as tfl from '@tensorflow/tfjs-layers';
import { checkOptionNames, formatValue, validateInteger } from '../arguments';
import { ArgumentError } from '../errors';
import { freeze } from './freeze';

export type HeadPooling = 'avg' | 'max' | 'flatten';
export type HeadActivation = 'softmax' | 'sigmoid';

export interface NewHeadOptions {
  /** Number of outputs of the `predictions` layer. */
  classes: number;
  /** `'softmax'` (default), `'sigmoid'` (multi-label, or one class for two), or `null` for logits. */
  activation?: HeadActivation | null;
  /** Rate of a Dropout before `predictions`, in [0, 1); 0 (default) leaves it out. tfjs's Dropout is not seeded. */
  dropout?: number;
  /**
   * How a feature map becomes a vector: `'avg'` (default for a feature map), `'max'` or `'flatten'`;
   * `null` when the features are already a vector (a base built with `pooling`), the default then.
   */
  pooling?: HeadPooling | null;
  /** The layer the head goes on (default the base's output); layers after it, an old head, are left out. */
  after?: string;
  /** Seed of the `predictions` kernel's Glorot-uniform initializer, for reproducible runs. */
  seed?: number;
  /** The new model's name; default the base's. */
  name?: string;
}

const OPTION_NAMES = ['classes', 'activation', 'dropout', 'pooling', 'after', 'seed', 'name'];
const POOLING_LAYERS: Record<HeadPooling, (name: string) => tfl.layers.Layer> = {
  avg: (name) => tfl.layers.globalAveragePooling2d({ name }),
  max: (name) => tfl.layers.globalMaxPooling2d({ name }),
  flatten: (name) => tfl.layers.flatten({ name }),
};
const POOLING_NAMES: Record<HeadPooling, string> = { avg: 'avg_pool', max: 'max_pool', flatten: 'flatten' };

function headFeatures(base: tfl.LayersModel, after: unknown): tfl.SymbolicTensor {
  if (after === undefined) {
    if (base.outputs.length !== 1) {
      throw new ArgumentError(`\`after\` must name the layer to build on: model '${base.name}' has ${base.outputs.length} outputs.`);
    }
    return base.outputs[0]!;
  }
  const layer = base.layers.find((candidate) => candidate.name === after);
  if (typeof after !== 'string' || !layer) {
    throw new ArgumentError(`\`after\` must be the name of one of the layers of model '${base.name}'. Received: after=${formatValue(after)}`);
  }
  return layer.output as tfl.SymbolicTensor;
}

function resolvePooling(pooling: unknown, rank: number): HeadPooling | null {
  const allowed: (HeadPooling | null)[] = rank === 4 ? ['avg', 'max', 'flatten'] : [null];
  const resolved = pooling === undefined ? (rank === 4 ? 'avg' : null) : pooling;
  if (!allowed.includes(resolved as HeadPooling | null)) {
    throw new ArgumentError(
      `\`pooling\` must be one of ${allowed.map(formatValue).join(', ')} for features of rank ${rank}. Received: pooling=${formatValue(pooling)}`,
    );
  }
  return resolved as HeadPooling | null;
}

function validateOptions(options: NewHeadOptions): void {
  checkOptionNames('withNewHead', options, OPTION_NAMES);
  const { classes, activation, dropout, seed } = options;
  validateInteger('classes', classes, 1);
  if (activation !== undefined && activation !== null && activation !== 'softmax' && activation !== 'sigmoid') {
    throw new ArgumentError(`\`activation\` must be 'softmax', 'sigmoid' or null. Received: activation=${formatValue(activation)}`);
  }
  if (dropout !== undefined && (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1))) {
    throw new ArgumentError(`\`dropout\` must be a number in [0, 1). Received: dropout=${formatValue(dropout)}`);
  }
  if (seed !== undefined && !Number.isInteger(seed)) {
    throw new ArgumentError(`\`seed\` must be an integer. Received: seed=${formatValue(seed)}`);
  }
}

/**
 * `base` with a new classifier: `withNewHead(base, { classes: 5, dropout: 0.2 })` gives
 * base → GlobalAveragePooling2D `avg_pool` → Dropout `top_dropout` → Dense `predictions` (softmax).
 * A base frozen with `base.trainable = false` is frozen layer by layer first, so the state is saved with the model.
 */
export function withNewHead(base: tfl.LayersModel, options: NewHeadOptions): tfl.LayersModel {
  validateOptions(options);
  let x = headFeatures(base, options.after);
  const pooling = resolvePooling(options.pooling, x.shape.length);
  const kept = new Set(tfl.model({ inputs: base.inputs, outputs: x }).layers.map((layer) => layer.name));
  const taken = [pooling && POOLING_NAMES[pooling], options.dropout ? 'top_dropout' : null, 'predictions'].filter((name) => name && kept.has(name));
  if (taken.length > 0) {
    throw new ArgumentError(`Model '${base.name}' already has a layer named ${taken.map(formatValue).join(', ')}: pass \`after\` to replace its head.`);
  }
  if (!base.trainable) freeze(base);
  if (pooling) x = POOLING_LAYERS[pooling](POOLING_NAMES[pooling]).apply(x) as tfl.SymbolicTensor;
  if (options.dropout) x = tfl.layers.dropout({ rate: options.dropout, name: 'top_dropout' }).apply(x) as tfl.SymbolicTensor;
  const predictions = tfl.layers.dense({
    units: options.classes,
    activation: options.activation === null ? 'linear' : (options.activation ?? 'softmax'),
    kernelInitializer: tfl.initializers.glorotUniform({ seed: options.seed }),
    name: 'predictions',
  });
  return tfl.model({ inputs: base.inputs, outputs: predictions.apply(x) as tfl.SymbolicTensor, name: options.name ?? base.name });
}
