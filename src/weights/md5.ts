// MD5 (RFC 1321) in TypeScript: Keras publishes md5 hashes for most of its weight files, and WebCrypto, the
// browser's only built-in hashing, has no MD5. Incremental, so a download is hashed as its bytes arrive.

const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const CONSTANTS = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);
const BLOCK_BYTES = 64;

export class Md5 {
  private readonly state = new Int32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
  /** The bytes of an unfinished block, carried to the next update. */
  private readonly pending = new Uint8Array(BLOCK_BYTES);
  private pendingBytes = 0;
  private totalBytes = 0;
  private finished = false;

  /** Adds `bytes` to the message; returns this, for chaining. */
  update(bytes: Uint8Array): this {
    if (this.finished) throw new Error('Md5.update() after digest()');
    this.totalBytes += bytes.byteLength;
    let offset = 0;
    if (this.pendingBytes > 0) {
      offset = Math.min(BLOCK_BYTES - this.pendingBytes, bytes.byteLength);
      this.pending.set(bytes.subarray(0, offset), this.pendingBytes);
      this.pendingBytes += offset;
      if (this.pendingBytes < BLOCK_BYTES) return this;
      this.blocks(new DataView(this.pending.buffer));
      this.pendingBytes = 0;
    }
    // Whole blocks are hashed where they lie, without a copy.
    const whole = (bytes.byteLength - offset) - ((bytes.byteLength - offset) % BLOCK_BYTES);
    this.blocks(new DataView(bytes.buffer, bytes.byteOffset + offset, whole));
    this.pending.set(bytes.subarray(offset + whole));
    this.pendingBytes = bytes.byteLength - offset - whole;
    return this;
  }

  /** The digest as 32 lowercase hex digits; the hasher takes no more bytes after it. */
  digest(): string {
    if (!this.finished) {
      this.finished = true;
      // Padding: a 1 bit, zeros up to 56 bytes mod 64, then the message length in bits, little-endian.
      const tail = new Uint8Array(this.pendingBytes < 56 ? BLOCK_BYTES : 2 * BLOCK_BYTES);
      tail.set(this.pending.subarray(0, this.pendingBytes));
      tail[this.pendingBytes] = 0x80;
      const view = new DataView(tail.buffer);
      const bits = this.totalBytes * 8;
      view.setUint32(tail.length - 8, bits >>> 0, true);
      view.setUint32(tail.length - 4, Math.floor(bits / 2 ** 32), true);
      this.blocks(view);
    }
    const digest = new DataView(new ArrayBuffer(16));
    this.state.forEach((word, i) => digest.setInt32(4 * i, word, true));
    return toHex(new Uint8Array(digest.buffer));
  }

  private blocks(view: DataView): void {
    const state = this.state;
    for (let block = 0; block < view.byteLength; block += BLOCK_BYTES) {
      let a = state[0]!;
      let b = state[1]!;
      let c = state[2]!;
      let d = state[3]!;
      for (let i = 0; i < 64; i++) {
        let f: number;
        let word: number;
        if (i < 16) {
          f = (b & c) | (~b & d);
          word = i;
        } else if (i < 32) {
          f = (d & b) | (~d & c);
          word = (5 * i + 1) % 16;
        } else if (i < 48) {
          f = b ^ c ^ d;
          word = (3 * i + 5) % 16;
        } else {
          f = c ^ (b | ~d);
          word = (7 * i) % 16;
        }
        const sum = (a + f + CONSTANTS[i]! + view.getInt32(block + 4 * word, true)) | 0;
        const shift = SHIFTS[(i >> 4) * 4 + (i & 3)]!;
        a = d;
        d = c;
        c = b;
        b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
      }
      // Int32Array stores wrap modulo 2^32, as MD5 wants.
      state[0] += a;
      state[1] += b;
      state[2] += c;
      state[3] += d;
    }
  }
}

/** The md5 of `bytes` as 32 lowercase hex digits. */
export function md5Hex(bytes: Uint8Array): string {
  return new Md5().update(bytes).digest();
}

/** Bytes as lowercase hex digits, as digests are written. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
