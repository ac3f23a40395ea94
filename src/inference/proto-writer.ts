// A minimal protocol-buffers encoder, enough to write an ONNX ModelProto without a protobuf dependency:
// varints, 32-bit floats, length-delimited bytes and nested messages. Large byte arrays (weights) are kept
// by reference until `finish`, so a 500 MB model is copied once, into the final buffer.

/** Byte arrays at least this long become their own chunk instead of being copied into the scratch buffer. */
const BY_REFERENCE = 4096;

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private scratch = new Uint8Array(256);
  private used = 0;
  private flushed = 0;

  /** The encoded size so far. */
  get length(): number {
    return this.flushed + this.used;
  }

  /** An int32/int64/enum/bool field. Negative numbers take ten bytes, as protobuf's two's complement says. */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    this.reserve(4);
    new DataView(this.scratch.buffer, this.scratch.byteOffset + this.used, 4).setFloat32(0, value, true);
    this.used += 4;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.rawVarint(value.length);
    this.append(value);
    return this;
  }

  /** A repeated int64 field, packed (proto3's default encoding). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const packed = new ProtoWriter();
    for (const value of values) packed.rawVarint(value);
    return this.message(field, packed);
  }

  /** A repeated float field, packed. */
  packedFloats(field: number, values: readonly number[]): this {
    return this.bytes(field, new Uint8Array(Float32Array.from(values).buffer));
  }

  message(field: number, message: ProtoWriter): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.rawVarint(message.length);
    message.flush();
    for (const chunk of message.chunks) this.append(chunk);
    return this;
  }

  /** The encoded message as one buffer. */
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.flushed);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  private rawVarint(value: number | bigint): void {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new RangeError(`ProtoWriter: ${value} is not an integer that fits a varint exactly`);
    }
    this.reserve(10);
    if (typeof value === 'number' && value >= 0 && value <= 0xffffffff) {
      let v = value;
      while (v > 0x7f) {
        this.scratch[this.used++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.scratch[this.used++] = v;
      return;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    while (v > 0x7fn) {
      this.scratch[this.used++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.scratch[this.used++] = Number(v);
  }

  private append(bytes: Uint8Array): void {
    if (bytes.length >= BY_REFERENCE) {
      this.flush();
      this.chunks.push(bytes);
      this.flushed += bytes.length;
      return;
    }
    this.reserve(bytes.length);
    this.scratch.set(bytes, this.used);
    this.used += bytes.length;
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.scratch.length) return;
    const grown = new Uint8Array(Math.max(this.scratch.length * 2, this.used + bytes));
    grown.set(this.scratch.subarray(0, this.used));
    this.scratch = grown;
  }

  /** Moves the scratch buffer's bytes into the chunk list (a copy of only the bytes used). */
  private flush(): void {
    if (this.used === 0) return;
    this.chunks.push(this.scratch.slice(0, this.used));
    this.flushed += this.used;
    this.used = 0;
  }
}
