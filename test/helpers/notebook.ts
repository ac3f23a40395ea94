// The tslab notebooks in docs/notebooks/, read for the tests that run their code cells.
import { readFileSync } from 'node:fs';
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
