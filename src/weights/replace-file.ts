// A file is written beside its path and renamed into place once complete: a failure midway leaves no partial
// file, and a file already at the path stays as it was. Node.js only.

/** Numbers the temporary files, so that two writes to one path at once do not share one. */
let writes = 0;

/** Runs `write` on a temporary path next to `path`, then renames that file to `path`; on failure removes it. */
export async function replaceFile(path: string, write: (partialPath: string) => Promise<void>): Promise<void> {
  const { rename, rm } = await import('node:fs/promises');
  const partial = `${path}.partial-${process.pid}-${++writes}`;
  try {
    await write(partial);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
