// Only regular files are read: FIFOs, devices, directories and symlink loops get a message that says what the path
// is (no hang, no endless read), image files have a size limit, and image headers are checked against Pillow's
// decompression-bomb limits and formats before any pixel is decoded.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli';
import { runCli } from './helpers/cli';
import { ArgumentError, WeightsFileError } from '../src/errors';
import { loadImage, loadImageTensor } from '../src/image/image';
import { readWeightsFile, readWeightsFileDeferred } from '../src/weights/h5';

const ELEPHANT = 'test/data/images/elephant.jpg'; // 700×466 JPEG
let dir: string;
let fifo: string;
let loop: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'keras-special-'));
  fifo = path.join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  loop = path.join(dir, 'loop-a');
  await symlink(path.join(dir, 'loop-b'), loop);
  await symlink(loop, path.join(dir, 'loop-b'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Each kind of path that is not a regular file, with what the message must say it is. */
const SPECIAL_PATHS: [kind: string, message: RegExp][] = [
  ['/dev/zero', /it is a character device, not a regular file/],
  ['a FIFO', /it is a FIFO \(named pipe\), not a regular file/],
  ['a directory', /it is a directory, not a regular file/],
  ['a symlink loop', /the path is a symbolic link loop/],
];

function pathOf(kind: string): string {
  return { '/dev/zero': '/dev/zero', 'a FIFO': fifo, 'a directory': dir, 'a symlink loop': loop }[kind]!;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );
}

/** A PNG that declares `width`×`height` pixels but holds almost no image data: only its header can be read. */
function pngHeaderOnly(width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]));
}

/** The 40-byte-header BMP start of a 1-bit image of `width`×`height` (a 24× amplification per byte). */
function bmpHeaderOnly(width: number, height: number): Uint8Array {
  const bytes = Buffer.alloc(62);
  bytes.write('BM', 0, 'latin1');
  bytes.writeUInt32LE(bytes.length, 2);
  bytes.writeUInt32LE(62, 10);
  bytes.writeUInt32LE(40, 14);
  bytes.writeInt32LE(width, 18);
  bytes.writeInt32LE(height, 22);
  bytes.writeUInt16LE(1, 26);
  bytes.writeUInt16LE(1, 28);
  return new Uint8Array(bytes);
}

describe('image paths that are not regular files', () => {
  it.each(SPECIAL_PATHS)('%s is refused at once, saying what it is', async (kind, message) => {
    const target = pathOf(kind);
    const error = await failure(loadImageTensor(target));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.message).toContain(`Cannot read image '${target}'`);
    expect(error.message).toMatch(message);
  });

  it('the CLI reports /dev/zero as an input error (exit code 4)', async () => {
    const { code, stderr } = await runCli('classify', '/dev/zero', '--model', 'MobileNet', '--weights', 'none');
    expect(code).toBe(EXIT.input);
    expect(stderr).toMatch(/Cannot read image '\/dev\/zero': it is a character device, not a regular file/);
  });
});

describe('weights paths that are not regular files', () => {
  it.each(SPECIAL_PATHS)('%s is refused by both readers', async (kind, message) => {
    const target = pathOf(kind);
    for (const read of [readWeightsFile, readWeightsFileDeferred]) {
      const error = await failure(read(target));
      expect(error).toBeInstanceOf(WeightsFileError);
      expect(error.message).toContain(`Cannot read weights file ${target}: `);
      expect(error.message).toMatch(message);
    }
  });
});

describe('image limits', () => {
  it('refuses a file above maxBytes before reading it, and takes it with a larger limit', async () => {
    const size = (await readFile(ELEPHANT)).byteLength;
    const error = await failure(loadImage(ELEPHANT, { maxBytes: size - 1 }));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.message).toBe(
      `Cannot read image '${ELEPHANT}': it has ${size} bytes, more than the limit of ${size - 1}; pass a larger \`maxBytes\` to read it`,
    );
    expect((await loadImage(ELEPHANT, { maxBytes: size })).width).toBe(700);
  });

  it.each([0, -1, 1.5, '100', Number.NaN])('maxBytes / maxPixels %j is an ArgumentError', async (value) => {
    for (const name of ['maxBytes', 'maxPixels']) {
      const error = await failure(loadImage(ELEPHANT, { [name]: value } as never));
      expect(error).toBeInstanceOf(ArgumentError);
      expect(error.message).toMatch(new RegExp(`^\`${name}\` must be a positive integer or null \\(no limit\\)\\. Received: ${name}=`));
    }
  });

  it("refuses a header above twice maxPixels as Pillow's DecompressionBombError does, before decoding", async () => {
    // 16000² = 256,000,000 pixels > 2 × 89,478,485: refused by default, whatever the file holds.
    for (const bytes of [pngHeaderOnly(16000, 16000), bmpHeaderOnly(16000, 16000)]) {
      const error = await failure(loadImage(bytes));
      expect(error).toBeInstanceOf(ArgumentError);
      expect(error.message).toContain('16000×16000 = 256000000 pixels is more than twice maxPixels (178956970)');
    }
    // The real photo too, with a limit below half its 326,200 pixels.
    const error = await failure(loadImage(ELEPHANT, { maxPixels: 100_000 }));
    expect(error.message).toContain('700×466 = 326200 pixels is more than twice maxPixels (200000)');
  });

  it('warns between maxPixels and twice it, and still decodes', async () => {
    const warnings: Error[] = [];
    const listen = (warning: Error) => warnings.push(warning);
    process.on('warning', listen);
    try {
      const image = await loadImage(ELEPHANT, { maxPixels: 200_000 });
      expect(image.width).toBe(700);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listen);
    }
    expect(warnings.map((w) => [w.name, w.message])).toEqual([
      ['DecompressionBombWarning', `Image '${ELEPHANT}' has 326200 pixels, more than maxPixels (200000): it could be a decompression bomb.`],
    ]);
  });

  it('refuses SVG (which Pillow cannot read) before rendering it', async () => {
    const svg = path.join(dir, 'bomb.svg');
    await writeFile(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="16000" height="16000"><rect width="16000" height="16000"/></svg>');
    const error = await failure(loadImage(svg, { maxPixels: null }));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.message).toMatch(/^Cannot decode image '.*bomb\.svg': it is SVG, which Pillow \(and so Keras's load_img\) cannot read/);
  });
});
