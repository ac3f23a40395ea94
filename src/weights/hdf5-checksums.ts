// Verifies the checksums an HDF5 file carries, as libhdf5 does when it reads the structures: Jenkins' lookup3
// over the metadata of the newer format versions (superblock v2/v3, v2 object headers and their continuation
// blocks, v2 B-trees, fractal heaps, free-space managers, shared-message tables, the fixed and extensible arrays
// that index chunks) and the fletcher32 filter over data chunks. jsfive checks none of them, so without this a flipped byte in a
// file written with h5py's libver='latest' would load as a changed value where h5py refuses the file.
//
// The walk starts at the superblock and reaches every object from the root group, through structures of every
// format version (the older ones carry no checksum and are followed only to reach what lies below them).
// Addresses count from the superblock, as in the bytes jsfive is given.

import { type FileBytes, problem } from './h5-data.js';

const rotate = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** Jenkins' lookup3 ("hashlittle") of bytes [start, end): libhdf5's H5_checksum_lookup3. */
export function lookup3(bytes: Uint8Array, start: number, end: number, initval = 0): number {
  let length = end - start;
  let a = (0xdeadbeef + length + initval) | 0;
  let b = a;
  let c = a;
  const word = (from: Uint8Array, at: number): number =>
    from[at]! | (from[at + 1]! << 8) | (from[at + 2]! << 16) | (from[at + 3]! << 24);
  let k = start;
  for (; length > 12; length -= 12, k += 12) {
    a = (a + word(bytes, k)) | 0;
    b = (b + word(bytes, k + 4)) | 0;
    c = (c + word(bytes, k + 8)) | 0;
    a = (a - c) ^ rotate(c, 4);
    c = (c + b) | 0;
    b = (b - a) ^ rotate(a, 6);
    a = (a + c) | 0;
    c = (c - b) ^ rotate(b, 8);
    b = (b + a) | 0;
    a = (a - c) ^ rotate(c, 16);
    c = (c + b) | 0;
    b = (b - a) ^ rotate(a, 19);
    a = (a + c) | 0;
    c = (c - b) ^ rotate(b, 4);
    b = (b + a) | 0;
  }
  if (length === 0) return c >>> 0;
  // The last 1 to 12 bytes, zero-padded.
  const last = new Uint8Array(12);
  last.set(bytes.subarray(k, end));
  a = (a + word(last, 0)) | 0;
  b = (b + word(last, 4)) | 0;
  c = (c + word(last, 8)) | 0;
  c = (c ^ b) - rotate(b, 14);
  a = (a ^ c) - rotate(c, 11);
  b = (b ^ a) - rotate(a, 25);
  c = (c ^ b) - rotate(b, 16);
  a = (a ^ c) - rotate(c, 4);
  b = (b ^ a) - rotate(a, 14);
  c = (c ^ b) - rotate(b, 24);
  return c >>> 0;
}

/** libhdf5's H5_checksum_fletcher32 of bytes [start, end): 16-bit big-endian words, sums kept in 32 bits. */
export function fletcher32(bytes: Uint8Array, start: number, end: number): number {
  let sum1 = 0;
  let sum2 = 0;
  const fold = (sum: number): number => (sum & 0xffff) + (sum >>> 16);
  let at = start;
  for (let words = (end - start) >> 1; words > 0; ) {
    // 360 words at most between folds, as libhdf5 (its sum2 can wrap around 32 bits; so does this one).
    for (let n = Math.min(words, 360), stop = at + 2 * n; at < stop; at += 2) {
      sum1 += (bytes[at]! << 8) | bytes[at + 1]!;
      sum2 = (sum2 + sum1) >>> 0;
    }
    words -= Math.min(words, 360);
    sum1 = fold(sum1);
    sum2 = fold(sum2);
  }
  if ((end - start) % 2 === 1) {
    sum1 += bytes[at]! << 8;
    sum2 = (sum2 + sum1) >>> 0;
    sum1 = fold(sum1);
    sum2 = fold(sum2);
  }
  return ((fold(sum2) << 16) | fold(sum1)) >>> 0;
}

const hex = (value: number): string => `0x${value.toString(16).padStart(8, '0')}`;

function compare(what: string, stored: number, computed: number, kind = 'checksum'): void {
  if (stored !== computed) problem(`${what} fails its ${kind} (stored ${hex(stored)}, computed ${hex(computed)}; corrupt)`);
}

const log2 = (value: number): number => Math.round(Math.log2(value));
const isPowerOfTwo = (value: number): boolean => Number.isSafeInteger(value) && value > 0 && 2 ** log2(value) === value;

/** Bytes libhdf5 uses to store counts up to `max` (H5VM_limit_enc_size). */
function countBytes(max: bigint): number {
  return max <= 0n ? 1 : Math.floor((max.toString(2).length - 1) / 8) + 1;
}

// Header message types (HDF5 spec IV.A.2) and the message flag that marks a shared message.
const LINK_INFO = 0x02;
const LINK = 0x06;
const LAYOUT = 0x08;
const FILTER_PIPELINE = 0x0b;
const ATTRIBUTE = 0x0c;
const SHARED_MESSAGE_TABLE = 0x0f;
const CONTINUATION = 0x10;
const SYMBOL_TABLE = 0x11;
const ATTRIBUTE_INFO = 0x15;
const FILE_SPACE_INFO = 0x17;
const SHARED_FLAG = 0x02;
const FLETCHER32_FILTER = 3;
/** Shared-message encoding version 3: the message lives in another object header (a committed datatype). */
const SHARED_IN_OBJECT_HEADER = 2;

interface Message {
  type: number;
  flags: number;
  /** Where its data starts, and its size. */
  at: number;
  size: number;
}

/** Where a link's or attribute's name lies. */
interface Name {
  at: number;
  length: number;
}

/** A stored data chunk, as a chunk index lists it. */
interface Chunk {
  address: number;
  size: number;
  /** Bit i set: filter i of the pipeline was skipped for this chunk. */
  filterMask: number;
}
type ChunkVisitor = (chunk: Chunk) => void;

/** A managed or huge object's bytes in the file, or a tiny one's inside its heap ID. */
interface HeapObject {
  at: number;
  length: number;
}

interface FractalHeap {
  /** Length of the heap's object IDs. */
  idLength: number;
  object(idAt: number): HeapObject;
}

class ChecksumWalk {
  private readonly u8: Uint8Array;
  private readonly view: DataView;
  private readonly end: number;
  private offsetSize = 8;
  private lengthSize = 8;
  /** Object headers still to visit (a stack, so that deep hierarchies need no deep recursion). */
  private readonly pending: number[] = [];
  /** Structures already verified, by kind and address: hard links and corrupt pointers can form cycles. */
  private readonly seen = new Set<string>();

  constructor(file: FileBytes) {
    this.u8 = file.u8;
    this.view = file.view;
    this.end = file.length;
  }

  run(): void {
    const version = this.byte(8);
    const sizesAt = version >= 2 ? 9 : 13;
    [this.offsetSize, this.lengthSize] = [this.byte(sizesAt), this.byte(sizesAt + 1)];
    if (![2, 4, 8].includes(this.offsetSize) || ![2, 4, 8].includes(this.lengthSize)) {
      problem(`the superblock gives ${this.offsetSize}-byte addresses and ${this.lengthSize}-byte lengths (corrupt)`);
    }
    const O = this.offsetSize;
    if (version >= 2) {
      this.checksum('the superblock', 0, 12 + 4 * O);
      const extension = this.address(12 + O);
      if (extension !== undefined) this.pending.push(extension);
      this.pending.push(this.requiredAddress(12 + 3 * O, 'the root group'));
    } else {
      // Base, free-space, end-of-file and driver addresses, then the root's symbol table entry.
      const addressesAt = version === 0 ? 24 : 28;
      this.pending.push(this.requiredAddress(addressesAt + 5 * O, 'the root group'));
    }
    for (let next = this.pending.pop(); next !== undefined; next = this.pending.pop()) this.objectHeader(next);
  }

  // --- Reading ---------------------------------------------------------------------------------------------

  /** Checks that bytes [at, at + length) lie in the file; `what` names them otherwise (a function: built only then). */
  private need(at: number, length: number, what: string | (() => string)): void {
    if (!(at >= 0 && length >= 0 && at + length <= this.end)) {
      problem(`${typeof what === 'string' ? what : what()} lies beyond the end of the file (${this.end} bytes; corrupt)`);
    }
  }

  private byte(at: number): number {
    this.need(at, 1, () => `byte ${at}`);
    return this.u8[at]!;
  }

  /** A little-endian unsigned integer of `size` bytes (up to 8; exact below 2^53). */
  private uint(at: number, size: number): number {
    this.need(at, size, () => `the field at address ${at}`);
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + this.u8[at + i]!;
    return value;
  }

  /** An address; undefined for HDF5's undefined address (all bits set). */
  private address(at: number): number | undefined {
    this.need(at, this.offsetSize, () => `the address at ${at}`);
    let allSet = true;
    for (let i = 0; i < this.offsetSize; i++) allSet &&= this.u8[at + i] === 0xff;
    return allSet ? undefined : this.uint(at, this.offsetSize);
  }

  private requiredAddress(at: number, what: string): number {
    return this.address(at) ?? problem(`the address of ${what} is undefined (corrupt)`);
  }

  private hasSignature(at: number, signature: string): boolean {
    if (at < 0 || at + 4 > this.end) return false;
    for (let i = 0; i < 4; i++) if (this.u8[at + i] !== signature.charCodeAt(i)) return false;
    return true;
  }

  /** Checks that `length` bytes of `what` lie in the file and start with `signature`. */
  private structure(what: string, at: number, signature: string, length: number): void {
    this.need(at, length, what);
    if (!this.hasSignature(at, signature)) problem(`${what} does not start with the signature ${signature} (corrupt)`);
  }

  /** Checks the lookup3 checksum stored right after the `covered` bytes from `at`. */
  private checksum(what: string, at: number, covered: number): void {
    this.need(at, covered + 4, what);
    compare(what, this.view.getUint32(at + covered, true), lookup3(this.u8, at, at + covered));
  }

  /** True the first time a structure of `kind` at `at` is met. */
  private first(kind: string, at: number): boolean {
    const key = `${kind}@${at}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  // --- Object headers --------------------------------------------------------------------------------------

  private objectHeader(at: number): void {
    if (!this.first('object header', at)) return;
    const messages = this.headerMessages(at);
    const filters = this.filterIds(messages);
    for (const message of messages) this.message(message, filters);
  }

  /** The messages of the object header at `at`, from its first block and its continuation blocks. */
  private headerMessages(at: number): Message[] {
    const what = `the object header at address ${at}`;
    const messages: Message[] = [];
    let version: 1 | 2;
    let creationOrder = false;
    if (this.hasSignature(at, 'OHDR')) {
      version = 2;
      if (this.byte(at + 4) !== 2) problem(`${what} has unknown version ${this.byte(at + 4)} (corrupt)`);
      const flags = this.byte(at + 5);
      // Optional times (16 bytes) and attribute storage limits (4 bytes), then the size of the first block.
      const sizeAt = at + 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
      const sizeBytes = 2 ** (flags & 0x03);
      const start = sizeAt + sizeBytes;
      const length = this.uint(sizeAt, sizeBytes);
      this.checksum(what, at, start - at + length);
      creationOrder = (flags & 0x04) !== 0;
      this.messagesIn(start, start + length, version, creationOrder, messages, what);
    } else if (this.byte(at) === 1) {
      version = 1;
      const length = this.uint(at + 8, 4);
      this.need(at + 16, length, what);
      this.messagesIn(at + 16, at + 16 + length, version, false, messages, what);
    } else {
      problem(`${what} is neither a version 1 header nor starts with the signature OHDR (corrupt)`);
    }
    // Continuation messages add blocks, whose messages may add more (messages grows while it is read).
    for (let i = 0; i < messages.length; i++) {
      const { type, at: messageAt, size } = messages[i]!;
      if (type !== CONTINUATION) continue;
      if (size < this.offsetSize + this.lengthSize) problem(`a continuation message of ${what} is too short (corrupt)`);
      const block = this.requiredAddress(messageAt, `a continuation block of ${what}`);
      const length = this.uint(messageAt + this.offsetSize, this.lengthSize);
      if (!this.first('continuation block', block)) continue;
      const blockWhat = `the continuation block at address ${block} of ${what}`;
      if (version === 2) {
        this.structure(blockWhat, block, 'OCHK', Math.max(length, 8));
        this.checksum(blockWhat, block, length - 4);
        this.messagesIn(block + 4, block + length - 4, version, creationOrder, messages, blockWhat);
      } else {
        this.need(block, length, blockWhat);
        this.messagesIn(block, block + length, version, false, messages, blockWhat);
      }
    }
    return messages;
  }

  /** Appends the messages in [start, end) of a header block; a v2 block may end with a gap too small for one. */
  private messagesIn(start: number, end: number, version: 1 | 2, creationOrder: boolean, out: Message[], what: string): void {
    const headerSize = version === 1 ? 8 : creationOrder ? 6 : 4;
    for (let at = start; at + headerSize <= end; ) {
      const type = version === 1 ? this.view.getUint16(at, true) : this.u8[at]!;
      const size = this.view.getUint16(at + (version === 1 ? 2 : 1), true);
      const flags = this.u8[at + (version === 1 ? 4 : 3)]!;
      const dataAt = at + headerSize;
      if (dataAt + size > end) problem(`a message in ${what} runs past the block's end (corrupt)`);
      out.push({ type, flags, at: dataAt, size });
      at = dataAt + size;
    }
  }

  private message(message: Message, filters: number[]): void {
    if (message.flags & SHARED_FLAG) {
      this.sharedMessage(message.at);
      return;
    }
    switch (message.type) {
      case LINK:
        this.link(message.at, message.at + message.size);
        break;
      case LINK_INFO:
        // Name index records of links (type 5): the name's hash, then the heap ID.
        this.denseStorage(message, (heap, record) => {
          const link = heap.object(record + 4);
          this.nameHash(record, this.link(link.at, link.at + link.length), 'link');
        });
        break;
      case ATTRIBUTE:
        this.attribute(message.at, message.at + message.size);
        break;
      case ATTRIBUTE_INFO:
        // Name index records of attributes (type 8): the heap ID, message flags, creation order, the name's
        // hash. A shared attribute's ID points into the shared message heap instead.
        this.denseStorage(message, (heap, record) => {
          if (this.byte(record + heap.idLength) & SHARED_FLAG) return;
          const attribute = heap.object(record);
          this.nameHash(record + heap.idLength + 5, this.attribute(attribute.at, attribute.at + attribute.length), 'attribute');
        });
        break;
      case SYMBOL_TABLE:
        this.groupBTree(this.requiredAddress(message.at, 'a group B-tree'));
        break;
      case LAYOUT:
        this.layout(message, filters);
        break;
      case SHARED_MESSAGE_TABLE:
        this.sharedMessageTable(message.at);
        break;
      case FILE_SPACE_INFO:
        this.fileSpaceInfo(message.at);
        break;
    }
  }

  /** A shared message stored in another object header (a committed datatype) is read with it. */
  private sharedMessage(at: number): void {
    const version = this.byte(at);
    if (version === 1) this.pending.push(this.requiredAddress(at + 8, 'a shared message'));
    else if (version === 2 || (version === 3 && this.byte(at + 1) === SHARED_IN_OBJECT_HEADER)) {
      this.pending.push(this.requiredAddress(at + 2, 'a shared message'));
    }
  }

  /**
   * A name index record holds the lookup3 hash of the name: libhdf5 finds links and attributes by it, so one
   * whose stored name changed (huge heap objects have no checksum) is not found.
   */
  private nameHash(hashAt: number, name: Name, what: string): void {
    const stored = this.uint(hashAt, 4);
    const computed = lookup3(this.u8, name.at, name.at + name.length);
    if (stored !== computed) {
      problem(`the ${what} at address ${name.at} does not match the hash of its name in its index (corrupt)`);
    }
  }

  /** A link message (spec IV.A.2.g): queues a hard link's object; returns where the link's name lies. */
  private link(at: number, end: number): Name {
    if (this.byte(at) !== 1) problem(`a link message at address ${at} has unknown version ${this.byte(at)} (corrupt)`);
    const flags = this.byte(at + 1);
    let position = at + 2;
    const linkType = flags & 0x08 ? this.byte(position++) : 0;
    position += (flags & 0x04 ? 8 : 0) + (flags & 0x10 ? 1 : 0);
    const nameSizeBytes = 2 ** (flags & 0x03);
    const name = { at: position + nameSizeBytes, length: this.uint(position, nameSizeBytes) };
    position = name.at + name.length;
    if (position > end || (linkType === 0 && position + this.offsetSize > end)) {
      problem(`the link message at address ${at} is too short (corrupt)`);
    }
    const target = linkType === 0 ? this.address(position) : undefined;
    if (target !== undefined) this.pending.push(target);
    return name;
  }

  /**
   * An attribute message (spec IV.A.2.m): queues its datatype's object header when the datatype is a committed
   * one (read with the attribute); returns where the attribute's name lies.
   */
  private attribute(at: number, end: number): Name {
    const version = this.byte(at);
    if (version < 1 || version > 3) problem(`an attribute message at address ${at} has unknown version ${version} (corrupt)`);
    const padded = (size: number): number => (version === 1 ? Math.ceil(size / 8) * 8 : size);
    const nameAt = at + (version === 3 ? 9 : 8);
    const nameSize = this.uint(at + 2, 2);
    const datatypeAt = nameAt + padded(nameSize);
    if (datatypeAt >= end) problem(`the attribute message at address ${at} is too short (corrupt)`);
    if (version >= 2 && this.byte(at + 1) & 0x01) this.sharedMessage(datatypeAt);
    // The name's size counts its terminating NUL.
    const nul = this.u8.subarray(nameAt, nameAt + nameSize).indexOf(0);
    return { at: nameAt, length: nul < 0 ? nameSize : nul };
  }

  /** The IDs of the dataset's filters, in pipeline order (spec IV.A.2.l); empty without a pipeline. */
  private filterIds(messages: Message[]): number[] {
    const pipeline = messages.find((m) => m.type === FILTER_PIPELINE && !(m.flags & SHARED_FLAG));
    if (!pipeline) return [];
    const version = this.byte(pipeline.at);
    const count = this.byte(pipeline.at + 1);
    const ids: number[] = [];
    let at = pipeline.at + (version === 1 ? 8 : 2);
    for (let i = 0; i < count; i++) {
      const id = this.uint(at, 2);
      const nameLength = version === 1 || id >= 256 ? this.uint(at + 2, 2) : 0;
      const fieldsAt = version === 1 || id >= 256 ? at + 4 : at + 2;
      const values = this.uint(fieldsAt + 2, 2);
      const name = version === 1 ? Math.ceil(nameLength / 8) * 8 : nameLength;
      at = fieldsAt + 4 + name + 4 * values + (version === 1 && values % 2 ? 4 : 0);
      ids.push(id);
    }
    return ids;
  }

  // --- Groups of the old format (no checksums) -------------------------------------------------------------

  /** A group's version 1 B-tree (spec III.A.1): its symbol table nodes name the members' object headers. */
  private groupBTree(root: number): void {
    const O = this.offsetSize;
    const L = this.lengthSize;
    const nodes = [root];
    for (let node = nodes.pop(); node !== undefined; node = nodes.pop()) {
      if (!this.first('group B-tree node', node)) continue;
      const what = `the group B-tree node at address ${node}`;
      this.structure(what, node, 'TREE', 8 + 2 * O);
      const level = this.byte(node + 5);
      const entries = this.uint(node + 6, 2);
      // Keys (heap offsets) and children alternate after the siblings' addresses: key, child, key, …, key.
      const childrenAt = node + 8 + 2 * O + L;
      for (let i = 0; i < entries; i++) {
        const child = this.requiredAddress(childrenAt + i * (O + L), `a child of ${what}`);
        if (level > 0) nodes.push(child);
        else this.symbolTableNode(child);
      }
    }
  }

  private symbolTableNode(at: number): void {
    if (!this.first('symbol table node', at)) return;
    const what = `the symbol table node at address ${at}`;
    this.structure(what, at, 'SNOD', 8);
    const entrySize = 2 * this.offsetSize + 24;
    const count = this.uint(at + 6, 2);
    this.need(at + 8, count * entrySize, what);
    for (let i = 0; i < count; i++) {
      const header = this.address(at + 8 + i * entrySize + this.offsetSize);
      if (header !== undefined) this.pending.push(header);
    }
  }

  // --- Dense link and attribute storage: fractal heaps indexed by v2 B-trees --------------------------------

  /**
   * A link info or attribute info message (spec IV.A.2.c, IV.A.2.v): the fractal heap holding the links or
   * attributes, the name index whose records carry their heap IDs, and the optional creation-order index.
   */
  private denseStorage(message: Message, visit: (heap: FractalHeap, record: number) => void): void {
    const flags = this.byte(message.at + 1);
    const maxIndexBytes = message.type === LINK_INFO ? 8 : 2;
    const heapAt = message.at + 2 + (flags & 0x01 ? maxIndexBytes : 0);
    const heapAddress = this.address(heapAt);
    const nameIndex = this.address(heapAt + this.offsetSize);
    const orderIndex = flags & 0x02 ? this.address(heapAt + 2 * this.offsetSize) : undefined;
    if (heapAddress === undefined) return;
    const heap = this.fractalHeap(heapAddress);
    if (nameIndex !== undefined) this.btree2(nameIndex, (record) => visit(heap, record));
    if (orderIndex !== undefined) this.btree2(orderIndex);
  }

  /** A fractal heap (spec III.G): verifies its header, every direct and indirect block, and its huge objects' B-tree. */
  private fractalHeap(at: number): FractalHeap {
    const O = this.offsetSize;
    const L = this.lengthSize;
    const what = `the fractal heap header at address ${at}`;
    const covered = 22 + 12 * L + 3 * O;
    this.structure(what, at, 'FRHP', covered);
    const idLength = this.uint(at + 5, 2);
    if (this.uint(at + 7, 2) > 0) problem(`${what}: the heap's blocks are filtered, which this reader does not support`);
    this.checksum(what, at, covered);
    const checksummedBlocks = (this.byte(at + 9) & 0x02) !== 0;
    const maxManagedSize = this.uint(at + 10, 4);
    const hugeObjectTree = this.address(at + 14 + L);
    const freeSpaceManager = this.address(at + 14 + 2 * L + O);
    const tableAt = at + 14 + 10 * L + 2 * O;
    const width = this.uint(tableAt, 2);
    const startSize = this.uint(tableAt + 2, L);
    const maxDirectSize = this.uint(tableAt + 2 + L, L);
    const maxHeapBits = this.uint(tableAt + 2 + 2 * L, 2);
    const root = this.address(tableAt + 6 + 2 * L);
    const rootRows = this.uint(tableAt + 6 + 2 * L + O, 2);
    if (![width, startSize, maxDirectSize].every(isPowerOfTwo) || maxDirectSize < startSize || maxHeapBits > 64) {
      problem(`${what} describes an impossible doubling table (corrupt)`);
    }
    // The doubling table (spec III.G): rows 0 and 1 hold blocks of the starting size, each later row doubles.
    const rowBlockSize = (row: number): number => (row === 0 ? startSize : startSize * 2 ** (row - 1));
    const maxDirectRows = log2(maxDirectSize) - log2(startSize) + 2;
    const firstRowBits = log2(startSize) + log2(width);
    const maxRootRows = maxHeapBits - firstRowBits + 1;
    const heapOffsetSize = Math.ceil(maxHeapBits / 8);
    const blockHeaderSize = 5 + O + heapOffsetSize + (checksummedBlocks ? 4 : 0);
    const directBlocks: { heapOffset: number; size: number; at: number }[] = [];

    const directBlock = (block: number, heapOffset: number, size: number): void => {
      const blockWhat = `the fractal heap direct block at address ${block}`;
      this.structure(blockWhat, block, 'FHDB', Math.max(size, blockHeaderSize));
      if (checksummedBlocks) {
        // The checksum covers the whole block, read with the checksum field zeroed.
        const checksumAt = blockHeaderSize - 4;
        const image = this.u8.slice(block, block + size);
        image.fill(0, checksumAt, checksumAt + 4);
        compare(blockWhat, this.view.getUint32(block + checksumAt, true), lookup3(image, 0, size));
      }
      directBlocks.push({ heapOffset, size, at: block });
    };
    const indirectBlock = (block: number, heapOffset: number, rows: number): void => {
      const blockWhat = `the fractal heap indirect block at address ${block}`;
      if (rows < 1 || rows > maxRootRows) problem(`${blockWhat} would have ${rows} rows (corrupt)`);
      const entriesAt = block + 5 + O + heapOffsetSize;
      const covered = entriesAt - block + rows * width * O;
      this.structure(blockWhat, block, 'FHIB', covered);
      this.checksum(blockWhat, block, covered);
      let childOffset = heapOffset;
      for (let row = 0; row < rows; row++) {
        const size = rowBlockSize(row);
        for (let column = 0; column < width; column++, childOffset += size) {
          const child = this.address(entriesAt + (row * width + column) * O);
          if (child === undefined || !this.first('fractal heap block', child)) continue;
          // A child indirect block of size N spans log2(N) - firstRowBits + 1 rows.
          if (row < maxDirectRows) directBlock(child, childOffset, size);
          else indirectBlock(child, childOffset, log2(size) - firstRowBits + 1);
        }
      }
    };
    if (root !== undefined && this.first('fractal heap block', root)) {
      if (rootRows === 0) directBlock(root, 0, startSize);
      else indirectBlock(root, 0, rootRows);
    }

    if (freeSpaceManager !== undefined) this.freeSpaceManager(freeSpaceManager);
    // Huge objects lie outside the blocks; a B-tree maps their IDs to where they are (records of type 1).
    const hugeObjects = new Map<number, HeapObject>();
    const hugeIdsDirect = idLength - 1 >= O + L;
    if (hugeObjectTree !== undefined) {
      this.btree2(hugeObjectTree, (record) => {
        if (!hugeIdsDirect) hugeObjects.set(this.uint(record + O + L, L), { at: this.uint(record, O), length: this.uint(record + O, L) });
      });
    }
    const heapLengthSize = Math.min(Math.ceil(log2(maxDirectSize) / 8), countBytes(BigInt(maxManagedSize)));
    const objectWhat = (idAt: number): string => `the object with the heap ID at address ${idAt} in ${what}`;
    const locate = (idAt: number): HeapObject => {
      const flags = this.byte(idAt);
      const kind = flags & 0x30;
      if (flags & 0xc0) problem(`${objectWhat(idAt)} has an unknown ID version (corrupt)`);
      if (kind === 0x00) {
        const offset = this.uint(idAt + 1, heapOffsetSize);
        const length = this.uint(idAt + 1 + heapOffsetSize, heapLengthSize);
        const block = directBlocks.find((b) => offset >= b.heapOffset + blockHeaderSize && offset + length <= b.heapOffset + b.size);
        if (!block) problem(`${objectWhat(idAt)} lies in no direct block (corrupt)`);
        return { at: block.at + offset - block.heapOffset, length };
      }
      if (kind === 0x20) {
        // Tiny objects live in the ID itself; IDs over 18 bytes spend a second byte on the length.
        const extended = idLength > 18;
        const length = (extended ? ((flags & 0x0f) << 8) | this.byte(idAt + 1) : flags & 0x0f) + 1;
        const dataAt = idAt + (extended ? 2 : 1);
        if (dataAt + length > idAt + idLength) problem(`${objectWhat(idAt)} is longer than its ID (corrupt)`);
        return { at: dataAt, length };
      }
      if (kind === 0x10) {
        const huge = hugeIdsDirect
          ? { at: this.uint(idAt + 1, O), length: this.uint(idAt + 1 + O, L) }
          : hugeObjects.get(this.uint(idAt + 1, Math.min(idLength - 1, 8)));
        if (!huge) problem(`${objectWhat(idAt)} is missing from the heap's huge objects (corrupt)`);
        this.need(huge.at, huge.length, objectWhat(idAt));
        return huge;
      }
      problem(`${objectWhat(idAt)} has an unknown type (corrupt)`);
    };
    return { idLength, object: locate };
  }

  /**
   * The file space info message of a superblock extension (spec IV.A.2.x): with persistent free space it
   * lists the file's free-space managers, which libhdf5 reads when it opens the file.
   */
  private fileSpaceInfo(at: number): void {
    const O = this.offsetSize;
    const L = this.lengthSize;
    // Version 0: strategy, threshold, then 6 managers if the strategy is 1 (persist). Version 1: strategy,
    // persist flag, threshold, page size, page-end threshold, end of file before the managers, then 12.
    const [persist, managersAt, managers] =
      this.byte(at) === 0 ? [this.byte(at + 1) === 1, at + 2 + L, 6] : [this.byte(at + 2) !== 0, at + 5 + 2 * L + O, 12];
    for (let i = 0; persist && i < managers; i++) {
      const manager = this.address(managersAt + i * O);
      if (manager !== undefined) this.freeSpaceManager(manager);
    }
  }

  /**
   * A free-space manager (spec III.H): libhdf5 reads a fractal heap's when it sizes the heap (h5py's
   * visititems does), and its serialized sections when it allocates.
   */
  private freeSpaceManager(at: number): void {
    if (!this.first('free-space manager', at)) return;
    const O = this.offsetSize;
    const L = this.lengthSize;
    const what = `the free-space manager header at address ${at}`;
    const covered = 14 + 7 * L + O;
    this.structure(what, at, 'FSHD', covered);
    this.checksum(what, at, covered);
    const sections = this.address(at + 14 + 5 * L);
    const sectionsSize = this.uint(at + 14 + 5 * L + O, L);
    if (sections === undefined || sectionsSize === 0) return;
    const sectionsWhat = `the free-space section list at address ${sections}`;
    this.structure(sectionsWhat, sections, 'FSSE', Math.max(sectionsSize, 8));
    this.checksum(sectionsWhat, sections, sectionsSize - 4);
  }

  /**
   * A version 2 B-tree (spec III.A.2): verifies its header and every node, calling `visit` with each record's
   * address. Node layout follows libhdf5's H5B2__hdr_init: how many records fit a node at each depth decides the
   * size of the record counts stored in the pointers to it.
   */
  private btree2(at: number, visit?: (record: number) => void): void {
    if (!this.first('v2 B-tree', at)) return;
    const O = this.offsetSize;
    const what = `the v2 B-tree header at address ${at}`;
    const covered = 18 + O + this.lengthSize;
    this.structure(what, at, 'BTHD', covered);
    this.checksum(what, at, covered);
    const type = this.byte(at + 5);
    const nodeSize = this.uint(at + 6, 4);
    const recordSize = this.uint(at + 10, 2);
    const depth = this.uint(at + 12, 2);
    const root = this.address(at + 16);
    const rootRecords = this.uint(at + 16 + O, 2);
    const prefix = 10; // signature, version, type and checksum of each node
    const maxRecords = [Math.floor((nodeSize - prefix) / recordSize)];
    if (!(recordSize > 0 && maxRecords[0]! > 0)) problem(`${what} describes nodes that hold no record (corrupt)`);
    const recordCountSize = countBytes(BigInt(maxRecords[0]!));
    const totalCountSizes = [0];
    let cumulative = BigInt(maxRecords[0]!);
    const pointerSize = (level: number): number => O + recordCountSize + totalCountSizes[level - 1]!;
    for (let level = 1; level <= depth; level++) {
      const records = Math.floor((nodeSize - (prefix + pointerSize(level))) / (recordSize + pointerSize(level)));
      cumulative = BigInt(records + 1) * cumulative + BigInt(records);
      if (records < 1 || cumulative >= 2n ** 64n) problem(`${what} gives an impossible depth ${depth} (corrupt)`);
      maxRecords.push(records);
      totalCountSizes.push(countBytes(cumulative));
    }
    if (root === undefined) return;
    const nodes: [node: number, records: number, level: number][] = [[root, rootRecords, depth]];
    for (let next = nodes.pop(); next !== undefined; next = nodes.pop()) {
      const [node, records, level] = next;
      const nodeWhat = `the v2 B-tree ${level === 0 ? 'leaf' : 'internal'} node at address ${node}`;
      if (records > maxRecords[level]!) problem(`${nodeWhat} would hold ${records} records (corrupt)`);
      const pointersAt = node + 6 + records * recordSize;
      const covered = pointersAt - node + (level === 0 ? 0 : (records + 1) * pointerSize(level));
      this.structure(nodeWhat, node, level === 0 ? 'BTLF' : 'BTIN', covered);
      if (this.byte(node + 5) !== type) problem(`${nodeWhat} has type ${this.byte(node + 5)}, its tree ${type} (corrupt)`);
      this.checksum(nodeWhat, node, covered);
      for (let i = 0; i < records; i++) visit?.(node + 6 + i * recordSize);
      for (let i = 0; level > 0 && i <= records; i++) {
        const pointer = pointersAt + i * pointerSize(level);
        const child = this.requiredAddress(pointer, `a child of ${nodeWhat}`);
        nodes.push([child, this.uint(pointer + O, recordCountSize), level - 1]);
      }
    }
  }

  // --- Datasets: chunk indexes and fletcher32 --------------------------------------------------------------

  /** A data layout message (spec IV.A.2.i): the chunk index of a chunked dataset, and its chunks' fletcher32. */
  private layout(message: Message, filters: number[]): void {
    const at = message.at;
    const version = this.byte(at);
    const layoutClass = this.byte(at + 1);
    if (layoutClass !== 2 || (version !== 3 && version !== 4)) return;
    const fletcherLast = filters.length > 0 && filters[filters.length - 1] === FLETCHER32_FILTER;
    const visitChunk: ChunkVisitor | undefined = fletcherLast
      ? (chunk) => this.fletcherChunk(chunk, filters.length - 1)
      : undefined;
    if (version === 3) {
      const dimensionality = this.byte(at + 2);
      const tree = this.address(at + 3);
      if (tree !== undefined && visitChunk) this.chunkBTree(tree, dimensionality, visitChunk);
      return;
    }
    const flags = this.byte(at + 2);
    const dimensionality = this.byte(at + 3);
    let position = at + 5 + dimensionality * this.byte(at + 4);
    const indexType = this.byte(position++);
    const O = this.offsetSize;
    if (indexType === 1) {
      // Single chunk; with filters, its stored size and filter mask precede the address.
      const filtered = (flags & 0x02) !== 0;
      const infoSize = filtered ? this.lengthSize + 4 : 0;
      const address = this.address(position + infoSize);
      if (address !== undefined && filtered && visitChunk) {
        const size = this.uint(position, this.lengthSize);
        visitChunk({ address, size, filterMask: this.uint(position + this.lengthSize, 4) });
      }
      return;
    }
    // Index parameters: implicit none, fixed array 1 byte, extensible array 5, v2 B-tree 6.
    const parameterBytes: Record<number, number> = { 2: 0, 3: 1, 4: 5, 5: 6 };
    if (!(indexType in parameterBytes)) problem(`a data layout message at address ${at} has unknown chunk index type ${indexType} (corrupt)`);
    const index = this.address(position + parameterBytes[indexType]!);
    if (index === undefined) return;
    const entry = (entryAt: number, entrySize: number, filtered: boolean): void => {
      if (!filtered || !visitChunk) return;
      const address = this.address(entryAt);
      const sizeBytes = entrySize - O - 4;
      if (address !== undefined) {
        visitChunk({ address, size: this.uint(entryAt + O, sizeBytes), filterMask: this.uint(entryAt + O + sizeBytes, 4) });
      }
    };
    if (indexType === 3) this.fixedArray(index, entry);
    else if (indexType === 4) this.extensibleArray(index, entry);
    else if (indexType === 5) {
      // Records of filtered chunks (B-tree type 11): address, size, filter mask, then an 8-byte offset per dimension.
      const filteredRecords = this.byte(index + 5) === 11;
      const entrySize = this.uint(index + 10, 2) - 8 * (dimensionality - 1);
      this.btree2(index, (record) => entry(record, entrySize, filteredRecords));
    }
  }

  /** A chunked dataset's version 1 B-tree (spec III.A.1, node type 1): keys give each chunk's size and filter mask. */
  private chunkBTree(root: number, dimensionality: number, visit: ChunkVisitor): void {
    const O = this.offsetSize;
    const keySize = 8 + 8 * dimensionality;
    const nodes = [root];
    for (let node = nodes.pop(); node !== undefined; node = nodes.pop()) {
      if (!this.first('chunk B-tree node', node)) continue;
      const what = `the chunk B-tree node at address ${node}`;
      this.structure(what, node, 'TREE', 8 + 2 * O);
      const level = this.byte(node + 5);
      const entries = this.uint(node + 6, 2);
      const keysAt = node + 8 + 2 * O;
      for (let i = 0; i < entries; i++) {
        const keyAt = keysAt + i * (keySize + O);
        const child = this.requiredAddress(keyAt + keySize, `a child of ${what}`);
        if (level > 0) nodes.push(child);
        else visit({ address: child, size: this.uint(keyAt, 4), filterMask: this.uint(keyAt + 4, 4) });
      }
    }
  }

  /** A fixed array (spec VII.C): header, data block, and the data block's pages when it is paged. */
  private fixedArray(at: number, entry: (at: number, size: number, filtered: boolean) => void): void {
    const O = this.offsetSize;
    const what = `the fixed array header at address ${at}`;
    const covered = 8 + this.lengthSize + O;
    this.structure(what, at, 'FAHD', covered);
    this.checksum(what, at, covered);
    const filtered = this.byte(at + 5) === 1;
    const entrySize = this.byte(at + 6);
    const pageEntries = 2 ** this.byte(at + 7);
    const count = this.uint(at + 8, this.lengthSize);
    const block = this.address(at + 8 + this.lengthSize);
    if (block === undefined) return;
    const blockWhat = `the fixed array data block at address ${block}`;
    const pages = count > pageEntries ? Math.ceil(count / pageEntries) : 0;
    const prefix = 6 + O + Math.ceil(pages / 8); // signature, version, client, header address, page bitmap
    const entries = (first: number, n: number): void => {
      for (let i = 0; i < n; i++) entry(first + i * entrySize, entrySize, filtered);
    };
    this.structure(blockWhat, block, 'FADB', prefix);
    if (pages === 0) {
      this.checksum(blockWhat, block, prefix + count * entrySize);
      entries(block + prefix, count);
      return;
    }
    this.checksum(blockWhat, block, prefix);
    this.pages(block, { at: block + 6 + O, firstBit: 0 }, block + prefix + 4, pages, pageEntries, entrySize, count, entries);
  }

  /**
   * The initialised pages of a paged array data block: each holds `pageEntries` of the block's `count` entries
   * (the last page maybe fewer) followed by its checksum. Page i is initialised when bit firstBit + i of the
   * bitmap is set, bits counted from the most significant bit of each byte.
   */
  private pages(
    block: number,
    bitmap: { at: number; firstBit: number },
    firstPageAt: number,
    pages: number,
    pageEntries: number,
    entrySize: number,
    count: number,
    entries: (first: number, n: number) => void,
  ): void {
    for (let page = 0; page < pages; page++) {
      const bit = bitmap.firstBit + page;
      if (!(this.byte(bitmap.at + (bit >> 3)) & (0x80 >> (bit & 7)))) continue;
      const pageAt = firstPageAt + page * (pageEntries * entrySize + 4);
      const n = Math.min(pageEntries, count - page * pageEntries);
      this.checksum(`page ${page} of the data block at address ${block}`, pageAt, n * entrySize);
      entries(pageAt, n);
    }
  }

  /** An extensible array (spec VII.D): header, index block, super blocks, data blocks and their pages. */
  private extensibleArray(at: number, entry: (at: number, size: number, filtered: boolean) => void): void {
    const O = this.offsetSize;
    const what = `the extensible array header at address ${at}`;
    const covered = 12 + 6 * this.lengthSize + O;
    this.structure(what, at, 'EAHD', covered);
    this.checksum(what, at, covered);
    const filtered = this.byte(at + 5) === 1;
    const entrySize = this.byte(at + 6);
    const maxEntriesBits = this.byte(at + 7);
    const indexBlockEntries = this.byte(at + 8);
    const dataBlockMinEntries = this.byte(at + 9);
    const superBlockMinPointers = this.byte(at + 10);
    const pageEntries = 2 ** this.byte(at + 11);
    const indexBlock = this.address(at + 12 + 6 * this.lengthSize);
    if (!isPowerOfTwo(dataBlockMinEntries) || !isPowerOfTwo(superBlockMinPointers) || maxEntriesBits > 64) {
      problem(`${what} has impossible parameters (corrupt)`);
    }
    if (indexBlock === undefined) return;
    // Super block u holds 2^floor(u/2) data blocks of 2^floor((u+1)/2) * dataBlockMinEntries entries each
    // (libhdf5's H5EA__hdr_init); the first ones' data blocks hang directly off the index block.
    const superBlocks = 1 + maxEntriesBits - log2(dataBlockMinEntries);
    const dataBlocksOf = (u: number): number => 2 ** Math.floor(u / 2);
    const entriesOf = (u: number): number => 2 ** Math.floor((u + 1) / 2) * dataBlockMinEntries;
    const indexSuperBlocks = 2 * log2(superBlockMinPointers);
    const indexDataBlocks = 2 * (superBlockMinPointers - 1);
    const blockOffsetSize = Math.ceil(maxEntriesBits / 8);
    const entries = (first: number, n: number): void => {
      for (let i = 0; i < n; i++) entry(first + i * entrySize, entrySize, filtered);
    };
    const dataBlock = (block: number, n: number, pageBitmap: { at: number; firstBit: number } | undefined): void => {
      const blockWhat = `the extensible array data block at address ${block}`;
      const prefix = 6 + O + blockOffsetSize;
      this.structure(blockWhat, block, 'EADB', prefix);
      const pages = n > pageEntries ? n / pageEntries : 0;
      if (pages === 0) {
        this.checksum(blockWhat, block, prefix + n * entrySize);
        entries(block + prefix, n);
        return;
      }
      this.checksum(blockWhat, block, prefix);
      // Only super blocks record which pages were written; pages of the index block's data blocks go unread.
      if (pageBitmap !== undefined) this.pages(block, pageBitmap, block + prefix + 4, pages, pageEntries, entrySize, n, entries);
    };

    const indexWhat = `the extensible array index block at address ${indexBlock}`;
    const dataPointersAt = indexBlock + 6 + O + indexBlockEntries * entrySize;
    const superPointersAt = dataPointersAt + indexDataBlocks * O;
    const indexCovered = superPointersAt - indexBlock + (superBlocks - indexSuperBlocks) * O;
    this.structure(indexWhat, indexBlock, 'EAIB', indexCovered);
    this.checksum(indexWhat, indexBlock, indexCovered);
    entries(indexBlock + 6 + O, indexBlockEntries);
    let pointer = dataPointersAt;
    for (let u = 0; u < indexSuperBlocks; u++) {
      for (let i = 0; i < dataBlocksOf(u); i++, pointer += O) {
        const block = this.address(pointer);
        if (block !== undefined) dataBlock(block, entriesOf(u), undefined);
      }
    }
    for (let u = indexSuperBlocks; u < superBlocks; u++) {
      const superBlock = this.address(superPointersAt + (u - indexSuperBlocks) * O);
      if (superBlock === undefined) continue;
      const superWhat = `the extensible array super block at address ${superBlock}`;
      const n = entriesOf(u);
      // One bit per page of each data block, in one run (libhdf5 reserves whole bytes per block).
      const pagesPerBlock = n > pageEntries ? n / pageEntries : 0;
      const bitmapAt = superBlock + 6 + O + blockOffsetSize;
      const blocksAt = bitmapAt + dataBlocksOf(u) * Math.ceil(pagesPerBlock / 8);
      const superCovered = blocksAt - superBlock + dataBlocksOf(u) * O;
      this.structure(superWhat, superBlock, 'EASB', superCovered);
      this.checksum(superWhat, superBlock, superCovered);
      for (let i = 0; i < dataBlocksOf(u); i++) {
        const block = this.address(blocksAt + i * O);
        if (block !== undefined) dataBlock(block, n, { at: bitmapAt, firstBit: i * pagesPerBlock });
      }
    }
  }

  /**
   * A chunk whose last filter (the first undone on reading) is fletcher32 ends with the checksum of the bytes
   * before it, stored little-endian; libhdf5 also accepts the byte-swapped value older versions wrote.
   */
  private fletcherChunk({ address, size, filterMask }: Chunk, fletcherIndex: number): void {
    if (filterMask & (1 << fletcherIndex)) return;
    const what = `the data chunk at address ${address}`;
    if (size < 4) problem(`${what} is too short for its fletcher32 checksum (corrupt)`);
    this.need(address, size, what);
    const stored = this.view.getUint32(address + size - 4, true);
    const computed = fletcher32(this.u8, address, address + size - 4);
    const swapped = (((computed & 0x00ff00ff) << 8) | ((computed >>> 8) & 0x00ff00ff)) >>> 0;
    if (stored !== swapped) compare(what, stored, computed, 'fletcher32 checksum');
  }

  // --- Shared object header messages ----------------------------------------------------------------------

  /** The shared message table (spec III.I) a superblock extension points to, with each index's list or B-tree and heap. */
  private sharedMessageTable(messageAt: number): void {
    const O = this.offsetSize;
    const table = this.requiredAddress(messageAt + 1, 'the shared message table');
    const indexes = this.byte(messageAt + 1 + O);
    const what = `the shared message table at address ${table}`;
    const indexSize = 14 + 2 * O;
    this.structure(what, table, 'SMTB', 4 + indexes * indexSize);
    this.checksum(what, table, 4 + indexes * indexSize);
    for (let i = 0; i < indexes; i++) {
      const at = table + 4 + i * indexSize;
      const isList = this.byte(at + 1) === 0;
      const messages = this.uint(at + 12, 2);
      const index = this.address(at + 14);
      const heap = this.address(at + 14 + O);
      if (heap !== undefined) this.fractalHeap(heap);
      if (index === undefined) continue;
      if (!isList) {
        this.btree2(index);
        continue;
      }
      // List entries: location, hash, then a heap reference or an object header reference, whichever is longer.
      const entrySize = 5 + Math.max(12, 4 + O);
      const listWhat = `the shared message list at address ${index}`;
      this.structure(listWhat, index, 'SMLI', 4 + messages * entrySize);
      this.checksum(listWhat, index, 4 + messages * entrySize);
    }
  }
}

/**
 * Throws an H5Problem naming the first structure of the HDF5 file in `file` (bytes from its superblock on)
 * whose checksum does not match, or that a checksummed structure points to but is not there.
 */
export function verifyChecksums(file: FileBytes): void {
  new ChecksumWalk(file).run();
}
