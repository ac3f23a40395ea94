// Reading the user's files (Node only): only regular files are read, so a FIFO, a device such as /dev/zero, a
// directory or a symlink loop gets a message that says what the path is instead of a hang or an endless read.

/** Input files (images, audio clips) above this size are refused unless the caller raises `maxBytes`. */
export const DEFAULT_MAX_INPUT_BYTES = 256 * 2 ** 20;

/** A file's first bytes in hex, for messages about content that is not what it should be. */
export function firstBytes(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ') || '(empty)';
}

/** A single read() is limited to 2 GiB; smaller chunks also keep other work going. */
const READ_CHUNK_BYTES = 256 * 2 ** 20;

export interface ReadRegularFileOptions {
  /** Refuse a file larger than this many bytes; null for no limit. */
  maxBytes: number | null;
  /** Builds the error for `why` (e.g. "no such file"), naming the path and what the file was for. */
  fail: (why: string) => Error;
  /** The option a caller sets to raise `maxBytes`, named in the message. */
  maxBytesOption?: string;
}

/** The whole regular file at `path`, or `fail(why)`. */
export async function readRegularFile(path: string, options: ReadRegularFileOptions): Promise<Uint8Array> {
  return (await readRegularFileAndStats(path, options)).bytes;
}

/** `readRegularFile`, with the file's stats as they were when it was opened (to notice a later change). */
export async function readRegularFileAndStats(
  path: string,
  options: ReadRegularFileOptions,
): Promise<{ bytes: Uint8Array; stats: import('node:fs').Stats }> {
  const handle = await openRegularFile(path, options.fail);
  try {
    const stats = await handle.stat();
    const { size } = stats;
    if (options.maxBytes !== null && size > options.maxBytes) {
      const raise = options.maxBytesOption ? `; pass a larger \`${options.maxBytesOption}\` to read it` : '';
      throw options.fail(`it has ${size} bytes, more than the limit of ${options.maxBytes}${raise}`);
    }
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await handle.read(bytes, at, Math.min(READ_CHUNK_BYTES, size - at), at);
      if (bytesRead === 0) throw options.fail(`it became shorter while it was read (${at} of ${size} bytes)`);
      at += bytesRead;
    }
    return { bytes, stats };
  } finally {
    await handle.close();
  }
}

/**
 * Opens `path` for reading if it is a regular file. O_NONBLOCK keeps the open itself from waiting for a FIFO's
 * writer; the type is then checked on the open handle, so a file swapped in between cannot slip through.
 */
export async function openRegularFile(path: string, fail: (why: string) => Error): Promise<import('node:fs/promises').FileHandle> {
  const fs = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw fail(openFailure(error));
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw fail(`it is ${fileKind(stats)}, not a regular file`);
  }
  return handle;
}

function openFailure(error: unknown): string {
  switch ((error as { code?: string }).code) {
    case 'ENOENT':
      return 'no such file';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'ELOOP':
      return 'the path is a symbolic link loop';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory, not a regular file';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

function fileKind(stats: import('node:fs').Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}
