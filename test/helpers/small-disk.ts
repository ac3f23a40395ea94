// Real small file systems for tests of writing on a full disk or into a read-only folder: tmpfs mounts, which
// need root (the tests and CI run as root). Tests skip cleanly elsewhere.
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function tryMount(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'small-disk-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'mounting a tmpfs needs root';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Why small-disk tests are skipped, or undefined when tmpfs can be mounted here. */
export const smallDiskSkipReason = process.getuid?.() === 0 ? tryMount() : 'mounting a tmpfs needs root';

export interface SmallDisk {
  dir: string;
  /** Fills the disk up to `freeBytes` left (rounded to whole pages by tmpfs). */
  fill(freeBytes?: number): void;
  unmount(): void;
}

/** A fresh tmpfs of `bytes`; `readOnly` mounts it read-only (after `populate` has written into it). */
export function mountSmallDisk(bytes: number, { readOnly = false, populate = (_dir: string) => {} } = {}): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'small-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  populate(dir);
  if (readOnly) execFileSync('mount', ['-o', 'remount,ro', dir]);
  return {
    dir,
    fill(freeBytes = 0) {
      const filler = openSync(join(dir, 'filler'), 'w');
      const chunk = new Uint8Array(4096).fill(1);
      try {
        for (;;) writeSync(filler, chunk);
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOSPC') throw error;
        ftruncateSync(filler, Math.max(0, fstatSync(filler).size - freeBytes));
      } finally {
        closeSync(filler);
      }
    },
    unmount() {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
