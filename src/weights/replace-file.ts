// Files are written beside their paths, synced, and renamed into place only once complete: a failure midway
// leaves no partial file, and the files already at the paths stay as they were. Node.js only.
import { formatValue } from '../arguments';
import { FileWriteError, KerasApplicationsError } from '../errors';

type Fs = typeof import('node:fs/promises');

/** Numbers the temporary files, so that two writes to one path at once do not share one. */
let writes = 0;

/** What a failed file-system call means for the user, by error code: what happened, and what to do. */
const WRITE_FAILURES: Record<string, [happened: string, remedy: string]> = {
  ENOSPC: ['the disk is full', 'free some space and save again'],
  EDQUOT: ['the disk quota is used up', 'free some space and save again'],
  EFBIG: ['the file is larger than the file system allows', 'save to another file system'],
  ENOENT: ['its folder does not exist', 'create the folder first'],
  ENOTDIR: ['a part of the path is not a folder', 'check the path'],
  EISDIR: ['it is a folder', 'give the path of a file'],
  EROFS: ['the file system is read-only', 'save to a writable folder'],
  EACCES: ['permission denied', 'save to a writable folder'],
  EPERM: ['permission denied', 'save to a writable folder'],
};

/**
 * `error` as a FileWriteError naming `path` when the file system raised it (it has an error `code`); our own
 * errors and anything else (a disposed tensor, say) are returned as they are.
 */
export function asWriteError(error: unknown, path: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof KerasApplicationsError || typeof code !== 'string') return error;
  const [happened, remedy] = WRITE_FAILURES[code] ?? [(error as Error).message, 'check the path and the disk'];
  return writeError(path, `${happened} (${code})`, remedy);
}

/** The FileWriteError for `path`, saying what happened, what to do, and that a previous file is still there. */
export function writeError(path: string, happened: string, remedy: string): FileWriteError {
  return new FileWriteError(`Cannot write ${formatValue(path)}: ${happened}. Nothing was replaced; ${remedy}.`);
}

/** Runs `write` on a temporary path next to `path`, then renames that file to `path`; on failure removes it. */
export async function replaceFile(path: string, write: (partialPath: string) => Promise<void>): Promise<void> {
  await replaceFiles([path], ([partial]) => write(partial!));
}

/**
 * `replaceFile` for files that belong together (a model's `model.json` and its weights): all are written and
 * synced before any is renamed into place.
 */
export async function replaceFiles(paths: string[], write: (partialPaths: string[]) => Promise<void>): Promise<void> {
  const fs = await import('node:fs/promises');
  const id = `${process.pid}-${++writes}`;
  const partials = paths.map((path) => `${path}.partial-${id}`);
  try {
    // Created here so that a missing or read-only folder is reported by Node, not by the writer (h5wasm is silent).
    for (const partial of partials) await (await fs.open(partial, 'wx')).close();
    await write(partials);
    for (const partial of partials) await sync(fs, partial);
    await renameIntoPlace(fs, paths, partials, id);
  } catch (error) {
    await Promise.all(partials.map((partial) => fs.rm(partial, { force: true })));
    // Node's errors name the file they concern: report the path it stands for.
    const concerned = (error as { path?: unknown } | null)?.path;
    throw asWriteError(error, paths.find((path, i) => concerned === path || concerned === partials[i]) ?? paths[0]!);
  }
}

/** Writes the file's data to the disk, where a full or failing disk reports what it could not store. */
async function sync(fs: Fs, path: string): Promise<void> {
  const handle = await fs.open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Renames each of `partials` to its path. One file is replaced atomically by its rename. With several, the
 * previous files are moved aside first, so that a crash between the renames leaves a file missing (a loud
 * failure to load) rather than old and new files mixed; on a failed rename the previous files are put back.
 */
async function renameIntoPlace(fs: Fs, paths: string[], partials: string[], id: string): Promise<void> {
  const previous = paths.length > 1 ? paths.map((path) => `${path}.previous-${id}`) : [];
  /** Whether paths[i] had a file, now at previous[i]. */
  const movedAside: boolean[] = [];
  let renamed = 0;
  try {
    for (const [i, aside] of previous.entries()) {
      movedAside[i] = await fs.rename(paths[i]!, aside).then(
        () => true,
        (error: { code?: unknown }) => (error.code === 'ENOENT' ? false : Promise.reject(error)),
      );
    }
    for (; renamed < paths.length; renamed++) await fs.rename(partials[renamed]!, paths[renamed]!);
  } catch (error) {
    // Best effort: should this fail too, the previous files are still beside their paths, as .previous-… files.
    for (const [i, path] of paths.entries()) {
      if (movedAside[i]) await fs.rename(previous[i]!, path).catch(() => undefined);
      else if (i < renamed) await fs.rm(path, { force: true });
    }
    throw error;
  }
  await Promise.all(previous.map((aside) => fs.rm(aside, { force: true })));
}
