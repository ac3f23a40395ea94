// Download progress: throttled reports to a callback, or a one-line bar on a terminal's stderr.

export interface DownloadProgress {
  url: string;
  received: number;
  /** From Content-Length; null when the server does not say. */
  total: number | null;
  /** True when a browser served the file from its cache (one report), not the network. */
  fromCache?: boolean;
}

export interface ProgressReporter {
  update(received: number, total: number | null): void;
  /** Reports the final state if it was throttled away, and ends the progress bar's line. */
  finish(): void;
}

const PROGRESS_INTERVAL_MS = 100;

/**
 * Reports the download of `url` to `onProgress` at most ~10 times a second and once with the final state;
 * without `onProgress`, draws a bar when stderr is a terminal, and reports nothing otherwise.
 */
export function progressReporter(url: string, onProgress?: (progress: DownloadProgress) => void): ProgressReporter {
  const bar = onProgress ? undefined : terminalBar(url);
  const report = onProgress ?? bar?.draw;
  if (!report) return { update() {}, finish() {} };
  let latest: DownloadProgress | undefined;
  let shown: DownloadProgress | undefined;
  let shownAt = 0;
  const show = (progress: DownloadProgress) => {
    report(progress);
    shown = progress;
    shownAt = Date.now();
  };
  return {
    update(received, total) {
      latest = { url, received, total };
      if (Date.now() - shownAt >= PROGRESS_INTERVAL_MS) show(latest);
    },
    finish() {
      if (latest && latest !== shown) show(latest);
      if (shown) bar?.end();
    },
  };
}

/** A one-line bar on stderr, or undefined when stderr is not a terminal (logs, CI, browsers). */
function terminalBar(url: string): { draw(progress: DownloadProgress): void; end(): void } | undefined {
  const stderr = globalThis.process?.stderr;
  if (!stderr?.isTTY) return undefined;
  const name = url.split(/[?#]/)[0]!.split('/').pop()!.slice(0, 40);
  const start = Date.now();
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  return {
    draw({ received, total }) {
      const speed = `${mb(received / Math.max((Date.now() - start) / 1000, 0.001))} MB/s`;
      let amount = `${mb(received)} MB`;
      if (total) {
        const fraction = Math.min(received / total, 1);
        const filled = Math.round(fraction * 20);
        const bar = '='.repeat(filled) + ' '.repeat(20 - filled);
        amount = `${(fraction * 100).toFixed(0).padStart(3)}% [${bar}] ${mb(received)}/${mb(total)} MB`;
      }
      // \x1b[K clears what a longer previous line left behind.
      stderr.write(`\r${name} ${amount}  ${speed}\x1b[K`);
    },
    end() {
      stderr.write('\n');
    },
  };
}
