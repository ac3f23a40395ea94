// The user's own errors stay theirs once the wasm backend has started: tfjs-backend-wasm's Emscripten module installs
// process-wide handlers that rethrow every uncaught error (exit code 7, after the module's minified source).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs `tail` in a child after building a small model on the package's default (wasm) backend from dist/. */
function runAfterBuild(tail: string, extraSetup = '') {
  const script = `
    const m = await import(${JSON.stringify(path.join(ROOT, 'dist/index.js'))});
    ${extraSetup}
    const model = await m.mobilenet({ weights: null, alpha: 0.25, inputShape: [32, 32, 3], includeTop: false });
    if (m.getBackendChoice().backend !== 'wasm') throw new Error('expected the wasm backend');
    model.dispose();
    ${tail}`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
}

describe("the user's own errors, with the wasm backend started", () => {
  it('an uncaught exception prints as Node prints it and exits with code 1', () => {
    const child = runAfterBuild("setTimeout(() => { throw new Error('my own bug'); }, 0);");
    expect(child.status).toBe(1);
    expect(child.stderr).toContain('Error: my own bug');
    expect(child.stderr).not.toContain('tf-backend-wasm');
    expect(child.stderr.length).toBeLessThan(2000);
  });

  it('an unhandled rejection prints as Node prints it and exits with code 1', () => {
    const child = runAfterBuild("Promise.reject(new Error('my own rejection'));");
    expect(child.status).toBe(1);
    expect(child.stderr).toContain('Error: my own rejection');
    expect(child.stderr).not.toContain('tf-backend-wasm');
  });

  it('also with the threaded wasm backend', () => {
    const child = runAfterBuild("setTimeout(() => { throw new Error('my own bug'); }, 0);", 'await m.useThreadedWasmBackend(2);');
    expect(child.status).toBe(1);
    expect(child.stderr).toContain('Error: my own bug');
    expect(child.stderr).not.toContain('tf-backend-wasm');
  });
});
