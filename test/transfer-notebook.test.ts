import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { notebookDir, notebookWorkspace, readNotebook } from './helpers/notebook';

// docs/notebooks/fine-tuning.ipynb's code cells, run in order as one TypeScript module with tsx, smaller
// (8 samples per photo, 2 epochs a step) and against the sources: `keras-applications` resolves to src/.
const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

const { notebook, codeCells } = readNotebook('fine-tuning.ipynb');

describe('docs/notebooks/fine-tuning.ipynb', () => {
  it('is a tslab notebook', () => {
    expect(notebook.metadata.kernelspec.name).toBe('tslab');
  });

  it('runs: augmented samples shown, the head and then the top blocks trained, the loss falling, nothing leaked', async () => {
    const workspace = notebookWorkspace('notebook-fine-tuning-', codeCells);
    const work = workspace.work;
    try {
      const cells = workspace.cells.map((source) => source.replace(/from 'keras-applications';/, `from '${join(root, 'src/index.ts')}';`));
      writeFileSync(join(work, 'fine-tuning.mts'), cells.join('\n\n'));
      const env = { ...process.env, FINE_TUNE_PER_PHOTO: '8', FINE_TUNE_EPOCHS: '2' };
      const { stdout } = await run(join(root, 'node_modules/.bin/tsx'), [join(work, 'fine-tuning.mts')], { cwd: notebookDir, env });

      expect(stdout).toContain('40 training, 10 validation samples: car_bmw_convertible, cat, dog, elephant, soccer_ball');
      const html = JSON.parse(stdout.split('\n').find((line) => line.startsWith('<<html>>'))!.slice('<<html>>'.length)) as string;
      expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(10);
      const losses = (step: string) => [...stdout.matchAll(new RegExp(`^${step} epoch \\d/2: loss ([0-9.]+)`, 'gm'))].map(([, loss]) => Number(loss));
      expect(losses('head')).toHaveLength(2);
      expect(losses('head')[1]!).toBeLessThan(losses('head')[0]!);
      expect(losses('top blocks')).toHaveLength(2);
      expect(stdout).toContain('trainable: conv_dw_12/depthwise_kernel, conv_pw_12/kernel, conv_dw_13/depthwise_kernel, conv_pw_13/kernel, predictions/kernel, predictions/bias');
      expect(stdout).toContain('tensors left: 0');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
