// The 'tfjs-fused' engine: a LayersModel's graph run for prediction only. BatchNormalization is folded into the
// Conv2D / DepthwiseConv2D / SeparableConv2D / Dense before it, bias and a following activation go into the
// same tf.fused kernel, Add runs as tf.add, Dropout is skipped; every other layer runs as itself, in the
// model's topological order.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Layer, Node, SymbolicTensor } from '@tensorflow/tfjs-layers/dist/engine/topology';
import { ArgumentError } from '../errors';
import { checkLayersModel, checkNotDisposed, checkSingleInput, inputChecker } from './checks';
import type { Predictor } from './types';

/** What the rewriting did, for tests and for reports. */
export interface FusionSummary {
  /** Layer calls in the model's graph, input layers left out. */
  layerCalls: number;
  /** tf.fused kernels replacing a convolution or Dense and what was folded into it. */
  fusedKernels: number;
  foldedBatchNorms: number;
  /** Activation layers (Activation, ReLU) merged into the kernel before them. */
  fusedActivations: number;
  skippedDropouts: number;
  /** Add layers run as one tf.add (and a ReLU after them as tf.relu), without the layer's copy of its input. */
  fusedAdds: number;
  /** Layers that run as themselves. */
  layerSteps: number;
}

export interface FusedPredictor extends Predictor {
  readonly engine: 'tfjs-fused';
  readonly summary: FusionSummary;
}

type FusedActivation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'elu';
const FUSABLE_ACTIVATIONS = new Set<string>(['linear', 'relu', 'relu6', 'sigmoid', 'elu']);

interface Call {
  layer: Layer;
  node: Node;
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor[];
}

/** One operation of the plan: reads tensors by id, writes tensors by id. */
interface Step {
  inputs: number[];
  outputs: number[];
  run: (inputs: tf.Tensor[]) => tf.Tensor[];
}

type KernelOp = 'conv2d' | 'depthwiseConv2d' | 'separableConv2d' | 'matMul';

/**
 * The kernel of a Conv2D, DepthwiseConv2D, SeparableConv2D or Dense that tf.fused can run, with its weights.
 * For SeparableConv2D, `kernel` is the pointwise half (what BatchNormalization folds into) and `depthwise` the
 * other.
 */
interface Fusable {
  op: KernelOp;
  kernel: tf.Tensor;
  depthwise?: tf.Tensor;
  bias: tf.Tensor | null;
  activation: string;
  strides: [number, number];
  pad: 'valid' | 'same';
  dilations: [number, number];
}

/**
 * Prepares `model` for prediction on the current tfjs backend. The predictor is a snapshot: folded weights are
 * copies, so compile again after training or loading other weights. It needs `model` alive (unfolded layers
 * run as themselves); `dispose()` frees only the folded copies.
 */
export function fusedPredictor(model: tfl.LayersModel): FusedPredictor {
  checkLayersModel('fusedPredictor', model);
  checkSingleInput('tfjs-fused', model);
  const checkInput = inputChecker(model);
  const calls = topologicalCalls(model);
  const plan = planSteps(model, calls);
  const inputId = model.inputs[0]!.id;
  const lastUse = lastUses(plan.steps, plan.outputs);
  let disposed = false;
  return {
    engine: 'tfjs-fused',
    summary: plan.summary,
    // Async, so that a refused input or a disposed predictor rejects the promise rather than throwing.
    async predict(x: tf.Tensor): Promise<tf.Tensor | tf.Tensor[]> {
      checkNotDisposed('tfjs-fused', disposed);
      checkInput(x);
      return run(plan.steps, inputId, x, plan.outputs, lastUse);
    },
    dispose(): void {
      disposed = true;
      for (const tensor of plan.owned) tensor.dispose();
    },
  };
}

/** Every layer call between the model's input and outputs, each after the calls it reads from. */
function topologicalCalls(model: tfl.LayersModel): Call[] {
  const inputIds = new Set(model.inputs.map((t) => t.id));
  const seen = new Set<Node>();
  const order: Call[] = [];
  const visit = (tensor: SymbolicTensor): void => {
    if (inputIds.has(tensor.id)) return;
    const layer = tensor.sourceLayer;
    const node = layer.inboundNodes[tensor.nodeIndex]!;
    if (seen.has(node)) return;
    seen.add(node);
    if (node.inputTensors.length === 0) {
      throw new ArgumentError(`model: '${layer.name}' is an input the model does not declare`);
    }
    node.inputTensors.forEach(visit);
    order.push({ layer, node, inputs: node.inputTensors, outputs: node.outputTensors });
  };
  (model.outputs as SymbolicTensor[]).forEach(visit);
  return order;
}

function planSteps(model: tfl.LayersModel, calls: Call[]) {
  const consumers = new Map<number, Call[]>();
  for (const call of calls) for (const input of call.inputs) consumers.set(input.id, [...(consumers.get(input.id) ?? []), call]);
  const modelOutputs = new Set(model.outputs.map((t) => t.id));
  /** The only call reading `call`'s single output, when nothing else (and no model output) needs that tensor. */
  const soleConsumer = (call: Call): Call | undefined => {
    if (call.outputs.length !== 1 || modelOutputs.has(call.outputs[0]!.id)) return undefined;
    const readers = consumers.get(call.outputs[0]!.id) ?? [];
    return readers.length === 1 && readers[0]!.inputs.length === 1 ? readers[0] : undefined;
  };

  const alias = new Map<number, number>();
  const resolve = (id: number): number => alias.get(id) ?? id;
  const absorbed = new Set<Call>();
  const steps: Step[] = [];
  const owned: tf.Tensor[] = [];
  const summary: FusionSummary = {
    layerCalls: calls.length,
    fusedKernels: 0,
    foldedBatchNorms: 0,
    fusedActivations: 0,
    skippedDropouts: 0,
    fusedAdds: 0,
    layerSteps: 0,
  };

  for (const call of calls) {
    if (absorbed.has(call)) continue;
    const className = call.layer.getClassName();
    if (className === 'Dropout' || className === 'SpatialDropout2D') {
      alias.set(call.outputs[0]!.id, resolve(call.inputs[0]!.id));
      summary.skippedDropouts++;
      continue;
    }
    if (isPlainAdd(call)) {
      const next = soleConsumer(call);
      const relu = next && fusableActivation(next.layer) === 'relu' ? next : undefined;
      if (relu) absorbed.add(relu);
      steps.push({
        inputs: call.inputs.map((t) => resolve(t.id)),
        outputs: [(relu ?? call).outputs[0]!.id],
        run: (xs) => {
          const sum = xs.reduce((a, b) => tf.add(a, b));
          return [relu ? tf.relu(sum) : sum];
        },
      });
      summary.fusedAdds++;
      continue;
    }
    const fusable = call.inputs.length === 1 ? fusableKernel(call.layer, call.inputs[0]!.rank) : undefined;
    if (!fusable) {
      const { layer } = call;
      const callArgs = { ...(call.node.callArgs ?? {}), training: false };
      steps.push({
        inputs: call.inputs.map((t) => resolve(t.id)),
        outputs: call.outputs.map((t) => t.id),
        run: (xs) => {
          const out = layer.apply(xs.length === 1 ? xs[0]! : xs, callArgs) as tf.Tensor | tf.Tensor[];
          return Array.isArray(out) ? out : [out];
        },
      });
      summary.layerSteps++;
      continue;
    }
    let last = call;
    let { kernel, bias } = fusable;
    let activation = fusable.activation;
    const next = soleConsumer(last);
    if (activation === 'linear' && next && isFoldableBatchNorm(next.layer, call.inputs[0]!.rank)) {
      ({ kernel, bias } = foldBatchNorm(kernel, bias, fusable.op, next.layer));
      owned.push(kernel, bias!);
      absorbed.add(next);
      last = next;
      summary.foldedBatchNorms++;
    }
    const after = soleConsumer(last);
    const merged = activation === 'linear' && after ? fusableActivation(after.layer) : undefined;
    if (after && merged) {
      activation = merged;
      absorbed.add(after);
      last = after;
      summary.fusedActivations++;
    }
    const kernelStep = { ...fusable, kernel, bias, activation: activation as FusedActivation };
    steps.push({
      inputs: [resolve(call.inputs[0]!.id)],
      outputs: [last.outputs[0]!.id],
      run: ([x]) => [runKernel(kernelStep, x!)],
    });
    summary.fusedKernels++;
  }
  const outputs = model.outputs.map((t) => resolve(t.id));
  return { steps, outputs, owned, summary };
}

function fusableKernel(layer: Layer, inputRank: number): Fusable | undefined {
  const config = layer.getConfig() as Record<string, unknown>;
  const className = layer.getClassName();
  const activation = String(config['activation'] ?? 'linear');
  if (!FUSABLE_ACTIVATIONS.has(activation)) return undefined;
  const weights = layer.getWeights();
  if (weights.length === 0) return undefined;
  if (className === 'Dense') {
    const [kernel, bias = null] = weights;
    return { op: 'matMul', kernel: kernel!, bias, activation, strides: [1, 1], pad: 'valid', dilations: [1, 1] };
  }
  const ops: Record<string, KernelOp> = { Conv2D: 'conv2d', DepthwiseConv2D: 'depthwiseConv2d', SeparableConv2D: 'separableConv2d' };
  const op = ops[className];
  // GroupedConv2D registers as Conv2D; with groups > 1 tf.fused.conv2d cannot run it.
  const groups = (layer as { groups?: number }).groups ?? 1;
  if (!op || groups !== 1 || inputRank !== 4 || config['dataFormat'] !== 'channelsLast') return undefined;
  const padding = config['padding'];
  if (padding !== 'valid' && padding !== 'same') return undefined;
  const [depthwise, kernel, bias = null] = op === 'separableConv2d' ? weights : [undefined, ...weights];
  return {
    op,
    kernel: kernel!,
    depthwise,
    bias,
    activation,
    strides: pair(config['strides']),
    pad: padding,
    dilations: pair(config['dilationRate']),
  };
}

function pair(value: unknown): [number, number] {
  return Array.isArray(value) ? [value[0] as number, value[1] as number] : [value as number, value as number];
}

/** A BatchNormalization over the last axis, the only layer reading a kernel's output. */
function isFoldableBatchNorm(layer: Layer, rank: number): boolean {
  if (layer.getClassName() !== 'BatchNormalization') return false;
  const axis = (layer.getConfig() as { axis: number | number[] }).axis;
  const axes = Array.isArray(axis) ? axis : [axis];
  return axes.length === 1 && (axes[0] === -1 || axes[0] === rank - 1);
}

/**
 * Inference BatchNormalization is `(y − mean) · γ/√(var + ε) + β` per channel: scaling the kernel's output
 * channels by `γ/√(var + ε)` and moving the rest into the bias gives the same numbers with one pass less.
 * Computed in float64, rounded once.
 */
function foldBatchNorm(kernel: tf.Tensor, bias: tf.Tensor | null, op: Fusable['op'], bn: Layer): { kernel: tf.Tensor; bias: tf.Tensor } {
  const config = bn.getConfig() as { epsilon: number; center: boolean; scale: boolean };
  const weights = bn.getWeights().map((w) => w.dataSync() as Float32Array);
  const gamma = config.scale ? weights.shift()! : undefined;
  const beta = config.center ? weights.shift()! : undefined;
  const [mean, variance] = weights as [Float32Array, Float32Array];
  // Output channels are the kernel's last axis; a depthwise kernel's are its last two (input × multiplier).
  const channels = op === 'depthwiseConv2d' ? kernel.shape[2]! * kernel.shape[3]! : kernel.shape[kernel.shape.length - 1]!;
  const scale = new Float64Array(channels);
  const folded = new Float32Array(channels);
  const oldBias = bias?.dataSync();
  for (let c = 0; c < channels; c++) {
    scale[c] = (gamma ? gamma[c]! : 1) / Math.sqrt(variance[c]! + config.epsilon);
    folded[c] = ((oldBias ? oldBias[c]! : 0) - mean[c]!) * scale[c]! + (beta ? beta[c]! : 0);
  }
  const values = kernel.dataSync();
  const scaled = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) scaled[i] = values[i]! * scale[i % channels]!;
  return { kernel: tf.tensor(scaled, kernel.shape), bias: tf.tensor1d(folded) };
}

/** The tf.fused activation an Activation or ReLU layer computes, if it has one. */
function fusableActivation(layer: Layer): FusedActivation | undefined {
  const config = layer.getConfig() as Record<string, unknown>;
  switch (layer.getClassName()) {
    case 'Activation': {
      const name = String(config['activation']);
      return name !== 'linear' && FUSABLE_ACTIVATIONS.has(name) ? (name as FusedActivation) : undefined;
    }
    case 'ReLU':
      if (config['maxValue'] == null) return 'relu';
      return config['maxValue'] === 6 ? 'relu6' : undefined;
    default:
      return undefined;
  }
}

/** Keras's Add of same-shaped tensors: tfjs-layers copies its first input before adding, tf.add does not. */
function isPlainAdd(call: Call): boolean {
  if (call.layer.getClassName() !== 'Add' || call.inputs.length < 2) return false;
  const shape = JSON.stringify(call.inputs[0]!.shape);
  return call.inputs.every((t) => JSON.stringify(t.shape) === shape);
}

/** For each tensor id, the index of the last step reading it, so intermediates are freed as early as tfjs does. */
function lastUses(steps: Step[], outputs: number[]): Map<number, number> {
  const last = new Map<number, number>();
  steps.forEach((step, index) => {
    for (const id of step.inputs) last.set(id, index);
  });
  for (const id of outputs) last.set(id, Infinity);
  return last;
}

function run(steps: Step[], inputId: number, x: tf.Tensor, outputs: number[], lastUse: Map<number, number>): tf.Tensor | tf.Tensor[] {
  const values = new Map<number, tf.Tensor>([[inputId, x]]);
  try {
    runSteps(steps, inputId, values, lastUse);
  } catch (error) {
    // A layer failed on the input: free what was computed, never the caller's input.
    for (const [id, tensor] of values) if (id !== inputId) tensor.dispose();
    throw error;
  }
  const result = outputs.map((id) => (id === inputId ? x.clone() : values.get(id)!));
  return result.length === 1 ? result[0]! : result;
}

function runSteps(steps: Step[], inputId: number, values: Map<number, tf.Tensor>, lastUse: Map<number, number>): void {
  const read = (id: number): tf.Tensor => values.get(id)!;
  steps.forEach((step, index) => {
    const results = tf.tidy(() => step.run(step.inputs.map(read)));
    step.outputs.forEach((id, i) => {
      // An output nothing reads (another output of a multi-output layer) is freed at once.
      if (lastUse.has(id)) values.set(id, results[i]!);
      else results[i]!.dispose();
    });
    // A set: a layer may read one tensor twice (Add(x, x)), which is freed once.
    for (const id of new Set(step.inputs)) {
      if (lastUse.get(id) === index && id !== inputId) {
        values.get(id)!.dispose();
        values.delete(id);
      }
    }
  });
}

function runKernel(step: Fusable & { activation: FusedActivation }, x: tf.Tensor): tf.Tensor {
  const { kernel: filter, bias, activation, strides, pad, dilations } = step;
  if (step.op === 'conv2d') {
    return tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, bias: bias ?? undefined, activation, strides, pad, dilations });
  }
  if (step.op === 'depthwiseConv2d') {
    return tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, bias: bias ?? undefined, activation, strides, pad, dilations });
  }
  if (step.op === 'separableConv2d') {
    // What tf.separableConv2d computes, with the pointwise half fused with bias and activation.
    const spatial = tf.depthwiseConv2d(x as tf.Tensor4D, step.depthwise as tf.Tensor4D, strides, pad, 'NHWC', dilations);
    return tf.fused.conv2d({ x: spatial, filter: filter as tf.Tensor4D, bias: bias ?? undefined, activation, strides: 1, pad: 'valid' });
  }
  // Dense applies to the last axis of any rank: run it as one matrix product.
  const units = filter.shape[1]!;
  const flat = tf.reshape(x, [-1, x.shape[x.shape.length - 1]!]) as tf.Tensor2D;
  const y = tf.fused.matMul({ a: flat, b: filter as tf.Tensor2D, bias: bias ?? undefined, activation });
  return tf.reshape(y, [...x.shape.slice(0, -1), units]);
}
