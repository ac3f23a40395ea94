/** True in Node.js (and Node-compatible runtimes), where files and the weights cache exist. */
export function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

/** True for absolute http(s) and file URLs. */
export function isUrl(value: string): boolean {
  return /^(https?|file):\/\//i.test(value);
}

/** True when `path` names no file: only in Node, and never for a URL (which cannot be checked in advance). */
export async function isMissingFile(path: string): Promise<boolean> {
  if (isUrl(path) || !isNode()) return false;
  const { stat } = await import('node:fs/promises');
  return stat(path).then((s) => !s.isFile(), () => true);
}
