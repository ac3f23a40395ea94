// Argument checks shared by every public function: each error names the option, the value received and what is allowed.
import { ArgumentError } from './errors';

/** A value as an error message quotes it: strings quoted, arrays as JSON, bytes by length. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `'${value}'`;
  // JSON would spell NaN and Infinity as null.
  if (typeof value === 'number') return String(value);
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return `<${value.byteLength} bytes>`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A boolean option; the error names the option and the value received. */
export function validateBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ArgumentError(`\`${name}\` must be true or false. Received: ${name}=${formatValue(value)}`);
  return value;
}

/** An integer option of at least `min`; the error names the option and the value received. */
export function validateInteger(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ArgumentError(`\`${name}\` must be an integer >= ${min}. Received: ${name}=${formatValue(value)}`);
  }
}

/** `options` must be an object of known option names; a misspelt or snake_case name is an error, not ignored. */
export function checkOptionNames(kerasName: string, options: unknown, allowed: readonly string[]): void {
  if (typeof options !== 'object' || options === null) {
    throw new ArgumentError(`${kerasName} options must be an object. Received: ${formatValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new ArgumentError(`Unknown option \`${key}\` for ${kerasName}. Allowed: ${allowed.join(', ')}`);
  }
}

const warned = new Set<string>();

/**
 * Keras's `warnings.warn`: said once per process for each message, as Python's default warning filter shows a warning
 * once per place it comes from, not on every model built.
 */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(message);
}
