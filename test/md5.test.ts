import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Md5, md5Hex } from '../src/weights/md5';
import { seededRandom } from '../src/data/seeded-random';

// Our MD5 is what checks Keras's md5 hashes in browsers (WebCrypto has none); Node's crypto is the reference.
const nodeMd5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');
const ascii = (text: string) => new TextEncoder().encode(text);

function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

describe('md5', () => {
  it('gives the test suite of RFC 1321 (appendix A.5)', () => {
    const suite: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
      ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
    ];
    for (const [text, digest] of suite) expect(md5Hex(ascii(text)), JSON.stringify(text)).toBe(digest);
  });

  it("equals Node's md5 on random data of every length around the block and padding edges (0–300 bytes)", () => {
    for (let length = 0; length <= 300; length++) {
      const bytes = randomBytes(length, length);
      expect(md5Hex(bytes), `${length} bytes`).toBe(nodeMd5(bytes));
    }
  });

  it("equals Node's md5 when the data comes in pieces of any size (as a download's chunks do)", () => {
    const bytes = randomBytes(70_001, 7);
    const random = seededRandom(11);
    for (const maxPiece of [1, 3, 63, 64, 65, 1000, 16_384]) {
      const hasher = new Md5();
      for (let offset = 0; offset < bytes.length; ) {
        const piece = 1 + Math.floor(random() * maxPiece);
        hasher.update(bytes.subarray(offset, offset + piece));
        offset += piece;
      }
      expect(hasher.digest(), `pieces of 1–${maxPiece} bytes`).toBe(nodeMd5(bytes));
    }
  });

  it("equals Node's md5 on views that start inside a larger buffer, and on 5 MB", () => {
    const buffer = randomBytes(5_000_123, 3);
    expect(md5Hex(buffer)).toBe(nodeMd5(buffer));
    const view = buffer.subarray(13, 1_000_013);
    expect(new Md5().update(view.subarray(0, 100)).update(view.subarray(100)).digest()).toBe(nodeMd5(view));
  });

  it('takes no bytes after its digest', () => {
    const hasher = new Md5().update(ascii('abc'));
    expect(hasher.digest()).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(hasher.digest()).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(() => hasher.update(ascii('d'))).toThrow(/after digest/);
  });
});
