// Reading the Keras reference fixtures (test/fixtures/keras-ref/README.md, "Fixture format") and
// comparing a tfjs model with them by the README's equality rule.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { WeightsFile } from '../../src/weights/types';
import { generatedInput, generatedWeight, sampleIndices } from './generator';

export type LayerRecord = [
  name: string,
  className: string,
  outputShape: unknown,
  params: number,
  weights: ([string, number[]] | [string, number[], string])[],
  inbound: number[],
  weightPrefix?: string,
];

export interface Checkpoint {
  index: number;
  name: string;
  shape: number[];
  mean: number;
  std: number;
  samples: number[];
}

export interface FixtureConfig {
  id: string;
  call: string;
  kwargs: Record<string, unknown>;
  structure: {
    n_layers: number;
    total_params: number;
    trainable_params: number;
    non_trainable_params: number;
    input_shape: (number | null)[];
    output_shape: (number | null)[];
    layers: LayerRecord[];
    non_layer_ops: unknown[];
  };
  numerics: {
    input: { shape: number[]; sum: number; first5: number[] };
    weights_checksum: { count: number; sum: number; abs_sum: number };
    output: { shape: number[]; values?: number[]; sample_idx?: number[]; samples?: number[] };
    checkpoints: Checkpoint[];
    all_finite: boolean;
  };
}

export interface Fixture {
  builder: string;
  configs: FixtureConfig[];
}

const FIXTURES = fileURLToPath(new URL('../fixtures/keras-ref/', import.meta.url));

/** A fixture with every config's compact 3-element layer records expanded. */
export function loadFixture(builder: string): Fixture {
  const fixture = JSON.parse(readFileSync(`${FIXTURES}${builder}.json`, 'utf8')) as Fixture;
  const first = fixture.configs[0]!.structure.layers;
  for (const config of fixture.configs) {
    config.structure.layers = config.structure.layers.map((record, i) => {
      if ((record as unknown[]).length !== 3) return record;
      const [name, outputShape, params] = record as unknown as [string, unknown, number];
      const full = first[i]!;
      return [name, full[1], outputShape, params, full[4], full[5], ...(full.length > 6 ? [full[6]] : [])] as LayerRecord;
    });
  }
  return fixture;
}

/** One config of a builder's fixture, by its id. */
export function fixtureConfig(builder: string, id: string): FixtureConfig {
  const config = loadFixture(builder).configs.find((c) => c.id === id);
  if (!config) throw new Error(`no config '${id}' in the ${builder} fixture`);
  return config;
}

/** Keras snake_case builder arguments → our camelCase options. */
export function builderOptions(kwargs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(kwargs).map(([key, value]) => [key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), value]),
  );
}

/** The generated weights of a config, in Keras's legacy order, as the loader's in-memory form. */
export function generatedWeightsFile(config: FixtureConfig): WeightsFile {
  return {
    format: 'legacy',
    attributes: {},
    layers: config.structure.layers.map(([name, className, , , weights, , prefix]) => ({
      name,
      weights: weights.map(([short, shape, owner]) => ({
        name: short,
        shape,
        data: generatedWeight(`${prefix ?? name}/${short}`, shape, owner ?? className),
      })),
    })),
  };
}

/**
 * Our model's layer table in the fixture's form: [name, class, output shape, params, weights], leaving out
 * the weightless stand-ins for Keras's `non_layer_ops` (named as Keras names those operations).
 */
export function layerTable(model: tfl.LayersModel, config?: FixtureConfig): unknown[] {
  const operations = new Set((config?.structure.non_layer_ops ?? []).map((op) => (op as [string])[0]));
  const standIns = model.layers.filter((layer) => operations.has(layer.name));
  const weighted = standIns.filter((layer) => layer.weights.length > 0).map((layer) => layer.name);
  if (weighted.length > 0) throw new Error(`stand-ins for Keras operations must have no weights: ${weighted.join(', ')}`);
  return model.layers.filter((layer) => !operations.has(layer.name)).map((layer) => {
    const shape = layer.outputShape;
    const outputShape = Array.isArray(shape[0]) ? (shape as number[][]).map((s) => s.slice(1)) : (shape as number[]).slice(1);
    return [
      layer.name,
      layer.getClassName(),
      outputShape,
      layer.countParams(),
      layer.weights.map((w) => [kerasWeightName(layer, w.originalName.slice(w.originalName.lastIndexOf('/') + 1)), w.shape]),
    ];
  });
}

/** tfjs names DepthwiseConv2D's kernel `depthwise_kernel`; Keras 3 calls it `kernel` (names may differ, shapes may not). */
function kerasWeightName(layer: tfl.layers.Layer, tfjsName: string): string {
  return layer.getClassName() === 'DepthwiseConv2D' && tfjsName === 'depthwise_kernel' ? 'kernel' : tfjsName;
}

/** The fixture's layer table in the same form, leaving out inbound indices. */
export function kerasLayerTable(config: FixtureConfig): unknown[] {
  return config.structure.layers.map(([name, className, outputShape, params, weights]) => [
    name,
    className,
    outputShape,
    params,
    weights.map(([short, shape]) => [short.slice(short.lastIndexOf('/') + 1), shape]),
  ]);
}

export function fixtureInput(config: FixtureConfig): tf.Tensor {
  const shape = config.numerics.input.shape;
  return tf.tensor(generatedInput(shape), shape);
}

/** The softmax of `logits`: the probabilities a classifier gives for a fixture's logits. */
export function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

/** `max |ours − keras| / max |keras|` over the stored values (or samples) of the output. */
export function outputError(config: FixtureConfig, ours: Float32Array | Int32Array | Uint8Array): number {
  const { values, sample_idx: idx, samples } = config.numerics.output;
  const expected = values ?? samples!;
  const actual = values ? Array.from(ours.subarray(0, values.length)) : idx!.map((i) => ours[i]!);
  return relativeError(actual, expected);
}

export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

/** For a failing config: the checkpoints (every 10th layer) with their errors, to find where we diverge. */
export async function checkpointErrors(model: tfl.LayersModel, config: FixtureConfig, input: tf.Tensor): Promise<string[]> {
  const report: string[] = [];
  for (const checkpoint of config.numerics.checkpoints) {
    const layer = model.getLayer(checkpoint.name);
    const probe = tfl.model({ inputs: model.inputs, outputs: layer.output as tfl.SymbolicTensor });
    const out = probe.predict(input) as tf.Tensor;
    const data = await out.data();
    out.dispose();
    const idx = sampleIndices(data.length, checkpoint.samples.length);
    const err = relativeError(idx.map((i) => data[i]!), checkpoint.samples);
    report.push(`${checkpoint.index} ${checkpoint.name}: ${err.toExponential(2)}`);
  }
  return report;
}
