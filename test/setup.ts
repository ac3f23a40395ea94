import { afterEach } from 'vitest';

// wasm kernels run synchronously and `await tensor.data()` resolves as a microtask, so a file of numeric
// tests can hold its worker's event loop for minutes; vitest's worker RPC then times out
// ("Timeout calling onTaskUpdate"). Yielding after each test lets those messages through.
afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
