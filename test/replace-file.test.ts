// replaceFiles on a failing rename (fault injected at the fs layer: the next rename to one path fails with EIO),
// which a real disk does not produce on demand: the previous files come back and nothing else is left.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileWriteError } from '../src/errors';
import { replaceFile, replaceFiles } from '../src/weights/replace-file';

const fault = vi.hoisted(() => ({ renameTo: undefined as string | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const rename = async (from: string, to: string): Promise<void> => {
    if (to !== fault.renameTo) return fs.rename(from, to);
    fault.renameTo = undefined;
    throw Object.assign(new Error(`EIO: i/o error, rename '${from}' -> '${to}'`), { code: 'EIO', path: from, dest: to });
  };
  return { ...fs, rename, default: { ...fs, rename } };
});

afterEach(() => {
  fault.renameTo = undefined;
});

/** A folder holding `files` (name → text). */
function folderWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'replace-file-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function contents(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

/** Writes `new <name>` into each partial file. */
const writeNew = (names: string[]) => async (partials: string[]) => {
  partials.forEach((partial, i) => writeFileSync(partial, `new ${names[i]}`));
};

describe('replaceFiles', () => {
  it('replaces every file and leaves nothing else', async () => {
    const dir = folderWith({ 'weights.bin': 'old weights', 'model.json': 'old json' });
    await replaceFiles([join(dir, 'weights.bin'), join(dir, 'model.json')], writeNew(['weights', 'json']));
    expect(contents(dir)).toEqual({ 'model.json': 'new json', 'weights.bin': 'new weights' });
  });

  it('puts the previous files back when the last rename fails', async () => {
    const dir = folderWith({ 'weights.bin': 'old weights', 'model.json': 'old json' });
    fault.renameTo = join(dir, 'model.json');
    const failure = replaceFiles([join(dir, 'weights.bin'), join(dir, 'model.json')], writeNew(['weights', 'json']));
    await expect(failure).rejects.toThrow(FileWriteError);
    await expect(failure).rejects.toThrow(`Cannot write '${join(dir, 'model.json')}': EIO: i/o error`);
    expect(contents(dir)).toEqual({ 'model.json': 'old json', 'weights.bin': 'old weights' });
  });

  it('removes a file it placed where there was none when a later rename fails', async () => {
    const dir = folderWith({ 'model.json': 'old json' });
    fault.renameTo = join(dir, 'model.json');
    await expect(replaceFiles([join(dir, 'weights.bin'), join(dir, 'model.json')], writeNew(['weights', 'json']))).rejects.toThrow(FileWriteError);
    expect(contents(dir)).toEqual({ 'model.json': 'old json' });
  });
});

describe('replaceFile', () => {
  it('keeps the previous file and removes the partial one when the rename fails', async () => {
    const dir = folderWith({ 'features.h5': 'old' });
    fault.renameTo = join(dir, 'features.h5');
    await expect(replaceFile(join(dir, 'features.h5'), async (partial) => writeFileSync(partial, 'new'))).rejects.toThrow(FileWriteError);
    expect(contents(dir)).toEqual({ 'features.h5': 'old' });
  });

  it('passes on what the writer throws that is not a file-system error', async () => {
    const dir = folderWith({});
    await expect(replaceFile(join(dir, 'x'), async () => Promise.reject(new TypeError('not a tensor')))).rejects.toThrow(TypeError);
    expect(contents(dir)).toEqual({});
  });
});
