import { describe, expect, it } from 'vitest';
import { ProtoWriter } from '../src/inference/proto-writer';

// The encodings protobuf's own documentation gives ("Encoding", protobuf.dev/programming-guides/encoding).
const bytes = (writer: ProtoWriter) => Array.from(writer.finish());

describe('ProtoWriter writes the protobuf wire format', () => {
  it('varints: 150 in field 1, and a negative int64 in ten bytes', () => {
    expect(bytes(new ProtoWriter().varint(1, 150))).toEqual([0x08, 0x96, 0x01]);
    expect(bytes(new ProtoWriter().varint(1, -1))).toEqual([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(bytes(new ProtoWriter().varint(1, 2n ** 40n))).toEqual([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
  });

  it("a string: 'testing' in field 2", () => {
    expect(bytes(new ProtoWriter().string(2, 'testing'))).toEqual([0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]);
  });

  it('an embedded message: {a: 150} in field 3', () => {
    expect(bytes(new ProtoWriter().message(3, new ProtoWriter().varint(1, 150)))).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);
  });

  it('a packed repeated field: [3, 270, 86942] in field 4', () => {
    expect(bytes(new ProtoWriter().packedVarints(4, [3, 270, 86942]))).toEqual([0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05]);
  });

  it('a float as fixed32, little-endian', () => {
    expect(bytes(new ProtoWriter().float(1, 1))).toEqual([0x0d, 0x00, 0x00, 0x80, 0x3f]);
    expect(bytes(new ProtoWriter().packedFloats(7, [1, -2]))).toEqual([0x3a, 0x08, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
  });

  it('large byte arrays kept by reference land in order, inside nested messages', () => {
    const big = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
    const inner = new ProtoWriter().varint(1, 7).bytes(9, big).varint(2, 8);
    const out = new ProtoWriter().string(1, 'x').message(5, inner).finish();
    // field 1 'x' (3 bytes), then field 5: tag, length varint (2 bytes), then the inner message.
    const innerLength = 2 + 1 + 2 + 5000 + 2;
    expect(Array.from(out.subarray(0, 6))).toEqual([0x0a, 0x01, 0x78, 0x2a, (innerLength & 0x7f) | 0x80, innerLength >> 7]);
    expect(Array.from(out.subarray(6, 11))).toEqual([0x08, 0x07, 0x4a, (5000 & 0x7f) | 0x80, 5000 >> 7]);
    expect(out.subarray(11, 5011)).toEqual(big);
    expect(Array.from(out.subarray(5011))).toEqual([0x10, 0x08]);
  });

  it('refuses a number that is not an exact integer', () => {
    expect(() => new ProtoWriter().varint(1, 1.5)).toThrow(RangeError);
    expect(() => new ProtoWriter().varint(1, 2 ** 60)).toThrow(RangeError);
  });
});
