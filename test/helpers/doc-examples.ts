// Runs the TypeScript examples of a guide as a reader would: each ```ts block (a block without imports
// continues the one before it), with 'keras-applications' resolved to this repository's source.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The runnable examples of `doc` (a path from the repository root), in order. */
export function docExamples(doc: string): string[] {
  const text = readFileSync(join(root, doc), 'utf8');
  const examples: string[] = [];
  for (const [, code] of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
    if (/^import /m.test(code!) || examples.length === 0) examples.push(code!);
    else examples[examples.length - 1] += `\n${code}`;
  }
  return examples;
}

/** Runs one example as an ES module and returns what it printed with console.log / console.table. */
export async function runDocExample(code: string): Promise<string> {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const work = mkdtempSync(join(root, '.tmp', 'doc-example-'));
  const file = join(work, 'example.ts');
  const source = join(root, 'src', 'index.ts').replaceAll('\\', '/');
  writeFileSync(file, `${code.replaceAll("from 'keras-applications'", `from '${source}'`)}\nexport {};\n`);
  const printed: string[] = [];
  const { log, table } = console;
  console.log = (...values: unknown[]) => printed.push(values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' '));
  console.table = (value: unknown) => printed.push(JSON.stringify(value));
  try {
    await import(pathToFileURL(file).href);
  } finally {
    console.log = log;
    console.table = table;
    rmSync(work, { recursive: true, force: true });
  }
  return printed.join('\n');
}
