// The tslab notebooks in docs/notebooks/, read for the tests that run their code cells.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const notebookDir = fileURLToPath(new URL('../../docs/notebooks', import.meta.url));

export interface Notebook {
  metadata: { kernelspec: { name: string } };
  cells: { cell_type: string; source: string | string[] }[];
}

/** `docs/notebooks/<fileName>` and the sources of its code cells, in order. */
export function readNotebook(fileName: string): { notebook: Notebook; codeCells: string[] } {
  const notebook = JSON.parse(readFileSync(join(notebookDir, fileName), 'utf8')) as Notebook;
  const codeCells = notebook.cells.filter((cell) => cell.cell_type === 'code').map((cell) => [cell.source].flat().join(''));
  return { notebook, codeCells };
}

/**
 * A fresh folder under the repository's .tmp/ (inside it, so that `import 'keras-applications'` finds this
 * package by name) with `tslab.ts`, a stand-in for the kernel's display module that prints what a cell displays
 * as a `<<html>>` line; and the cells with their tslab import pointed at it.
 */
export function notebookWorkspace(prefix: string, codeCells: string[]): { work: string; cells: string[] } {
  const tmp = join(notebookDir, '../../.tmp');
  mkdirSync(tmp, { recursive: true });
  const work = mkdtempSync(join(tmp, prefix));
  writeFileSync(join(work, 'tslab.ts'), "export const display = { html: (html: string) => console.log('<<html>>' + JSON.stringify(html)) };\n");
  return { work, cells: codeCells.map((source) => source.replace(/from 'tslab';/, "from './tslab';")) };
}
