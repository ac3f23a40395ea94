// The assertion every fuzz makes of its children's summaries. Apart from fuzz-runner.ts, which the child processes
// import too: they run outside vitest, where importing it fails.
import { expect } from 'vitest';

/** What every fuzz asserts of its children's summaries: no failures, every case counted, and both outcomes seen. */
export function expectLoadedOrRejected(summaries: { loaded: number; rejected: number; failures: unknown[] }[], cases: number): void {
  expect(summaries.flatMap((s) => s.failures)).toEqual([]);
  const loaded = summaries.reduce((n, s) => n + s.loaded, 0);
  const rejected = summaries.reduce((n, s) => n + s.rejected, 0);
  expect(loaded + rejected).toBe(cases);
  // Both outcomes occur, so the mutations do reach the parser and the data.
  expect(loaded).toBeGreaterThan(0);
  expect(rejected).toBeGreaterThan(cases / 20);
}
