// An ONNX graph under construction and its encoding as a ModelProto (onnx/onnx.proto, the fields used here).
// Values keep Keras's logical NHWC meaning; a 4-D value may be stored channels-first (NCHW, what ONNX's
// convolutions and pools take), and the graph converts between the two layouts once per value, on demand.
import { UnsupportedModelError } from '../errors';
import { ProtoWriter } from './proto-writer';

/** The operator set the exported graph declares (LayerNormalization needs 17). */
export const OPSET = 17;
/** IR version 8 is the one that goes with opset 17. */
const IR_VERSION = 8;

/** Protobuf's limit on one message; larger models would need ONNX's external data files. */
const MAX_PROTOBUF_BYTES = 2 ** 31 - 1;

const FLOAT = 1;
const INT64 = 7;

/** A dimension: a size, or a name for a size known only at run time (the batch). */
export type Dim = number | string;

export type Attribute =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string };

export const int = (value: number): Attribute => ({ kind: 'int', value });
export const float = (value: number): Attribute => ({ kind: 'float', value });
export const ints = (value: readonly number[]): Attribute => ({ kind: 'ints', value });
export const string = (value: string): Attribute => ({ kind: 'string', value });

/** A tensor in the graph: its name and Keras's (logical, channels-last) shape; `null` sizes are dynamic. */
export interface OnnxValue {
  name: string;
  shape: readonly (number | null)[];
  /** Stored as NCHW (only for 4-D values). */
  channelsFirst: boolean;
}

interface NodeRecord {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, Attribute>;
}

interface Initializer {
  name: string;
  dims: readonly number[];
  dataType: typeof FLOAT | typeof INT64;
  bytes: Uint8Array;
}

interface GraphInterface {
  name: string;
  dims: readonly Dim[];
}

const TO_CHANNELS_FIRST = [0, 3, 1, 2];
const TO_CHANNELS_LAST = [0, 2, 3, 1];

export class OnnxGraph {
  private readonly nodes: NodeRecord[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly inputs: GraphInterface[] = [];
  private readonly outputs: GraphInterface[] = [];
  private readonly usedNames = new Set<string>();
  /** A value's name in the other layout, once made. */
  private readonly transposed = new Map<string, string>();

  /** A [N, C] value made by flattening a pooled [N, C, 1, 1] one → that one. */
  private readonly pooledMaps = new Map<string, string>();

  constructor(readonly name: string) {}

  /** A unique name starting with `hint`. */
  uniqueName(hint: string): string {
    let name = hint;
    for (let i = 1; this.usedNames.has(name); i++) name = `${hint}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  /** Adds a node; returns the names of its outputs, each named after `hint`. */
  node(opType: string, inputs: string[], hint: string, attributes: Record<string, Attribute> = {}, outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, (_, i) => this.uniqueName(i === 0 ? hint : `${hint}_${i}`));
    this.nodes.push({ opType, inputs, outputs, attributes });
    return outputs;
  }

  /** A node with a single output. */
  op(opType: string, inputs: string[], hint: string, attributes: Record<string, Attribute> = {}): string {
    return this.node(opType, inputs, hint, attributes)[0]!;
  }

  floats(hint: string, data: Float32Array, dims: readonly number[]): string {
    const name = this.uniqueName(hint);
    this.initializers.push({ name, dims, dataType: FLOAT, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  scalar(hint: string, value: number): string {
    return this.floats(hint, Float32Array.of(value), []);
  }

  int64s(hint: string, values: readonly number[]): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    const name = this.uniqueName(hint);
    this.initializers.push({ name, dims: [values.length], dataType: INT64, bytes: new Uint8Array(data.buffer) });
    return name;
  }

  /**
   * A per-channel constant (`values[c]` for channel c) shaped to broadcast against `x` as stored:
   * [C, 1, 1] for a channels-first 4-D value, [C] otherwise.
   */
  channelConstant(hint: string, values: Float32Array, x: OnnxValue): string {
    return this.floats(hint, values, x.channelsFirst ? [values.length, 1, 1] : [values.length]);
  }

  /** `x`'s name stored channels-first (transposing it once if needed). */
  channelsFirst(x: OnnxValue): string {
    // A plain Error: only 4-D layers (convolutions, pools, paddings) ask for this layout, so it fires only on a bug here.
    if (x.shape.length !== 4) throw new Error(`ONNX export: a ${x.shape.length}-D value cannot be channels-first`);
    return x.channelsFirst ? x.name : this.transpose(x.name, TO_CHANNELS_FIRST);
  }

  /** `x`'s name stored in Keras's layout. */
  channelsLast(x: OnnxValue): string {
    return x.channelsFirst ? this.transpose(x.name, TO_CHANNELS_LAST) : x.name;
  }

  /**
   * `x` in the layout a reshape may read it in: a 4-D value with 1×1 spatial size holds its numbers in the same
   * order either way, so it needs no transpose.
   */
  inFlatOrder(x: OnnxValue): string {
    return x.shape.length === 4 && x.shape[1] === 1 && x.shape[2] === 1 ? x.name : this.channelsLast(x);
  }

  /** Records that `flat` is the [N, C] flattening of the channels-first [N, C, 1, 1] value `pooled`. */
  noteFlattened(flat: string, pooled: string): void {
    this.pooledMaps.set(flat, pooled);
  }

  /** The [N, C, 1, 1] value `flat` was flattened from, if it was: reshaping back to 1×1 can read it instead. */
  pooledMap(flat: string): string | undefined {
    return this.pooledMaps.get(flat);
  }

  addInput(name: string, dims: readonly Dim[]): void {
    this.usedNames.add(name);
    this.inputs.push({ name, dims });
  }

  addOutput(name: string, dims: readonly Dim[]): void {
    this.outputs.push({ name, dims });
  }

  /** The ModelProto bytes. */
  encode(): Uint8Array {
    const { nodes, initializers } = this.liveParts();
    const graph = new ProtoWriter();
    for (const node of nodes) graph.message(1, encodeNode(node));
    graph.string(2, this.name);
    for (const initializer of initializers) graph.message(5, encodeInitializer(initializer));
    for (const input of this.inputs) graph.message(11, encodeValueInfo(input));
    for (const output of this.outputs) graph.message(12, encodeValueInfo(output));

    const model = new ProtoWriter();
    model.varint(1, IR_VERSION);
    model.string(2, 'keras-applications');
    model.message(7, graph);
    model.message(8, new ProtoWriter().string(1, '').varint(2, OPSET));
    if (model.length > MAX_PROTOBUF_BYTES) {
      throw new UnsupportedModelError(
        `ONNX export: model '${this.name}' takes ${model.length} bytes, more than a protobuf message may (2 GiB); ONNX's external data files are not written`,
      );
    }
    return model.finish();
  }

  /**
   * The nodes and initializers the outputs depend on. A translation may leave a value unused (a pooled map
   * flattened and then reshaped back to 1×1 is read before the flatten); it is dropped here.
   */
  private liveParts(): { nodes: NodeRecord[]; initializers: Initializer[] } {
    const producer = new Map<string, NodeRecord>();
    for (const node of this.nodes) for (const output of node.outputs) producer.set(output, node);
    const needed = new Set<string>();
    const pending = this.outputs.map((output) => output.name);
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (needed.has(name)) continue;
      needed.add(name);
      pending.push(...(producer.get(name)?.inputs ?? []));
    }
    return {
      nodes: this.nodes.filter((node) => node.outputs.some((output) => needed.has(output))),
      initializers: this.initializers.filter((initializer) => needed.has(initializer.name)),
    };
  }

  private transpose(name: string, perm: number[]): string {
    const known = this.transposed.get(name);
    if (known) return known;
    const out = this.op('Transpose', [name], `${name}_${perm === TO_CHANNELS_FIRST ? 'nchw' : 'nhwc'}`, { perm: ints(perm) });
    this.transposed.set(name, out);
    this.transposed.set(out, name);
    return out;
  }
}

function encodeNode(node: NodeRecord): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, node.outputs[0]!);
  w.string(4, node.opType);
  for (const [name, attribute] of Object.entries(node.attributes)) w.message(5, encodeAttribute(name, attribute));
  return w;
}

// AttributeProto's field numbers and AttributeType values.
function encodeAttribute(name: string, attribute: Attribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  switch (attribute.kind) {
    case 'float':
      return w.float(2, attribute.value).varint(20, 1);
    case 'int':
      return w.varint(3, attribute.value).varint(20, 2);
    case 'string':
      return w.string(4, attribute.value).varint(20, 3);
    case 'floats':
      return w.packedFloats(7, attribute.value).varint(20, 6);
    case 'ints':
      return w.packedVarints(8, attribute.value).varint(20, 7);
  }
}

function encodeInitializer(initializer: Initializer): ProtoWriter {
  return new ProtoWriter()
    .packedVarints(1, initializer.dims)
    .varint(2, initializer.dataType)
    .string(8, initializer.name)
    .bytes(9, initializer.bytes);
}

function encodeValueInfo(value: GraphInterface): ProtoWriter {
  const shape = new ProtoWriter();
  for (const dim of value.dims) {
    shape.message(1, typeof dim === 'number' ? new ProtoWriter().varint(1, dim) : new ProtoWriter().string(2, dim));
  }
  const tensorType = new ProtoWriter().varint(1, FLOAT).message(2, shape);
  return new ProtoWriter().string(1, value.name).message(2, new ProtoWriter().message(1, tensorType));
}
